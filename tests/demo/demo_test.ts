import { assertEquals, assertMatch } from "@std/assert";

const root = new URL("../../", import.meta.url).pathname;

Deno.test("demo: 3 peers in separate processes form a mesh and every packet arrives", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "demo/main.ts", "--peers", "3", "--duration", "1"],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout);
  assertEquals(code, 0, text + new TextDecoder().decode(stderr));
  assertMatch(text, /OK: 3 peers formed a full mesh/);
  assertMatch(text, /Summary/);
});
