/**
 * Property tests of the reducer over random event sequences: requests with valid and invalid
 * arguments, and observations in any order (including events of unknown peers).
 */
import fc from "fast-check";
import { assert, assertEquals } from "@std/assert";
import {
  type ChannelIndex,
  type ChannelState,
  ConnectionStatus,
  type Event,
  initialState,
  isPeerReady,
  type MeshState,
  PEER_CONNECTION_STATES,
  type PeerConnectionState,
  type PeerState,
  reduce,
} from "../../core/mod.ts";
import {
  assertReplies,
  assertSignalsAlternate,
  bursts,
  deepFreeze,
  observations,
  possible,
  run,
  type Step,
  where,
  withCreateFailure,
} from "./_property.ts";

const RUNS = { numRuns: 1000 };

const TERMINAL_CONNECTION = new Set<string>(["disconnected", "failed", "closed"]);

// ---------------------------------------------------------------------------------------------
// Generators

/** Mostly small valid ids, sometimes anything a JavaScript caller could pass. */
const anyId: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 6 }), weight: 12 },
  {
    arbitrary: fc.constantFrom<unknown>(
      0,
      -0,
      -1,
      -3,
      2 ** 31,
      2 ** 31 - 1,
      1.5,
      NaN,
      Infinity,
      "3",
      undefined,
    ),
    weight: 2,
  },
);
/** Ids observations carry: the interpreter only reports peers it knows, plus strays. */
const obsId = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 6 }), weight: 10 },
  { arbitrary: fc.constantFrom(0, -1, 2 ** 31 - 1, 1.5, NaN), weight: 1 },
);
const channelIndex = fc.constantFrom<ChannelIndex>(0, 1, 2);

const initialize = fc.record({
  type: fc.constant("InitializeRequested"),
  peerId: anyId,
  serverCompatibility: fc.oneof(
    { arbitrary: fc.boolean(), weight: 10 },
    { arbitrary: fc.constantFrom<unknown>("yes", 1, undefined), weight: 1 },
  ),
}) as fc.Arbitrary<Event>;

const connection = fc.oneof(
  {
    arbitrary: fc.record({
      w3c: fc.constant(true),
      state: fc.oneof(
        { arbitrary: fc.constant("new"), weight: 10 },
        { arbitrary: fc.constantFrom(...PEER_CONNECTION_STATES, "bogus"), weight: 1 },
      ),
      description: fc.constant("RTCPeerConnection"),
    }),
    weight: 10,
  },
  {
    arbitrary: fc.record({
      w3c: fc.constant(false),
      state: fc.constantFrom("", "new"),
      description: fc.constantFrom("null", "undefined", "an object", "a WebSocket"),
    }),
    weight: 1,
  },
);

const addPeer = withCreateFailure(
  fc.record({
    type: fc.constant("AddPeerRequested"),
    peerId: anyId,
    lifetime: fc.oneof(
      { arbitrary: fc.constantFrom(0, 1, 250, 65535), weight: 10 },
      { arbitrary: fc.constantFrom<unknown>(-1, 65536, 1.5, NaN, "1", undefined), weight: 1 },
    ),
    connection,
  }),
);

const setters = fc.oneof(
  fc.record({
    type: fc.constant("RefuseNewConnectionsSet"),
    value: fc.constantFrom<unknown>(true, false, false, 1, "true", null),
  }),
  fc.record({
    type: fc.constant("TransferModeSet"),
    value: fc.constantFrom<unknown>(0, 1, 2, 3, -1, "2", 1.5),
  }),
  fc.record({
    type: fc.constant("TargetPeerSet"),
    value: fc.constantFrom<unknown>(0, -0, 1, 3, -3, 2 ** 31 - 1, 2 ** 31, 1.5, NaN, "1"),
  }),
) as fc.Arbitrary<Event>;

const observation = observations(obsId, channelIndex);

const { connect: connectBurst, join: joinBurst } = bursts(6, 3);

const step: fc.Arbitrary<Event[]> = fc.oneof(
  { arbitrary: joinBurst, weight: 6 },
  { arbitrary: initialize.map((e) => [e]), weight: 2 },
  { arbitrary: addPeer, weight: 6 },
  {
    arbitrary: anyId.map((peerId) => [{ type: "RemovePeerRequested", peerId } as Event]),
    weight: 2,
  },
  { arbitrary: fc.constant<Event[]>([{ type: "CloseRequested" }]), weight: 1 },
  { arbitrary: setters.map((e) => [e]), weight: 1 },
  { arbitrary: observation.map((e) => [e]), weight: 10 },
  { arbitrary: connectBurst, weight: 5 },
);

