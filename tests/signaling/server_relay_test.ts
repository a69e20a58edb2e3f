/**
 * The driver's relay fast path (issue 15): a server whose steps nobody observes takes the rules'
 * `relay` straight from a socket's frame; one with an observer goes through `reduceServer` for
 * every event. Both must send, close and end in the same state, frame for frame, across relays of
 * both protocols, a flood beyond the rate limit, oversized frames, bad and departed destinations.
 *
 * @module
 */
import { assertEquals } from "@std/assert";
import { SignalingServer } from "../../signaling/server.ts";
import { scriptedIds } from "./_lobby_harness.ts";
import type { ServerState } from "../../signaling/lobby.ts";

type Out = [number, string];

function run(observed: boolean): { out: Out[]; state: ServerState; observedRelays: number } {
  let now = 0;
  let observedRelays = 0;
  const server = new SignalingServer({
    now: () => now,
    limits: { maxFrameBytes: 200, rateLimit: { messages: 5, intervalMs: 100 } },
    randomLobbyName: () => "L",
    memberIds: (() => {
      let n = 0;
      // Godot 3 ids, then Godot 4 ones: both protocols in one lobby.
      return scriptedIds(() => (++n % 2 === 1 ? 100 + n : 2 ** 30 + n));
    })(),
    observe: observed ? (s) => s.event.type === "Text" && observedRelays++ : undefined,
  });
  const out: Out[] = [];
  const socket = (i: number) => ({
    send: (text: string) => out.push([i, text]),
    close: (code: number, reason: string) => out.push([i, `close ${code} ${reason}`]),
  });
  const c = [0, 1, 2, 3].map((i) => server.open(socket(i)));
  c[0].message("J: \n");
  c[1].message("J: L\n");
  c[2].message('{"type":0,"id":0,"data":"L"}');
  c[3].message("J: L\n");
  const ids = new Map<number, number>();
  for (const [i, text] of out) {
    const m = /^I: (\d+)/.exec(text) ?? /"type":1,"id":(\d+)/.exec(text);
    if (m) ids.set(i, Number(m[1]));
  }
  const frames: [number, string][] = [
    [1, "C: 1\n0\n0\ncandidate:a"],
    [0, `O: ${ids.get(1)}\nv=0`],
    [2, '{"type":6,"id":1,"data":"\\n0\\n0\\ncandidate:b"}'],
    [0, `C: ${ids.get(2)}\n0\n0\ncandidate:c`],
    [1, "C: 1\n" + "x".repeat(300)], // too big: closes 1
    [3, `C: ${ids.get(1)}\nx`], // 1 has left: dropped
    [3, "C: 999\nx"], // never a member: closes 3
  ];
  for (const [i, text] of frames) {
    now += 1;
    c[i].message(text);
  }
  // A flood from the host, its bucket full again: five frames pass (one peer left: 5 per 100 ms),
  // the next one closes it.
  now += 200;
  for (let k = 0; k < 8; k++) c[0].message(`C: ${ids.get(2)}\n0\n0\ncandidate:${k}`);
  const state = server.state;
  server.shutdown();
  return { out, state, observedRelays };
}

Deno.test("driver: the unobserved relay fast path sends, closes and ends exactly as the observed steps", () => {
  const fast = run(false);
  const slow = run(true);
  assertEquals(fast.out, slow.out);
  assertEquals(new Map(fast.state.connections), new Map(slow.state.connections));
  assertEquals(new Map(fast.state.lobbies), new Map(slow.state.lobbies));
  // Every event went through the observed steps; the fast run's relays were delivered the same.
  assertEquals(slow.observedRelays > 11, true);
  const texts = fast.out.map(([i, t]) => `${i} ${t}`);
  for (const delivered of ["1 O: 1\nv=0", "0 C: 101\n0\n0\ncandidate:a"]) {
    assertEquals(texts.includes(delivered), true, delivered);
  }
  // Godot 3 to Godot 4: the candidate in Godot 4's JSON.
  assertEquals(texts.filter((t) => /^2 \{"type":6,"id":1,.*candidate:[c0-9]"/.test(t)).length, 6);
  assertEquals(texts.includes("0 close 4000 Too many messages"), true, texts.join("; "));
  assertEquals(texts.includes("1 close 4000 Message too big"), true, texts.join("; "));
});
