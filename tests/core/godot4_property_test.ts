/**
 * Property tests of the Godot 4 rules over random request sequences from `initialGodot4State`:
 * create calls with any config, peers added and removed, `disconnectPeer` with and without force,
 * `transferChannel`, and observations of any channel index in any order. The reducer never throws,
 * never mutates its input, and never leaves a state Godot 4 could not be in.
 */
import fc from "fast-check";
import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import {
  ConnectionStatus,
  type Event,
  initialGodot4State,
  type MeshState,
  TransferMode,
} from "../../core/mod.ts";
import {
  assertReplies,
  assertSignalsAlternate,
  bursts,
  observations,
  run,
  type Step,
  where,
  withCreateFailure,
} from "./_property.ts";

const RUNS = { numRuns: 1000 };

// ---------------------------------------------------------------------------------------------
// Generators

const anyId: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 5 }), weight: 12 },
  { arbitrary: fc.constantFrom<unknown>(0, -1, 2 ** 31, 1.5, NaN, "2", undefined), weight: 1 },
);
const obsId = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 5 }), weight: 10 },
  { arbitrary: fc.constantFrom(0, -1, 1.5), weight: 1 },
);
/** Channel indices: the reserved ones, up to three extra, and strays. */
const channelIndex = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 5 }), weight: 10 },
  { arbitrary: fc.constantFrom(-1, 1.5, 9, 258), weight: 1 },
);
const config: fc.Arbitrary<unknown> = fc.oneof(
  {
    arbitrary: fc.array(fc.constantFrom(0, 1, 2), { maxLength: 3 }),
    weight: 10,
  },
  { arbitrary: fc.constantFrom<unknown>(null, "2", [3], [2, -1], [1.5], {}), weight: 1 },
);
const network = fc.constantFrom<"mesh" | "server" | "client">("mesh", "server", "client");

/** `createServer` always asks for id 1 (the facade passes it). */
const create = fc.record({
  type: fc.constant("CreateRequested"),
  network,
  peerId: anyId,
  channelsConfig: config,
}).map((e) => e.network === "server" ? { ...e, peerId: 1 } : e) as fc.Arbitrary<Event>;

const addPeer = withCreateFailure(
  fc.record({
    type: fc.constant("AddPeerRequested"),
    peerId: anyId,
    lifetime: fc.oneof(
      { arbitrary: fc.constantFrom(0, 1, 250), weight: 10 },
      { arbitrary: fc.constantFrom<unknown>(-1, 65536, "1"), weight: 1 },
    ),
    connection: fc.oneof(
      {
        arbitrary: fc.constant({ w3c: true, state: "new", description: "RTCPeerConnection" }),
        weight: 10,
      },
      {
        arbitrary: fc.constantFrom(
          { w3c: true, state: "connected", description: "RTCPeerConnection" },
          { w3c: false, state: "", description: "null" },
        ),
        weight: 1,
      },
    ),
  }),
);

const requests = fc.oneof(
  anyId.map((peerId) => ({ type: "RemovePeerRequested", peerId }) as Event),
  fc.record({
    type: fc.constant("DisconnectPeerRequested"),
    peerId: anyId,
    force: fc.oneof(
      { arbitrary: fc.boolean(), weight: 10 },
      { arbitrary: fc.constantFrom<unknown>("yes", 1, undefined), weight: 1 },
    ),
  }) as fc.Arbitrary<Event>,
  fc.record({
    type: fc.constant("TransferChannelSet"),
    value: fc.constantFrom<unknown>(0, 1, 2, 3, 255, 256, -1, 1.5, "1"),
  }) as fc.Arbitrary<Event>,
  fc.record({
    type: fc.constant("TransferModeSet"),
    value: fc.constantFrom<unknown>(0, 1, 2, 3),
  }) as fc.Arbitrary<Event>,
  fc.record({
    type: fc.constant("TargetPeerSet"),
    value: fc.constantFrom<unknown>(0, 1, 2, -2, 1.5),
  }) as fc.Arbitrary<Event>,
  fc.record({
    type: fc.constant("RefuseNewConnectionsSet"),
    value: fc.constantFrom<unknown>(true, false, false, 1),
  }) as fc.Arbitrary<Event>,
  fc.record({
    type: fc.constant("InitializeRequested"),
    peerId: anyId,
    serverCompatibility: fc.boolean(),
  }) as fc.Arbitrary<Event>,
);