/** Usually start initialized (often as a server-compatible client) so that peers get announced. */
const opening: fc.Arbitrary<Event[]> = fc.oneof(
  { arbitrary: fc.constant<Event[]>([]), weight: 1 },
  {
    arbitrary: fc.tuple(fc.integer({ min: 1, max: 6 }), fc.boolean()).map((
      [peerId, serverCompatibility],
    ): Event[] => [{ type: "InitializeRequested", peerId, serverCompatibility }]),
    weight: 3,
  },
);

/** A random story: an event sequence of up to ~150 events. */
const script: fc.Arbitrary<Event[]> = fc.tuple(
  opening,
  fc.array(step, { minLength: 1, maxLength: 40, size: "max" }),
).map(([start, steps]) => [...start, ...steps.flat()]);

// ---------------------------------------------------------------------------------------------
// Running a script with every input frozen: ./_property.ts

function isCompatClient(state: MeshState): boolean {
  return state.serverCompatibility && state.uniqueId !== 1 && state.uniqueId !== 0;
}

function peerValid(state: MeshState, id: number, peer: PeerState): boolean {
  return Number.isInteger(id) && id >= 1 && id <= 2147483647 && id !== state.uniqueId &&
    peer.id === id;
}

// ---------------------------------------------------------------------------------------------
// Properties

Deno.test("property: reduce never throws and never mutates its input", () => {
  fc.assert(
    fc.property(script, (events) => {
      run(events); // throws on a throw or a mutation
    }),
    RUNS,
  );
});

Deno.test("property: peer_connected/peer_disconnected alternate per id and match `announced`", () => {
  fc.assert(
    fc.property(script, (events) => {
      assertSignalsAlternate(run(events));
    }),
    RUNS,
  );
});

Deno.test("property: server compatibility gates announcements behind peer 1", () => {
  fc.assert(
    fc.property(script, (events) => {
      let serverUp = false;
      for (const s of run(events)) {
        if (s.event.type === "InitializeRequested" && s.after !== s.before) serverUp = false;
        if (s.event.type === "CloseRequested") serverUp = false;
        s.effects.forEach((e, i) => {
          if (e.type !== "Emit") return;
          if (e.signal === "connection_succeeded") {
            assert(isCompatClient(s.after), `connection_succeeded without compat: ${where(s)}`);
            const prev = s.effects[i - 1];
            assert(
              prev?.type === "Emit" && prev.signal === "peer_connected" && prev.peerId === 1,
              `connection_succeeded not right after peer_connected(1): ${where(s)}`,
            );
            assertEquals(s.after.status, ConnectionStatus.CONNECTED);
          } else if (e.signal === "server_disconnected") {
            assert(isCompatClient(s.before), `server_disconnected without compat: ${where(s)}`);
            const prev = s.effects[i - 1];
            assert(
              prev?.type === "Emit" && prev.signal === "peer_disconnected" && prev.peerId === 1,
            );
            assertEquals(s.after.status, ConnectionStatus.DISCONNECTED);
            serverUp = false;
          } else if (e.signal === "peer_connected" && isCompatClient(s.after)) {
            if (e.peerId === 1) {
              serverUp = true;
              const next = s.effects[i + 1];
              assert(next?.type === "Emit" && next.signal === "connection_succeeded", where(s));
            } else {
              assert(serverUp, `peer_connected(${e.peerId}) before the server: ${where(s)}`);
            }
          }
        });
        if (isCompatClient(s.after)) {
          assertEquals(
            s.after.status === ConnectionStatus.CONNECTED,
            serverUp,
            `status vs server: ${where(s)}`,
          );
        }
      }
    }),
    RUNS,
  );
});

Deno.test("property: requests get exactly one Reply, rejections keep the very same state", () => {
  fc.assert(
    fc.property(script, (events) => {
      for (const s of run(events)) assertReplies(s);
    }),
    RUNS,
  );
});

