/**
 * Story tests of rule L2's beat skipping (core/liveness.ts): a proven peer we sent a data message
 * since the previous beat gets no beat (that message is its proof of our life, rule L4), but only
 * after its first `probeWindowMs`, and every interval still carries something to it. Compared with
 * the committed snapshots in `tests/__snapshots__/core/liveness_beats_test.ts.snap`.
 */
import { assertEquals } from "@std/assert";
import { assertSnapshot } from "../_snapshot.ts";
import {
  addPeer,
  beacon,
  connect,
  init,
  lvOpen,
  runScenario,
  type Script,
  section,
  tick,
} from "./_scenario.ts";
import { DEFAULT_LIVENESS, initialState, livenessState, type MeshState } from "../../core/mod.ts";

/** A mesh with the default liveness settings (3000 / 500 / 5000 / 1000 ms). */
const LIVE: MeshState = { ...initialState, liveness: livenessState(DEFAULT_LIVENESS) };

/** Peers 2 and 3 joined with liveness open at t=0; both proven by their hello at 5. */
const TWO: Script = [
  init(1),
  addPeer(2),
  addPeer(3),
  connect(2),
  connect(3),
  lvOpen(2, 0),
  lvOpen(3, 0),
  beacon(2, "hello", 5),
  beacon(3, "hello", 5),
];

/** The peers each tick of `script` beat, by tick time. */
function beats(script: Script): Array<[number, number[]]> {
  return runScenario(script, LIVE).steps.filter((s) => s.event.type === "TimePassed").map((s) => [
    (s.event as { now: number }).now,
    s.effects.flatMap((e) => e.type === "SendBeacons" && e.kind === "beat" ? e.peerIds : []),
  ]);
}

Deno.test("L2: no beat to a proven peer we sent data since the previous beat", (t) => {
  const script: Script = [
    ...TWO,
    // Within the probe window every peer is beaten, data or not (its probing needs our beacons).
    // Both peers keep sending (heard); only peer 2 is sent data.
    tick(500, [[2, 400], [3, 400]], [[2, 450]]),
    tick(1000, [[2, 900], [3, 900]], [[2, 990]]),
    ...[1500, 2000, 2500, 3000, 3500, 4000, 4500].map((t) =>
      tick(t, [[2, t - 100], [3, t - 100]], [[2, t - 10]])
    ),
    // From 5000 on: peer 2 was sent data since the previous beat, peer 3 was not.
    tick(5000, [[2, 4900], [3, 4900]], [[2, 4990]]),
    tick(5500, [[2, 5400], [3, 5400]], [[2, 5200]]),
    // Nothing sent to 2 since the beat at 5500: it is beaten again.
    tick(6000, [[2, 5900], [3, 5900]]),
    // Sent at 6000, the previous beat's time, counts; several sends report only the latest.
    tick(6500, [[2, 6400], [3, 6400]], [[2, 6000]]),
    // A timer that is late by less than stallMs: the window is from the previous beat, not now.
    tick(7400, [[2, 7300], [3, 7300]], [[2, 6600]]),
    tick(7900, [[2, 7800], [3, 7800]], [[2, 7401]]),
  ];
  assertSnapshot(t, section("peer 2 is sent data, peer 3 is not", script, LIVE));
  const early = [500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500];
  assertEquals(beats(script), [
    ...early.map((at): [number, number[]] => [at, [2, 3]]),
    [5000, [3]],
    [5500, [3]],
    [6000, [2, 3]],
    [6500, [3]],
    [7400, [3]],
    [7900, [3]],
  ]);
});

Deno.test("L2: with reconnect on, every peer is beaten, data or not", () => {
  const healing: MeshState = {
    ...initialState,
    liveness: livenessState(DEFAULT_LIVENESS, 10_000),
  };
  const script: Script[number][] = [...TWO];
  for (let at = 500; at <= 7000; at += 500) {
    script.push(tick(at, [[2, at - 1], [3, at - 1]], [[2, at - 10], [3, at - 10]]));
  }
  const beaten = runScenario(script, healing).steps.filter((s) => s.event.type === "TimePassed")
    .map((s) => s.effects.flatMap((e) => e.type === "SendBeacons" ? e.peerIds : []));
  assertEquals(beaten, script.slice(TWO.length).map(() => [2, 3]));
  // The same script without reconnect skips both peers from 5000 on.
  assertEquals(
    beats(script).filter(([at]) => at >= 5000).map(([, ids]) => ids),
    [5000, 5500, 6000, 6500, 7000].map(() => []),
  );
});

Deno.test("L2: the gap between two messages to a peer stays under two intervals", () => {
  // Data once in a while; a beat fills every interval that had none.
  const sends = [5100, 6700, 6900, 8600];
  const script: Script[number][] = [...TWO];
  for (let at = 500; at <= 10_000; at += 500) {
    const latest = sends.filter((s) => s <= at && s > at - 500).at(-1);
    script.push(tick(at, [[2, at - 1], [3, at - 1]], latest === undefined ? [] : [[2, latest]]));
  }
  const times = [
    ...sends,
    ...beats(script).flatMap(([at, ids]) => ids.includes(2) ? [at] : []),
  ].sort((a, b) => a - b);
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  // Every beat interval carries a message to peer 2, so no gap reaches 2 x intervalMs.
  assertEquals(gaps.every((g) => g < 2 * DEFAULT_LIVENESS.intervalMs), true, `gaps ${gaps}`);
  for (let at = 500; at <= 10_000; at += 500) {
    assertEquals(times.some((t) => t > at - 500 && t <= at), true, `interval ending ${at}`);
  }
});
