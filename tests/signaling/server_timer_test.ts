/**
 * The driver's timers (issue 15): one timer for the whole server whatever the number of sockets
 * (the next deadline of its rules), none touched by relayed frames, and the no-join timeout still
 * closing exactly the sockets that never joined.
 *
 * @module
 */
import { assertEquals } from "@std/assert";
import { SignalingServer, type SignalingSocket } from "../../signaling/server.ts";
import { Reasons } from "../../signaling/protocol.ts";

Deno.test("driver: one timer for 1,000 sockets, none set or cleared by relays, no-join timeout still closes the idle ones", async () => {
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const live = new Set<ReturnType<typeof setTimeout>>();
  let sets = 0;
  let clears = 0;
  let maxLive = 0;
  globalThis.setTimeout = ((f: () => void, ms?: number) => {
    const id = realSet(() => {
      live.delete(id);
      f();
    }, ms);
    live.add(id);
    sets++;
    maxLive = Math.max(maxLive, live.size);
    return id;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((id: ReturnType<typeof setTimeout>) => {
    if (live.delete(id)) clears++;
    realClear(id);
  }) as typeof clearTimeout;
  let now = 0;
  const server = new SignalingServer({ now: () => now, limits: { joinTimeoutMs: 50 } });
  try {
    const sent = new Map<number, string[]>();
    const closed = new Map<number, string>();
    const conns = [];
    for (let i = 0; i < 1000; i++) {
      now += 0.01;
      const socket: SignalingSocket = {
        send: (t) => sent.set(i, [...sent.get(i) ?? [], t]),
        close: (_code, reason) => closed.set(i, reason),
      };
      conns.push(server.open(socket));
    }
    // Sockets 0..899 join in pairs (host, guest); 900..999 never join.
    for (let i = 0; i < 900; i += 2) {
      conns[i].message("J: \n");
      const name = sent.get(i)!.at(-1)!.slice(3).trim();
      conns[i + 1].message(`J: ${name}\n`);
    }
    assertEquals(maxLive, 1, "one timer at a time for the whole server");
    const before = { sets, clears };
    for (let round = 0; round < 10; round++) {
      for (let i = 1; i < 900; i += 2) conns[i].message("C: 1\n0\n0\ncandidate:x");
    }
    assertEquals({ sets, clears }, before, "4,500 relays set and clear no timer");
    assertEquals(sent.get(0)!.filter((t) => t.startsWith("C: ")).length, 10);
    now += 100;
    await new Promise((r) => realSet(r, 120));
    assertEquals(closed.size, 100);
    for (let i = 900; i < 1000; i++) assertEquals(closed.get(i), Reasons.NO_LOBBY);
    assertEquals(live.size, 0, "nothing left to wait for: no timer");
  } finally {
    server.shutdown();
    globalThis.setTimeout = realSet;
    globalThis.clearTimeout = realClear;
  }
});
