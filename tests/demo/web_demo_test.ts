import { assertEquals, assertMatch } from "@std/assert";

const root = new URL("../../", import.meta.url).pathname;

Deno.test("demo --web: builds the page, serves it with Deno peers in a lobby, stops on Ctrl-C", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "demo/main.ts", "--web", "--port", "0", "--peers", "2"],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const timer = setTimeout(() => child.kill("SIGKILL"), 60000);
  try {
    while (!/Open the demo page: +\S+/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    const url = /Open the demo page: +(\S+)/.exec(text)?.[1];
    if (!url) throw new Error(`no address printed:\n${text}\n${await stderr}`);
    assertMatch(url, /^http:\/\/127\.0\.0\.1:\d+\/\?lobby=[A-Za-z0-9]{16}$/);
    assertMatch(text, /2 Deno peer\(s\) in lobby/);
    const page = await fetch(url);
    assertEquals(page.status, 200);
    assertMatch(await page.text(), /<script type="module" src="dist\/app\.js">/);
    const app = await fetch(new URL("dist/app.js", url));
    assertEquals(app.headers.get("content-type"), "text/javascript; charset=utf-8");
    assertMatch(await app.text(), /meshState/);
    child.kill("SIGINT");
    while (!(await reader.read()).done) { /* drain */ }
    const status = await child.status;
    assertEquals(status.code, 0, await stderr);
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
    await stderr;
  }
});
