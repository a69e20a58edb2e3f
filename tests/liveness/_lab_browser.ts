/**
 * Headless Chromium as a lab peer (run inside a lab namespace with `ip netns exec`): bundles
 * `_lab_page.ts`, opens a blank page with it, joins `lobby` at `url` with the JSON join options
 * given, and then speaks exactly as `tests/network/_lab_peer.ts` does: the page's events as JSON
 * lines on stdout, commands as JSON lines on stdin (`quit` ends it). Not a test file.
 *
 * Usage: `_lab_browser.ts <url> <lobby> '<JSON join options>'`.
 *
 * @module
 */
import { chromium } from "playwright-core";
import { lines } from "../../demo/_lines.ts";
import { bundlePage, CHROMIUM, CHROMIUM_ARGS } from "../web/_chromium.ts";

const [url, lobby, optionsText] = Deno.args;
const script = await bundlePage(new URL("./_lab_page.ts", import.meta.url));

type Page = {
  labPage: { events: unknown[]; join(...a: unknown[]): Promise<void>; run(c: unknown): void };
};
const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
try {
  const page = await browser.newPage();
  page.on("console", (m) => console.error(`page: ${m.text()}`));
  await page.addScriptTag({ content: script, type: "module" });
  await page.waitForFunction(() => "labPage" in globalThis);
  await page.evaluate(
    ([u, l, o]) => (globalThis as unknown as Page).labPage.join(u, l, JSON.parse(o)),
    [url, lobby, optionsText] as const,
  );
  let shown = 0;
  let done = false;
  const relay = (async () => {
    while (!done) {
      const fresh = await page.evaluate(
        (from) => (globalThis as unknown as Page).labPage.events.slice(from),
        shown,
      ) as unknown[];
      for (const e of fresh) console.log(JSON.stringify(e));
      shown += fresh.length;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  for await (const line of lines(Deno.stdin.readable)) {
    const command = JSON.parse(line) as { cmd: string };
    if (command.cmd === "quit") break;
    await page.evaluate((c) => (globalThis as unknown as Page).labPage.run(c), command);
  }
  done = true;
  await relay;
} finally {
  await browser.close();
}
Deno.exit(0);
