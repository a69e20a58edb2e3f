/**
 * Story tests of the liveness rules (core/liveness.ts, L1-L8), compared with the committed
 * snapshots in `tests/__snapshots__/core/liveness_scenarios_test.ts.snap`, plus plain assertions of
 * the key facts. Time is the interpreter's clock in ms, written `@t` before each event.
 */
import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import { assertSnapshot } from "../_snapshot.ts";
import {
  addPeer,
  beacon,
  close,
  conn,
  connect,
  emits,
  init,
  lvClosed,
  lvOpen,
  remove,
  runScenario,
  type Script,
  section as scenarioSection,
  stateAfter,
  story,
  tick,
} from "./_scenario.ts";
import {
  DEFAULT_LIVENESS,
  type Event,
  initialState,
  LIVENESS_CHANNEL_ID,
  livenessDeadline,
  livenessState,
  type MeshState,
  parseLivenessOptions,
  reduce,
} from "../../core/mod.ts";

/** A mesh with the default liveness settings (3000 / 500 / 5000 / 1000 ms). */
const LIVE: MeshState = { ...initialState, liveness: livenessState(DEFAULT_LIVENESS) };

/** A titled story that starts from a mesh with liveness on. */
function section(title: string, script: Script, start: MeshState = LIVE): string {
  return scenarioSection(title, script, start);
}

/** A tick every 500 ms from `from` to `to`, inclusive: a timer that is never late. */
function ticks(from: number, to: number): Event[] {
  const out: Event[] = [];
  for (let t = from; t <= to; t += 500) out.push(tick(t));
  return out;
}

/** Peer 2 added, connected, and its liveness channel open at t=0. */
const JOINED: Script = [init(1), addPeer(2), connect(2), lvOpen(2, 0)];

Deno.test("L1/L2: the liveness channel comes with the three channels; probing starts with hello", (t) => {
  assertSnapshot(
    t,
    story(
      section("liveness on", [init(1), addPeer(2), connect(2), lvOpen(2, 0), tick(500)]),
      section(
        "liveness off: no channel, no timer",
        [init(1), addPeer(2), connect(2)],
        initialState,
      ),
    ),
  );
  const run = runScenario([init(1), addPeer(2)], LIVE);
  const types = run.steps[1].effects.map((e) => e.type);
  assertEquals(types, ["CreateChannels", "CreateLivenessChannel", "Reply"]);
  const create = run.steps[1].effects[1];
  assert(create.type === "CreateLivenessChannel");
  assertEquals(create.channel.init, {
    negotiated: true,
    id: LIVENESS_CHANNEL_ID,
    ordered: false,
    maxRetransmits: 0,
  });
  assert(LIVENESS_CHANNEL_ID > 258 && LIVENESS_CHANNEL_ID <= 1023);
  assertEquals(livenessDeadline(stateAfter([init(1), addPeer(2), connect(2)], initialState)), null);
});

Deno.test("L3/L5: a proven peer that falls silent is gone after timeoutMs", (t) => {
  const script: Script = [
    ...JOINED,
    beacon(2, "hello", 5),
    tick(500),
    beacon(2, "beat", 505),
    tick(1000),
    // Peer 2 crashes after its beat at 505: nothing more arrives.
    tick(1500),
    tick(2000),
    tick(2500),
    tick(3000),
    tick(3500),
  ];
  assertSnapshot(t, section("crash: silence from 505, gone at 3505", script));
  const run = runScenario(script, LIVE);
  const last = run.steps.at(-1)!;
  assertEquals(emits(run.effects), ["peer_connected(2)"]);
  // The deadline announced after the tick at 3500 is exactly lastHeard + timeoutMs.
  assertEquals(livenessDeadline(last.after), 3505);
  const [after, effects] = reduce(last.after, tick(3505));
  assertEquals(emits(effects), ["peer_disconnected(2)"]);
  assertEquals(after.peers.has(2), false);
  assertEquals(after.liveness.peers.has(2), false);
  assertEquals(livenessDeadline(after), null, "no peers left: no timer");
});

Deno.test("L4: data messages are proof of life even when beacons are lost under load", (t) => {
  const script: Script = [
    ...JOINED,
    beacon(2, "hello", 5),
    // Under full reliable load the unreliable beacons stop arriving; data keeps coming.
    tick(500, [[2, 480]]),
    tick(1000, [[2, 990]]),
    tick(1500, [[2, 1499]]),
    tick(2000, [[2, 1800]]),
    tick(2500, [[2, 2400]]),
    tick(3000, [[2, 2999]]),
    tick(3500, [[2, 3400]]),
    tick(4000, [[2, 3990]]),
  ];
  assertSnapshot(t, section("busy peer: no beacon after hello, data every tick", script));
  assertEquals(emits(runScenario(script, LIVE).effects), ["peer_connected(2)"]);
});