const observation = observations(obsId, channelIndex);

const { connect: connectBurst, join: joinBurst } = bursts(5, 6);

const step: fc.Arbitrary<Event[]> = fc.oneof(
  { arbitrary: joinBurst, weight: 6 },
  { arbitrary: create.map((e) => [e]), weight: 2 },
  { arbitrary: addPeer, weight: 5 },
  { arbitrary: requests.map((e) => [e]), weight: 3 },
  { arbitrary: fc.constant<Event[]>([{ type: "CloseRequested" }]), weight: 1 },
  { arbitrary: observation.map((e) => [e]), weight: 10 },
  { arbitrary: connectBurst, weight: 5 },
);

/** Usually start created, in any mode, often with extra channels. */
const opening: fc.Arbitrary<Event[]> = fc.oneof(
  { arbitrary: fc.constant<Event[]>([]), weight: 1 },
  {
    arbitrary: fc.tuple(
      network,
      fc.integer({ min: 2, max: 5 }),
      fc.array(fc.constantFrom(0, 1, 2), { maxLength: 3 }),
    ).map(([network, id, channelsConfig]): Event[] => [{
      type: "CreateRequested",
      network,
      peerId: network === "server" ? 1 : id,
      channelsConfig,
    }]),
    weight: 4,
  },
);

const script: fc.Arbitrary<Event[]> = fc.tuple(
  opening,
  fc.array(step, { minLength: 1, maxLength: 40, size: "max" }),
).map(([start, steps]) => [...start, ...steps.flat()]);

function run4(events: readonly Event[]): Step[] {
  return run(events, initialGodot4State);
}

// ---------------------------------------------------------------------------------------------
// Properties

Deno.test("godot4 property: reduce never throws, never mutates; requests reply once; signals alternate", () => {
  fc.assert(
    fc.property(script, (events) => {
      const steps = run4(events); // throws on a throw or a mutation
      for (const s of steps) assertReplies(s);
      assertSignalsAlternate(steps);
    }),
    RUNS,
  );
});

/** What must hold of every state a Godot 4 peer can be in. */
function assertGodot4State(st: MeshState, s: Step): void {
  assertEquals(st.godot, 4, where(s));
  assertEquals(st.serverCompatibility, false, where(s));
  for (const [id, peer] of st.peers) {
    assertEquals(peer.id, id, where(s));
    assertEquals(peer.channels.length, 3 + st.channelsConfig.length, `channel count: ${where(s)}`);
    assert(id !== st.uniqueId, `own id as a peer: ${where(s)}`);
  }
  assert(st.channelsConfig.every((m) => m in TransferMode), where(s));
  assert(Number.isInteger(st.transferChannel) && st.transferChannel >= 0, where(s));
  switch (st.network) {
    case "none":
      assertEquals([st.peers.size, st.status, st.uniqueId], [0, 0, 0], `none: ${where(s)}`);
      assertEquals(st.channelsConfig.length, 0, where(s));
      break;
    case "mesh":
      assertEquals(st.status, ConnectionStatus.CONNECTED, `mesh status: ${where(s)}`);
      break;
    case "server":
      assertEquals([st.status, st.uniqueId], [ConnectionStatus.CONNECTED, 1], where(s));
      assert(!st.peers.has(1), `server holds peer 1: ${where(s)}`);
      break;
    case "client":
      assert(st.uniqueId !== 1, where(s));
      assert([...st.peers.keys()].every((id) => id === 1), `client holds others: ${where(s)}`);
      assertEquals(
        st.status === ConnectionStatus.CONNECTED,
        st.peers.get(1)?.announced === true,
        `client status vs peer 1: ${where(s)}`,
      );
      break;
  }
}

