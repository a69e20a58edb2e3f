/**
 * The relay fast path of `reduceServer` against the general rules (`reduceServerRules`): from the
 * same state, every event gives the same effects and the same state, over random sessions of both
 * protocols with well-formed, odd and hostile frames, tight rate and size limits and the passing
 * of time.
 *
 * @module
 */
import { assertEquals } from "@std/assert";
import fc from "fast-check";
import {
  DEFAULT_LIMITS,
  emptyServer,
  nextDeadline,
  reduceServer,
  reduceServerRules,
  type ServerEnv,
  type ServerEvent,
  type ServerState,
} from "../../signaling/lobby.ts";

const limits = {
  ...DEFAULT_LIMITS,
  maxFrameBytes: 60,
  rateLimit: { messages: 6, intervalMs: 100 },
};

/** Deterministic randomness whose position can be saved and restored (both reducers draw). */
function env(): ServerEnv & { save(): () => void } {
  const at = { lobby: 0 };
  const first = (protocol: string) => (protocol === "godot4" ? 2 ** 30 + 101 : 101);
  return {
    limits,
    // Every lobby's k-th member: 101 + k (Godot 3), 2^30 + 101 + k (Godot 4).
    memberIds: {
      newKey: () => [0],
      nth: (_key, protocol, k) => first(protocol) + k,
      indexOf: (_key, protocol, id) => id - first(protocol),
    },
    randomLobbyName: () => `L${++at.lobby}`,
    save() {
      const saved = { ...at };
      return () => Object.assign(at, saved);
    },
  };
}

/** The frames a member may send: relays to ids it may or may not know, odd and hostile ones. */
const relay = fc.tuple(
  fc.constantFrom("C", "O", "A"),
  fc.constantFrom("1", "1", "101", "102", "1073741925"),
).map(([c, id]) => `${c}: ${id}\n0\n0\ncandidate:x`);
const relay4 = fc.constantFrom(
  '{"type":6,"id":1,"data":"\\n0\\n0\\ncandidate:x"}',
  '{"type":6,"id":101,"data":"\\n0\\n0\\ncandidate:x"}',
  '{"type":4,"id":101,"data":"v=0"}',
);
const frame = fc.oneof(
  { weight: 12, arbitrary: relay },
  { weight: 3, arbitrary: relay4 },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "C: 007\nx",
      "C:  1\nx",
      "C: 1 \nx",
      "C: 0\nx",
      "C: 99999999999\nx",
      "C: 2147483648\nx",
      "C: 1",
      "X: 1\nx",
      "C:1\nx",
      "C: 1\n" + "y".repeat(80),
      "S: \n",
      "J: \n",
      "J: L1\n",
      '{"type":6,"id":1,"data":"\\n0\\n0\\ncandidate:x"}',
      '{"type":4,"id":100,"data":"v=0"}',
      '{"type":5,"id":1,"data":"v=0"}',
      '{"type":6,"id":1}',
      '{"type":0,"id":0,"data":""}',
      '{"type":0,"id":1,"data":""}',
      '{"type":0,"id":0,"data":"L1"}',
      "{bad",
    ),
  },
);

type Op =
  | { kind: "open" }
  | { kind: "text"; key: number; text: string }
  | { kind: "close"; key: number }
  | { kind: "binary"; key: number }
  | { kind: "wait"; ms: number }
  | { kind: "tick" };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ kind: "open" as const }) },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant("text" as const),
      key: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 8 })),
      text: frame,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("close" as const),
      key: fc.integer({ min: 1, max: 8 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("binary" as const),
      key: fc.integer({ min: 1, max: 8 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("wait" as const),
      ms: fc.constantFrom(1, 20, 100, 1500),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "tick" as const }) },
);

function sameState(a: ServerState, b: ServerState): void {
  assertEquals(new Map(a.connections), new Map(b.connections));
  assertEquals(new Map(a.lobbies), new Map(b.lobbies));
  assertEquals(nextDeadline(a, limits), nextDeadline(b, limits));
}

Deno.test("relay fast path: same effects and state as the general rules, over random sessions", () => {
  let fastTaken = 0;
  fc.assert(
    fc.property(fc.array(op, { minLength: 40, maxLength: 150 }), (ops: Op[]) => {
      const e = env();
      let state: ServerState = emptyServer;
      let now = 0;
      let nextKey = 1;
      // Three members joined first, so relays have somewhere to go.
      const setup: ServerEvent[] = [
        { type: "Opened", key: nextKey++, now },
        { type: "Opened", key: nextKey++, now },
        { type: "Opened", key: nextKey++, now },
        { type: "Text", key: 1, text: "J: \n", bytes: 4, now },
        { type: "Text", key: 2, text: "J: L1\n", bytes: 6, now },
        { type: "Text", key: 3, text: '{"type":0,"id":0,"data":"L1"}', bytes: 29, now },
      ];
      for (const ev of setup) [state] = reduceServerRules(state, ev, e);
      for (const o of ops) {
        let ev: ServerEvent;
        switch (o.kind) {
          case "open":
            ev = { type: "Opened", key: nextKey++, now };
            break;
          case "text":
            ev = {
              type: "Text",
              key: o.key,
              text: o.text,
              bytes: new TextEncoder().encode(o.text).length,
              now,
            };
            break;
          case "close":
            ev = { type: "Closed", key: o.key, now };
            break;
          case "binary":
            ev = { type: "Binary", key: o.key, now };
            break;
          case "wait":
            now += o.ms;
            continue;
          case "tick":
            ev = { type: "Tick", now };
            break;
        }
        const restore = e.save();
        const [fast, fastEffects] = reduceServer(state, ev, e);
        restore();
        const [slow, slowEffects] = reduceServerRules(state, ev, e);
        if (ev.type === "Text" && fast.lobbies === state.lobbies && fastEffects.length === 1) {
          fastTaken++;
        }
        assertEquals(fastEffects, slowEffects, JSON.stringify(ev));
        sameState(fast, slow);
        state = fast;
      }
    }),
    { numRuns: 500 },
  );
  // The fast path was exercised, not skipped.
  // (About 1,000 times in 500 sessions; far fewer would mean the generator stopped reaching it.)
  assertEquals(fastTaken > 300, true, `fast path taken ${fastTaken} times`);
});