Deno.test("L6: bye removes at once; our removePeer and close say bye first", (t) => {
  assertSnapshot(
    t,
    story(
      section("the peer says bye", [...JOINED, beacon(2, "hello", 5), beacon(2, "bye", 700)]),
      section("removePeer says bye, then closes", [...JOINED, beacon(2, "hello", 5), remove(2)]),
      section("close says bye to every live peer, keeps the settings", [
        init(1),
        addPeer(2),
        addPeer(3),
        addPeer(4),
        connect(2),
        connect(3),
        connect(4),
        lvOpen(2, 0),
        lvOpen(3, 0),
        lvOpen(4, 0),
        beacon(2, "hello", 1),
        lvClosed(4, 2),
        close(),
      ]),
    ),
  );
  const closed = stateAfter([...JOINED, close()], LIVE);
  assertStrictEquals(closed.liveness.config, DEFAULT_LIVENESS);
  assertEquals(closed.liveness.peers.size, 0);
});

Deno.test("L3: peers without liveness (Godot) are left to their transport", (t) => {
  assertSnapshot(
    t,
    story(
      section("a libdatachannel peer resets our channel: transport, no more beats", [
        ...JOINED,
        lvClosed(2, 3),
        tick(500),
        tick(60000),
        conn(2, "disconnected"),
      ]),
      section("a browser peer drops beacons silently: transport after the probe window", [
        ...JOINED,
        ...ticks(500, 5000),
        tick(60000),
      ]),
      section("a proven peer's channel closing changes nothing", [
        ...JOINED,
        beacon(2, "hello", 5),
        lvClosed(2, 10),
      ]),
      section("no liveness channel could be made", [
        init(1),
        addPeer(2),
        lvClosed(2, 0),
        connect(2),
        tick(60000),
      ]),
    ),
  );
});

Deno.test("L7: a local stall shifts the silence instead of removing the peers", (t) => {
  assertSnapshot(
    t,
    story(
      section("event loop blocked 2.6 s after the tick at 1000: the peer stays", [
        ...JOINED,
        beacon(2, "hello", 5),
        beacon(2, "beat", 505),
        tick(500),
        beacon(2, "beat", 990),
        tick(1000),
        // Due at 1500; the loop was blocked until 4100. The beats of 1005..4005 are still queued.
        tick(4100),
        beacon(2, "beat", 4101),
        beacon(2, "beat", 4102),
      ]),
      section("a stall then a real crash: gone timeoutMs after the shifted silence", [
        ...JOINED,
        beacon(2, "hello", 5),
        tick(500),
        tick(3000),
        tick(3500),
        tick(4000),
        tick(5005),
      ]),
      section("late by less than stallMs counts as silence (a loaded machine)", [
        ...JOINED,
        beacon(2, "hello", 5),
        tick(900),
        tick(1800),
        tick(2700),
        tick(3200),
      ]),
    ),
  );
  const stalled = runScenario([
    ...JOINED,
    beacon(2, "hello", 5),
    beacon(2, "beat", 990),
    tick(1000),
    tick(4100),
  ], LIVE);
  assertEquals(emits(stalled.effects), ["peer_connected(2)"]);
});

/** A mesh with liveness and reconnect (grace 10 s). */
const HEALING: MeshState = { ...initialState, liveness: livenessState(DEFAULT_LIVENESS, 10_000) };

Deno.test("L9: with reconnect, short outages interrupt and resume; long ones remove", (t) => {
  const silentFrom505 = [
    ...JOINED,
    beacon(2, "hello", 5),
    beacon(2, "beat", 505),
    ...ticks(500, 3500),
  ];
  assertSnapshot(
    t,
    story(
      section("silence, then beacons again within the grace: interrupted, resumed", [
        ...silentFrom505,
        tick(3505),
        tick(4000),
        beacon(2, "beat", 6000),
        tick(6000),
      ], HEALING),
      section("data again (under load) also resumes it", [
        ...silentFrom505,
        tick(3505),
        tick(5000, [[2, 4900]]),
      ], HEALING),
      section("silence beyond the grace: removed 10 s after the interruption", [
        ...silentFrom505,
        tick(3505),
        ...ticks(4000, 13500),
        tick(13505),
      ], HEALING),
      section("connection disconnected, then connected again", [
        ...JOINED,
        beacon(2, "hello", 5),
        { type: "ConnectionStateChanged", peerId: 2, state: "disconnected", now: 100 },
        { type: "ConnectionStateChanged", peerId: 2, state: "connected", now: 2000 },
      ], HEALING),
      section("failed while interrupted: held for a replacement (core/reconnect.ts, R6)", [
        ...JOINED,
        beacon(2, "hello", 5),
        { type: "ConnectionStateChanged", peerId: 2, state: "disconnected", now: 100 },
        { type: "ConnectionStateChanged", peerId: 2, state: "failed", now: 200 },
      ], HEALING),
    ),
  );
  const closed = stateAfter([...JOINED, close()], HEALING);
  assertEquals(closed.liveness.graceMs, 10_000, "close() keeps the reconnect setting");
});

