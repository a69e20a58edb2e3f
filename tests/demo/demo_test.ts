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

for (
  const [flags, shape] of [
    [["--godot4", "--client-server"], "a client/server lobby"],
    [["--mixed"], "a full mesh of Godot 3 and Godot 4 peers"],
  ] as const
) {
  Deno.test(`demo ${flags.join(" ")}: 3 peer processes, every packet arrives`, async () => {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "demo/main.ts", "--peers", "3", "--duration", "1", ...flags],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stdout);
    assertEquals(code, 0, text + new TextDecoder().decode(stderr));
    assertMatch(text, new RegExp(`OK: 3 peers formed ${shape}`));
  });
}
