/**
 * `deno task demo --godot4 --scene` as a user runs it: a TS SceneMultiplayer server and bot
 * clients over the Godot 4 signaling lobby; exits 0 with every bot admitted, seeing the others
 * through relay, receiving state RPCs, chats and relayed bytes.
 */
import { assertEquals, assertMatch } from "@std/assert";

const root = new URL("../../", import.meta.url).pathname;

Deno.test("demo --godot4 --scene: 3 bots hosted by the TS server, exit 0", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "demo/main.ts",
      "--godot4",
      "--scene",
      "--port",
      "0",
      "--peers",
      "3",
      "--duration",
      "1",
    ],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assertEquals(out.code, 0, stdout + new TextDecoder().decode(out.stderr));
  assertMatch(stdout, /^signaling ws:\/\/127\.0\.0\.1:\d+, lobby "[^"]+", RPC node \/root\/Game$/m);
  const bots = [
    ...stdout.matchAll(/^bot (\d+): admitted, sees 2 bots through relay, (\d+) state updates/gm),
  ];
  assertEquals(bots.length, 3, stdout);
  for (const b of bots) assertEquals(Number(b[2]) > 0, true);
  assertMatch(stdout, /^OK: a TS SceneMultiplayer server hosted 3 bots for 1 s$/m);
});