Deno.test("property: peers are valid, announced peers never dropped-but-kept, ready peers announced", () => {
  fc.assert(
    fc.property(script, (events) => {
      for (const s of run(events)) {
        const st = s.after;
        for (const [id, peer] of st.peers) {
          assert(peerValid(st, id, peer), `invalid peer ${id} (own ${st.uniqueId}): ${where(s)}`);
          if (peer.announced) {
            assert(!TERMINAL_CONNECTION.has(peer.connectionState), where(s));
            assert(peer.channels.every((c) => c === "connecting" || c === "open"), where(s));
            const was = s.before.peers.get(id);
            if (!was?.announced) {
              assert(isPeerReady(peer), `announced while not ready: ${where(s)}`);
            }
          }
          // Rule 4: once nothing gates announcements, no ready peer is left unannounced.
          if (st.status === ConnectionStatus.CONNECTED && isPeerReady(peer)) {
            assert(peer.announced, `ready peer ${id} not announced: ${where(s)}`);
          }
        }
        if (st.uniqueId === 0) assertEquals(st.status, ConnectionStatus.DISCONNECTED, where(s));
        // Removed peers are closed.
        for (const id of s.before.peers.keys()) {
          if (!st.peers.has(id)) {
            assert(
              s.effects.some((e) =>
                (e.type === "ClosePeer" || e.type === "DiscardChannels") && e.peerId === id
              ),
              `peer ${id} dropped without closing: ${where(s)}`,
            );
          }
        }
      }
    }),
    RUNS,
  );
});

Deno.test("property: close() empties the mesh, resets id/target/status, emits nothing", () => {
  fc.assert(
    fc.property(script, (events) => {
      for (const s of run([...events, { type: "CloseRequested" }])) {
        if (s.event.type !== "CloseRequested") continue;
        const st = s.after;
        assertEquals([st.peers.size, st.uniqueId, st.targetPeer, st.status], [0, 0, 0, 0]);
        assertEquals(st.serverCompatibility, false);
        assertEquals(s.effects.filter((e) => e.type === "Emit"), [], where(s));
        const closed = s.effects.flatMap((e) => e.type === "ClosePeer" ? [e.peerId] : []);
        assertEquals(closed, [...s.before.peers.keys()].sort((a, b) => a - b), where(s));
        assert(s.effects.some((e) => e.type === "DropPackets"), where(s));
      }
    }),
    RUNS,
  );
});

// With observations that follow the W3C state machines (no going back), an announced peer is
// always exactly ready: connection "connected" and all three channels "open".

const CONNECTION_NEXT: Record<PeerConnectionState, PeerConnectionState[]> = {
  new: ["connecting", "connected", "failed", "closed"],
  connecting: ["connected", "failed", "closed"],
  connected: ["disconnected", "failed", "closed"],
  disconnected: ["closed"],
  failed: ["closed"],
  closed: ["closed"],
};
const CHANNEL_NEXT: Record<ChannelState, ChannelState[]> = {
  connecting: ["open", "closing", "closed"],
  open: ["closing", "closed"],
  closing: ["closed"],
  closed: ["closed"],
};

/** Rewrites each observation of a known peer into a legal successor of what the state holds. */
function runLegal(events: readonly Event[], choices: readonly number[]): Step[] {
  const steps: Step[] = [];
  let state: MeshState = initialState;
  events.forEach((raw, k) => {
    if (!possible(raw, steps.at(-1))) return;
    let event = raw;
    const pick = <T>(options: T[]) => options[choices[k % choices.length] % options.length];
    if (event.type === "ConnectionStateChanged") {
      const peer = state.peers.get(event.peerId);
      // Mostly move forward along the happy path; sometimes any legal successor.
      if (peer !== undefined) {
        const next = CONNECTION_NEXT[peer.connectionState];
        const happy = next.includes("connected") && choices[k % choices.length] % 3 !== 0;
        event = { ...event, state: happy ? "connected" : pick(next) };
      }
    } else if (event.type === "ChannelStateChanged") {
      const peer = state.peers.get(event.peerId);
      if (peer !== undefined) {
        const current = peer.channels[event.channel];
        const happy = current === "connecting" && choices[k % choices.length] % 5 !== 0;
        event = { ...event, state: happy ? "open" : pick(CHANNEL_NEXT[current]) };
      }
    }
    const [after, effects] = reduce(deepFreeze(state), event);
    steps.push({ event, before: state, after, effects });
    state = after;
  });
  return steps;
}

Deno.test("property: with W3C-legal observations an announced peer is always ready", () => {
  fc.assert(
    fc.property(
      script,
      fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 20 }),
      (events, choices) => {
        for (const s of runLegal(events, choices)) {
          for (const peer of s.after.peers.values()) {
            if (peer.announced) assert(isPeerReady(peer), `announced but not ready: ${where(s)}`);
          }
        }
      },
    ),
    RUNS,
  );
});
