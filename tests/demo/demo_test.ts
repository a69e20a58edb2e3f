import { assertEquals, assertMatch } from "@std/assert";

const root = new URL("../../", import.meta.url).pathname;

for (
  const [flags, shape] of [
    [[], "a full mesh"],
    [["--godot4", "--client-server"], "a client/server lobby"],
    [["--mixed"], "a full mesh of Godot 3 and Godot 4 peers"],
  ] as const
) {
  const name = flags.length === 0 ? "demo" : `demo ${flags.join(" ")}`;
  Deno.test(`${name}: 3 peers in separate processes form ${shape}, every packet arrives`, async () => {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "demo/main.ts", "--peers", "3", "--duration", "1", ...flags],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stdout);
    assertEquals(code, 0, text + new TextDecoder().decode(stderr));
    assertMatch(text, new RegExp(`OK: 3 peers formed ${shape}`));
    assertMatch(text, /Summary/);
  });
}