Deno.test("L9: only what is heard after the interruption resumes, and only a change of the connection's state counts", (t) => {
  const proven = [...JOINED, beacon(2, "hello", 5)];
  const wrtcPartition: Script = [
    ...proven,
    beacon(2, "beat", 505),
    ...ticks(500, 3500),
    tick(3505),
    { type: "ConnectionStateChanged", peerId: 2, state: "connected", now: 6300 },
    { type: "ConnectionStateChanged", peerId: 2, state: "disconnected", now: 8600 },
    beacon(2, "beat", 8800),
  ];
  const disconnectedAt100 = {
    type: "ConnectionStateChanged",
    peerId: 2,
    state: "disconnected",
    now: 100,
  } as const;
  assertSnapshot(
    t,
    story(
      section(
        "data that arrived at 90, before the connection said disconnected at 100, is reported at 500: still interrupted",
        [...proven, disconnectedAt100, tick(500, [[2, 90]])],
        HEALING,
      ),
      section("data that arrived at 150, after it: resumed", [
        ...proven,
        disconnectedAt100,
        tick(500, [[2, 150]]),
      ], HEALING),
      section(
        "libwebrtc (wrtc) in a partition: silent, interrupted; its ICE state changes fire connectionstatechange while connectionState still reads the previous state: 'connected' at 6300 is no return, 'disconnected' at 8600 no new interruption; the beacon after the heal resumes",
        wrtcPartition,
        HEALING,
      ),
    ),
  );
  const partition = runScenario(wrtcPartition, HEALING);
  assertEquals(emits(partition.effects), [
    "peer_connected(2)",
    "peer_interrupted(2)",
    "peer_resumed(2)",
  ]);
  assertEquals(
    emits(
      partition.steps.find((s) =>
        s.event.type === "BeaconsReceived" && s.event.receipts[0].now === 8800
      )!.effects,
    ),
    ["peer_resumed(2)"],
    "resumed by the beacon after the heal, not by the stale 'connected' during the partition",
  );
  const before = runScenario([...proven, disconnectedAt100, tick(500, [[2, 90]])], HEALING);
  assertEquals(emits(before.effects), ["peer_connected(2)", "peer_interrupted(2)"]);
  assertEquals(before.final.liveness.peers.get(2)?.interruptedAt, 100);
  const after = runScenario([...proven, disconnectedAt100, tick(500, [[2, 150]])], HEALING);
  assertEquals(emits(after.effects), [
    "peer_connected(2)",
    "peer_interrupted(2)",
    "peer_resumed(2)",
  ]);
});

Deno.test("L5 with server compatibility: a silent host is server_disconnected", (t) => {
  const script: Script = [
    init(3, true),
    addPeer(1),
    connect(1),
    lvOpen(1, 0),
    beacon(1, "hello", 1),
    ...ticks(500, 3000),
    tick(3001),
  ];
  assertSnapshot(t, section("host crashes", script));
  assertEquals(emits(runScenario(script, LIVE).effects), [
    "peer_connected(1)",
    "connection_succeeded",
    "peer_disconnected(1)",
    "server_disconnected",
  ]);
});

Deno.test("late liveness events of removed peers change nothing", () => {
  const gone = stateAfter([...JOINED, remove(2)], LIVE);
  for (const e of [lvOpen(2, 9), lvClosed(2, 9), beacon(2, "beat", 9), beacon(2, "bye", 9)]) {
    const [after, effects] = reduce(gone, e);
    assertStrictEquals(after, gone);
    assertEquals(effects, []);
  }
});

Deno.test("liveness options: defaults, overrides, and clear refusals", () => {
  assertEquals(parseLivenessOptions(undefined), { _tag: "Right", right: DEFAULT_LIVENESS });
  assertEquals(parseLivenessOptions(false), { _tag: "Right", right: null });
  assertEquals(parseLivenessOptions({ timeoutMs: 1200 }), {
    _tag: "Right",
    right: { ...DEFAULT_LIVENESS, timeoutMs: 1200, intervalMs: 200 },
  });
  assertEquals(parseLivenessOptions({ timeoutMs: 6000, intervalMs: 2000 }), {
    _tag: "Right",
    right: { ...DEFAULT_LIVENESS, timeoutMs: 6000, intervalMs: 2000 },
  });
  const refusals: Array<[unknown, string]> = [
    [null, "liveness must be false or an object, got null"],
    [3000, "liveness must be false or an object, got 3000"],
    [{ timeoutMs: 0 }, "liveness.timeoutMs must be an integer in 100..3600000 (ms), got 0"],
    [
      { timeoutMs: 1.5e3 + 0.5 },
      "liveness.timeoutMs must be an integer in 100..3600000 (ms), got 1500.5",
    ],
    [
      { intervalMs: "500" },
      'liveness.intervalMs must be an integer in 10..1200000 (ms), got "500"',
    ],
    [{ intervalMs: 1001 }, "liveness.intervalMs (1001) must be at most timeoutMs / 3 (1000)"],
    [{ timeout: 3000 }, 'liveness: unknown option "timeout"'],
    [{ byeOnExit: "no" }, 'liveness.byeOnExit must be a boolean, got "no"'],
  ];
  for (const [value, message] of refusals) {
    assertEquals(parseLivenessOptions(value), { _tag: "Left", left: message });
  }
});