Deno.test("godot4 property: every state is one Godot 4 can be in (modes, channels, client status)", () => {
  fc.assert(
    fc.property(script, (events) => {
      for (const s of run4(events)) assertGodot4State(s.after, s);
    }),
    RUNS,
  );
});

Deno.test("godot4 property: client signals follow Godot's order and only clients emit them", () => {
  fc.assert(
    fc.property(script, (events) => {
      for (const s of run4(events)) {
        s.effects.forEach((e, i) => {
          if (e.type !== "Emit") return;
          const prev = s.effects[i - 1];
          const isClient = s.before.network === "client" || s.after.network === "client";
          switch (e.signal) {
            case "connection_succeeded":
              throw new Error(`Godot 3's signal from a Godot 4 peer: ${where(s)}`);
            case "connected_to_server":
              assert(isClient, where(s));
              assert(
                prev?.type === "Emit" && prev.signal === "peer_connected" && prev.peerId === 1,
              );
              assertEquals(s.after.status, ConnectionStatus.CONNECTED, where(s));
              break;
            case "server_disconnected":
              assert(isClient, where(s));
              assert(
                prev?.type === "Emit" && prev.signal === "peer_disconnected" && prev.peerId === 1,
                where(s),
              );
              assertEquals(s.after.status, ConnectionStatus.DISCONNECTED, where(s));
              break;
            case "connection_failed":
              assert(isClient, where(s));
              assertEquals(s.before.status, ConnectionStatus.CONNECTING, where(s));
              assertEquals(s.after.status, ConnectionStatus.DISCONNECTED, where(s));
              assert(!s.after.peers.has(1), where(s));
              assert(!s.effects.some((x) => x.type === "Emit" && x.signal === "peer_disconnected"));
              break;
          }
        });
      }
    }),
    RUNS,
  );
});

Deno.test("godot4 property: disconnectPeer without force changes nothing yet; with force removes silently", () => {
  fc.assert(
    fc.property(script, (events) => {
      for (const s of run4(events)) {
        if (s.event.type !== "DisconnectPeerRequested") continue;
        const ok = s.effects.at(-1)?.type === "Reply" &&
          (s.effects.at(-1) as { error: number }).error === 0;
        if (!ok) continue;
        const id = s.event.peerId;
        assertEquals(s.effects.filter((e) => e.type === "Emit"), [], where(s));
        if (s.event.force) {
          assert(!s.after.peers.has(id), where(s));
          assert(s.effects.some((e) => e.type === "ClosePeer" && e.peerId === id), where(s));
        } else {
          assertStrictEquals(s.after, s.before, where(s));
          assert(s.effects.some((e) => e.type === "CloseConnection" && e.peerId === id));
        }
      }
    }),
    RUNS,
  );
});

Deno.test("godot4 property: turns count additions in order; close() starts over and emits nothing", () => {
  fc.assert(
    fc.property(script, (events) => {
      for (const s of run4([...events, { type: "CloseRequested" }])) {
        for (const e of s.effects) {
          if (e.type !== "CreateChannels") continue;
          assertEquals(e.turn, s.before.added + 1, where(s));
          assertEquals(s.after.added, e.turn, where(s));
        }
        if (s.event.type === "CloseRequested") {
          assertEquals(s.after.added, 0, where(s));
          assertEquals([s.after.network, s.after.channelsConfig.length], ["none", 0], where(s));
          assertEquals(s.effects.filter((e) => e.type === "Emit"), [], where(s));
        } else {
          assert(s.after.added >= s.before.added, where(s));
        }
      }
    }),
    RUNS,
  );
});
