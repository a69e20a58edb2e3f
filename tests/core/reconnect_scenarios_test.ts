/**
 * Story tests of reconnect by replacement (core/reconnect.ts, R1-R5), compared with the committed
 * snapshots in `tests/__snapshots__/core/reconnect_scenarios_test.ts.snap`, plus plain assertions
 * of the key facts. Time is the interpreter's clock in ms, written `@t` before each event.
 */
import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import { assertSnapshot } from "../_snapshot.ts";
import {
  addPeer,
  beacon,
  chan,
  conn,
  connect,
  countedBeacon,
  createFailed,
  emits,
  init,
  lvOpen,
  replace,
  runScenario,
  type Script,
  section,
  stateAfter,
  story,
  tick,
} from "./_scenario.ts";
import {
  DEFAULT_LIVENESS,
  type Event,
  GodotError,
  initialState,
  livenessState,
  type MeshState,
  reduce,
  route,
  TransferMode,
} from "../../core/mod.ts";
import { decodeCounts, encodeCounts, reliableChannels } from "../../core/reconnect.ts";
import { encodeBeacon } from "../../core/liveness.ts";

/** A mesh with liveness and reconnect (grace 10 s). */
const HEALING: MeshState = { ...initialState, liveness: livenessState(DEFAULT_LIVENESS, 10_000) };
/** Liveness without reconnect. */
const LIVE: MeshState = { ...initialState, liveness: livenessState(DEFAULT_LIVENESS) };

function ticks(from: number, to: number): Event[] {
  const out: Event[] = [];
  for (let t = from; t <= to; t += 500) out.push(tick(t));
  return out;
}

/** Peer 2 connected, and proven by a beacon that carries counts at 5 ms. */
const PROVEN: Script = [
  init(1),
  addPeer(2),
  ...connect(2),
  lvOpen(2, 0),
  countedBeacon(2, "hello", 5, [0]),
];

/** Peer 2 proven, then silent from 505 ms: interrupted at 3505. */
const INTERRUPTED: Script = [
  ...PROVEN,
  countedBeacon(2, "beat", 505, [40], [[0, 100]]),
  ...ticks(500, 3500),
  tick(3505),
];

/** The new connection of peer 2 connects and its channels open. */
const RECONNECTED: Script = [
  conn(2, "connected"),
  chan(2, 0, "open"),
  chan(2, 1, "open"),
  chan(
    2,
    2,
    "open",
  ),
  lvOpen(2, 5200),
];

Deno.test("R1/R2: beacons with counts acknowledge the journal; 3-byte beacons still parse", (t) => {
  assertSnapshot(
    t,
    story(
      section("the first counts start the journal, later ones trim it", [
        ...PROVEN,
        countedBeacon(2, "beat", 505, [40], [[0, 100]]),
        countedBeacon(2, "beat", 1005, [40], [[40, 130]]),
        beacon(2, "beat", 1505),
      ], HEALING),
    ),
  );
  assertEquals(decodeCounts(encodeCounts(encodeBeacon("beat"), [0, 7, 4294967295])), [
    0,
    7,
    4294967295,
  ]);
  assertEquals(decodeCounts(encodeBeacon("beat")), undefined, "an old 3-byte beacon: no counts");
  assertEquals(decodeCounts(new Uint8Array([108, 1, 2, 0, 0])), undefined, "a ragged tail");
  assertEquals(reliableChannels([]), [0]);
  assertEquals(
    reliableChannels([TransferMode.RELIABLE, TransferMode.UNRELIABLE, TransferMode.RELIABLE]),
    [0, 3, 5],
  );
});

Deno.test("R3-R5: an interrupted peer gets a new connection and resumes with its journal resent", (t) => {
  assertSnapshot(
    t,
    story(
      section("replaced, reconnected, resynchronized: peer_resumed, no departure", [
        ...INTERRUPTED,
        replace(2, 3600),
        tick(4000),
        { type: "ConnectionStateChanged", peerId: 2, state: "failed", now: 4100 },
        replace(2, 4200),
        ...RECONNECTED,
        tick(5250, [[2, 5240]]),
        countedBeacon(2, "hello", 5300, [70], [[40, 160]]),
        tick(5500),
      ], HEALING),
      section("a replacement asked for before the silence: interrupted now", [
        ...PROVEN,
        replace(2, 1000),
      ], HEALING),
      section("the journal overflowed past the peer's count: removed", [
        ...INTERRUPTED,
        replace(2, 3600),
        ...RECONNECTED,
        countedBeacon(2, "hello", 5300, [30], [[40, 160]]),
      ], HEALING),
      section("the new connection's first beacon has no counts: removed", [
        ...INTERRUPTED,
        replace(2, 3600),
        ...RECONNECTED,
        beacon(2, "hello", 5300),
      ], HEALING),
      section("never back: removed at the end of the grace", [
        ...INTERRUPTED,
        replace(2, 3600),
        ...ticks(4000, 13500),
        tick(13505),
      ], HEALING),
    ),
  );
  const run = runScenario(
    [
      ...INTERRUPTED,
      replace(2, 3600),
      ...RECONNECTED,
      countedBeacon(2, "hello", 5300, [70], [[
        40,
        160,
      ]]),
    ],
    HEALING,
  );
  assertEquals(emits(run.effects), ["peer_connected(2)", "peer_interrupted(2)", "peer_resumed(2)"]);
  assert(run.effects.some((e) => e.type === "ResendJournal" && e.from[0] === 70));
});

