/**
 * `deno run -A bench/beacon_step.ts [--ms 1500]`: the reducer's cost per received liveness beacon
 * on a server that has proven N clients (N = 64/128/256), with the beacons reduced one per step
 * (a batch of one: a beacon alone in its turn) and batched (`BeaconsReceived` of 2, 8 and N
 * receipts: the beats of several clients in one turn of the event loop). Prints µs per beacon,
 * median of 5 rounds. Pure core only: no stack, no interpreter.
 *
 * @module
 */
import type { BeaconReceipt, Event } from "../core/events.ts";
import { DEFAULT_LIVENESS, livenessState } from "../core/liveness.ts";
import { reduce } from "../core/reduce.ts";
import { initialState, type MeshState } from "../core/state.ts";
import { fmt, median } from "./_report.ts";

const arg = (name: string, fallback: number) => {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
};
const MS = arg("--ms", 1500);

/** A server (peer 1) with `n` announced clients (ids 2..n+1), each proven by a `hello` at 1 ms. */
export function provenServer(n: number): MeshState {
  const ids = Array.from({ length: n }, (_, i) => i + 2);
  const events: Event[] = [{ type: "InitializeRequested", peerId: 1, serverCompatibility: false }];
  for (const peerId of ids) {
    events.push(
      {
        type: "AddPeerRequested",
        peerId,
        lifetime: 1,
        connection: { w3c: true, state: "new", description: "RTCPeerConnection" },
      },
      { type: "ConnectionStateChanged", peerId, state: "connected" },
      ...([0, 1, 2] as const).map((channel) => ({
        type: "ChannelStateChanged" as const,
        peerId,
        channel,
        state: "open" as const,
      })),
      { type: "LivenessChannelOpened", peerId, now: 0 },
    );
  }
  events.push({
    type: "BeaconsReceived",
    receipts: ids.map((peerId) => ({ peerId, kind: "hello", now: 1 })),
  });
  let state: MeshState = { ...initialState, liveness: livenessState(DEFAULT_LIVENESS) };
  for (const e of events) state = reduce(state, e)[0];
  return state;
}

/** µs per beacon: every client beats (ids in turn), `batch` receipts per reducer step. */
export function beaconStepUs(n: number, batch: number, ms: number): number {
  let state = provenServer(n);
  let now = 2;
  let next = 0;
  let beacons = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let k = 0; k < 64; k++) {
      const receipts: BeaconReceipt[] = [];
      for (let b = 0; b < batch; b++) {
        receipts.push({ peerId: 2 + (next++ % n), kind: "beat", now: now += 0.01 });
      }
      state = reduce(state, { type: "BeaconsReceived", receipts })[0];
      beacons += batch;
    }
  }
  return ((performance.now() - t0) * 1000) / beacons;
}

if (import.meta.main) {
  console.log("| N | 1 per step µs | batch 2 µs | batch 8 µs | batch N µs |");
  console.log("|---|---:|---:|---:|---:|");
  for (const n of [64, 128, 256]) {
    const cells = [1, 2, 8, n].map((batch) => {
      const rounds = Array.from({ length: 5 }, () => beaconStepUs(n, batch, MS / 5));
      return fmt(median(rounds), 2);
    });
    console.log(`| ${n} | ${cells.join(" | ")} |`);
  }
}
