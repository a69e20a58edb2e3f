/**
 * The lobby rules' cost structure (issue 15): a relayed frame changes its sender and nothing else
 * (no copy of the lobbies or of other connections), and the deadline queues give the same next
 * deadline as a scan of every connection and lobby would, whatever joins, leaves and seals
 * happen in between.
 *
 * @module
 */
import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import fc from "fast-check";
import {
  type Connection,
  DEFAULT_LIMITS,
  nextDeadline,
  type ServerState,
} from "../../signaling/lobby.ts";
import { Reasons } from "../../signaling/protocol.ts";
import { close, harness, send } from "./_lobby_harness.ts";

/** The next deadline by brute force: every unjoined connection and every sealed lobby. */
function scanDeadline(state: ServerState): number | undefined {
  const all = [
    ...[...state.connections.values()].filter((c: Connection) => c.lobby === "")
      .map((c) => c.openedAt + DEFAULT_LIMITS.joinTimeoutMs),
    ...[...state.lobbies.values()].filter((l) => l.sealedAt !== undefined)
      .map((l) => l.sealedAt! + DEFAULT_LIMITS.sealTimeoutMs),
  ];
  return all.length === 0 ? undefined : Math.min(...all);
}

Deno.test("relay: only the sender's connection changes; lobbies and every other connection are the same objects", () => {
  const h = harness();
  for (let k = 1; k <= 50; k++) h.open(k);
  h.text(1, "J: \n");
  h.text(2, "J: L1\n");
  for (let k = 3; k <= 50; k += 2) {
    h.text(k, "J: \n");
    h.text(k + 1, `J: L${(k + 1) / 2}\n`);
  }
  const before = h.state;
  assertEquals(h.text(2, "C: 1\n0\n0\ncandidate:x"), [send(1, "C: 100\n0\n0\ncandidate:x")]);
  const after = h.state;
  assertStrictEquals(after.lobbies, before.lobbies);
  assertStrictEquals(after.waiting, before.waiting);
  assertStrictEquals(after.sealing, before.sealing);
  for (const [key, conn] of before.connections) {
    if (key !== 2) assertStrictEquals(after.connections.get(key), conn);
  }
  assertEquals(after.connections.get(2)!.tokens, before.connections.get(2)!.tokens - 1);
  assertEquals(after.connections.get(2)!.refilledAt, 0);
});

Deno.test("deadlines: the queues' front gives the next deadline as joins, leaves and seals happen", () => {
  const h = harness();
  h.at(0);
  h.open(1);
  h.at(10);
  h.open(2);
  h.at(20);
  h.open(3);
  assertEquals(nextDeadline(h.state, h.env.limits), 1000);
  h.at(30);
  h.text(1, "J: \n"); // 1 joined: 2 is the oldest waiting
  assertEquals(nextDeadline(h.state, h.env.limits), 1010);
  h.at(40);
  h.closed(2);
  assertEquals(nextDeadline(h.state, h.env.limits), 1020);
  h.at(50);
  h.text(1, "S: \n");
  assertEquals(nextDeadline(h.state, h.env.limits), 1020);
  h.at(1020);
  assertEquals(h.tick(), [close(3, Reasons.NO_LOBBY)]);
  assertEquals(nextDeadline(h.state, h.env.limits), 10050);
  h.at(10050);
  assertEquals(h.tick(), [close(1, Reasons.SEAL_COMPLETE, 1000)]);
  assertEquals(nextDeadline(h.state, h.env.limits), undefined);
  assertEquals([h.state.waiting.size, h.state.sealing.size], [0, 0]);
});

type Step = {
  op: "open" | "join" | "create" | "close" | "seal" | "relay" | "tick";
  key: number;
  dt: number;
};

Deno.test("deadlines: nextDeadline equals a scan of every connection and lobby after any sequence", () => {
  const step = fc.record({
    op: fc.constantFrom("open", "join", "create", "close", "seal", "relay", "tick"),
    key: fc.integer({ min: 1, max: 12 }),
    dt: fc.constantFrom(0, 1, 100, 400, 1000, 5000, 12000),
  }) as fc.Arbitrary<Step>;
  fc.assert(
    fc.property(fc.array(step, { maxLength: 80 }), (steps: Step[]) => {
      const h = harness();
      let now = 0;
      let nextKey = 1;
      for (const s of steps) {
        now += s.dt;
        h.at(now);
        const conn = h.state.connections.get(s.key);
        switch (s.op) {
          case "open":
            h.open(nextKey++); // keys are handed out in order, as the driver does
            break;
          case "create":
            h.text(s.key, "J: \n");
            break;
          case "join": {
            const names = [...h.state.lobbies.keys()];
            h.text(s.key, `J: ${names[s.key % Math.max(1, names.length)] ?? "nope"}\n`);
            break;
          }
          case "close":
            h.closed(s.key);
            break;
          case "seal":
            h.text(s.key, "S: \n");
            break;
          case "relay":
            if (conn && conn.id !== 0) h.text(s.key, "C: 1\n0\n0\ncandidate:x");
            break;
          case "tick": {
            const due = nextDeadline(h.state, h.env.limits);
            if (due !== undefined && due <= now) {
              h.tick();
              const later = nextDeadline(h.state, h.env.limits);
              assert(later === undefined || later > now, "a tick leaves nothing due");
            }
            break;
          }
        }
        assertEquals(nextDeadline(h.state, h.env.limits), scanDeadline(h.state));
      }
    }),
    { numRuns: 400 },
  );
});