Deno.test("R6: a transport that gives up while its peer is interrupted holds it for a replacement", (t) => {
  assertSnapshot(
    t,
    story(
      section("SCTP aborts before the other side's offer arrives; the replacement resumes it", [
        ...INTERRUPTED,
        chan(2, 0, "closed"),
        conn(2, "failed"),
        tick(4000),
        replace(2, 9000),
        ...RECONNECTED,
        countedBeacon(2, "hello", 9500, [100], [[40, 180]]),
      ], HEALING),
      section("no replacement: removed at the end of the grace", [
        ...INTERRUPTED,
        conn(2, "failed"),
        ...ticks(4000, 13500),
        tick(13505),
      ], HEALING),
      section("not interrupted: failed removes at once (rule 5)", [
        ...PROVEN,
        conn(2, "failed"),
      ], HEALING),
    ),
  );
  const held = stateAfter([...INTERRUPTED, conn(2, "failed")], HEALING);
  const r = route(held, 2, TransferMode.RELIABLE);
  assertEquals(r.error, GodotError.OK, "reliable sends to a held peer go to its journal");
});

Deno.test("R3: refusals return the same state and a reply", (t) => {
  const proven = PROVEN;
  assertSnapshot(
    t,
    story(
      section(
        "reconnect off (counts are not acknowledged either)",
        [...proven, replace(2, 100)],
        LIVE,
      ),
      section("unknown peer, used connection", [
        ...proven,
        replace(9, 100),
        replace(2, 100, "connecting"),
      ], HEALING),
      section("a peer not proven to run liveness", [
        init(1),
        addPeer(2),
        ...connect(2),
        replace(2, 100),
      ], HEALING),
    ),
  );
  const before = stateAfter(proven, LIVE);
  const [after, effects] = reduce(before, replace(2, 100));
  assertStrictEquals(after, before);
  assertEquals(effects.map((e) => e.type), ["Reply"]);
  assert(effects[0].type === "Reply" && effects[0].error === GodotError.ERR_UNAVAILABLE);
});

Deno.test("R4: while replacing, reliable packets are held (routed) and the rest waits for open channels", () => {
  const replacing = stateAfter([...INTERRUPTED, replace(2, 3600)], HEALING);
  const reliable = route(replacing, 0, TransferMode.RELIABLE);
  assert(reliable.error === GodotError.OK && reliable.peers.includes(2));
  const unreliable = route(replacing, 0, TransferMode.UNRELIABLE);
  assert(unreliable.error === GodotError.OK && !unreliable.peers.includes(2));
  assertEquals(route(replacing, 2, TransferMode.UNRELIABLE).error, GodotError.ERR_UNAVAILABLE);
  assertEquals(route(replacing, 2, TransferMode.RELIABLE).error, GodotError.OK);
});

Deno.test("R3: a replacement whose channels cannot be made removes the peer, reported", (t) => {
  assertSnapshot(
    t,
    story(
      section("createDataChannel throws on the new connection: peer_disconnected", [
        ...INTERRUPTED,
        replace(2, 3600),
        createFailed(2, "SCTP stream limit reached"),
      ], HEALING),
    ),
  );
  const run = runScenario(
    [...INTERRUPTED, replace(2, 3600), createFailed(2, "SCTP stream limit reached")],
    HEALING,
  );
  assertEquals(emits(run.effects), [
    "peer_connected(2)",
    "peer_interrupted(2)",
    "peer_disconnected(2)",
  ]);
  assertEquals(run.final.peers.has(2), false);
  assertEquals(run.final.liveness.peers.has(2), false);
});

Deno.test("R7: a resend that lost what it owed (the journal overflowed) removes the peer, reported", (t) => {
  const resumed: Script = [
    ...INTERRUPTED,
    replace(2, 3600),
    conn(2, "connected"),
    lvOpen(2, 5200),
    countedBeacon(2, "hello", 5300, [70], [[40, 160]]),
  ];
  assertSnapshot(
    t,
    story(
      section(
        "resumed, the resend waits for a channel; the journal drops what it owed: peer_disconnected",
        [...resumed, { type: "JournalOverflowed", peerId: 2 }],
        HEALING,
      ),
      section("a late report for a peer already gone changes nothing", [
        ...PROVEN,
        { type: "RemovePeerRequested", peerId: 2 },
        { type: "JournalOverflowed", peerId: 2 },
      ], HEALING),
    ),
  );
  const run = runScenario([...resumed, { type: "JournalOverflowed", peerId: 2 }], HEALING);
  assertEquals(emits(run.effects), [
    "peer_connected(2)",
    "peer_interrupted(2)",
    "peer_resumed(2)",
    "peer_disconnected(2)",
  ]);
  assertEquals(run.final.peers.has(2), false);
});
