/**
 * Beacons batched (`BeaconsReceived`, core/liveness.ts `beaconsReceived`): one reducer step for the
 * beacons of one turn gives the very state and effects of the same beacons reduced one by one, for
 * any mix of peers (probing, proven, interrupted, being replaced, unknown), kinds (`bye` included),
 * counts and journals, with `reconnect` off and on; the input state is never mutated.
 */
import fc from "fast-check";
import { assertEquals } from "@std/assert";
import {
  DEFAULT_LIVENESS,
  type Event,
  initialState,
  livenessState,
  type MeshState,
  reduce,
} from "../../core/mod.ts";
import type { BeaconReceipt } from "../../core/events.ts";
import { reduceBeacon } from "../../core/reduce.ts";
import { beacon, beacons, init, join, lvOpen, replace, runScenario, story } from "./_scenario.ts";
import { section } from "./_scenario.ts";
import { assertSnapshot } from "../_snapshot.ts";

/** How far a peer got before the batch. */
type Stage = "added" | "probing" | "proven" | "interrupted" | "replacing";
const STAGES: readonly Stage[] = ["added", "probing", "proven", "interrupted", "replacing"];

/** The script that takes peer `id` to `stage` (interruption and replacement need `reconnect`). */
function reach(id: number, stage: Stage): Event[] {
  const script: Event[] = [...join(id)];
  if (stage === "added") return script;
  script.push(lvOpen(id, 0));
  if (stage === "probing") return script;
  script.push(beacon(id, "hello", 1));
  if (stage === "proven") return script;
  script.push({ type: "ConnectionStateChanged", peerId: id, state: "disconnected", now: 10 });
  if (stage === "interrupted") return script;
  script.push(replace(id, 20));
  return script;
}

/** The liveness map as plain data, to see that reducing left it as it was. */
function plain(state: MeshState): unknown {
  return [...state.liveness.peers].map(([id, r]) => [id, { ...r }]);
}

const receipt = (ids: number) =>
  fc.record({
    peerId: fc.integer({ min: 2, max: ids + 2 }), // ids + 2: not in the mesh
    kind: fc.constantFrom("hello" as const, "beat" as const, "bye" as const),
    dt: fc.integer({ min: 0, max: 4000 }),
    counts: fc.option(fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 2 }), {
      nil: undefined,
    }),
    journal: fc.option(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 30, max: 60 })), {
        minLength: 1,
        maxLength: 2,
      }),
      { nil: undefined },
    ),
  });

const batchCase = fc.integer({ min: 1, max: 6 }).chain((ids) =>
  fc.record({
    reconnect: fc.boolean(),
    stages: fc.array(fc.constantFrom(...STAGES), { minLength: ids, maxLength: ids }),
    receipts: fc.array(receipt(ids), { maxLength: 24 }),
  })
);

Deno.test("property: one BeaconsReceived step equals its receipts reduced one by one", () => {
  // The reference is the single-beacon step, which never takes the batch's shortcut.
  fc.assert(
    fc.property(batchCase, ({ reconnect, stages, receipts }) => {
      const start = {
        ...initialState,
        liveness: livenessState(DEFAULT_LIVENESS, reconnect ? 10_000 : null),
      };
      const script: Event[] = [init(1), ...stages.flatMap((stage, i) => reach(i + 2, stage))];
      const before = runScenario(script, start).final;
      let now = 100;
      const batch: BeaconReceipt[] = receipts.map(({ dt, counts, journal, ...r }) => ({
        ...r,
        now: now += dt,
        ...(counts === undefined ? {} : { counts }),
        ...(journal === undefined ? {} : { journal }),
      }));
      const liveness = plain(before);
      const [batched, batchedEffects] = reduce(before, {
        type: "BeaconsReceived",
        receipts: batch,
      });
      assertEquals(plain(before), liveness, "the input state's liveness map is unchanged");
      let single = before;
      const singleEffects = [];
      for (const r of batch) {
        const [next, effects] = reduceBeacon(single, r);
        single = next;
        singleEffects.push(...effects);
      }
      assertEquals(batched, single);
      assertEquals(batchedEffects, singleEffects);
    }),
    { numRuns: 500 },
  );
});

Deno.test("L3/L4/L6 batched: the beats of a turn are one step; a bye in it still removes at once", (t) => {
  const joined = [init(1), ...[2, 3, 4].flatMap((id) => [...join(id), lvOpen(id, 0)])];
  const proven = [...joined, beacons([2, "hello", 3], [3, "hello", 4], [4, "hello", 4])];
  assertSnapshot(
    t,
    story(
      section("three clients' beats in one turn: one step, one copy of the liveness map", [
        ...proven,
        beacons([2, "beat", 503], [4, "beat", 504], [3, "beat", 505]),
      ], { ...initialState, liveness: livenessState(DEFAULT_LIVENESS) }),
      section("a bye amid beats: the peer is gone at once, its later beat changes nothing", [
        ...proven,
        beacons([2, "beat", 503], [3, "bye", 504], [3, "beat", 505], [4, "beat", 505]),
      ], { ...initialState, liveness: livenessState(DEFAULT_LIVENESS) }),
    ),
  );
  const run = runScenario(
    [...proven, beacons([3, "bye", 504], [2, "beat", 505])],
    { ...initialState, liveness: livenessState(DEFAULT_LIVENESS) },
  );
  assertEquals([...run.final.peers.keys()], [2, 4]);
  assertEquals(run.final.liveness.peers.get(2)?.lastHeard, 505);
});
