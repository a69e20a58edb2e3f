/**
 * `deno run --v8-flags=--expose-gc bench/lobby_ids.ts [1000 10000 100000]`: the cost of one
 * join in a long-lived lobby (issue 17) that has already seen N joins (each member joined and
 * left, so the lobby stays small): the time per join, the bytes allocated per join (heap growth
 * over a batch of joins with GC in between only when V8 must), and the heap the lobby keeps.
 * Pure lobby rules (`reduceServer`), default environment, Godot 3 mesh lobby.
 *
 * @module
 */
import { defaultEnv, emptyServer, reduceServer, type ServerState } from "../signaling/lobby.ts";

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const env = defaultEnv({ maxPeers: 1 << 20, maxLobbyPeers: 1 << 20 });
let state: ServerState = emptyServer;
let key = 0;
const step = (e: Parameters<typeof reduceServer>[1]) => (state = reduceServer(state, e, env)[0]);
const text = (k: number, t: string) =>
  step({ type: "Text", key: k, text: t, bytes: t.length, now: 0 });
const joinAndLeave = (name: string) => {
  const k = ++key;
  step({ type: "Opened", key: k, now: 0 });
  text(k, `J: ${name}\n`);
  step({ type: "Closed", key: k, now: 0 });
};

const lobby = () => {
  step({ type: "Opened", key: ++key, now: 0 });
  text(key, "J: \n");
  return [...state.lobbies.keys()].at(-1)!;
};
// Warm-up (JIT) in a lobby of its own, then the measured lobby.
const warm = lobby();
for (let i = 0; i < 2000; i++) joinAndLeave(warm);
const name = lobby();
const sizes = Deno.args.length ? Deno.args.map(Number) : [1000, 10000, 100000];
const BATCH = 1000;
let seen = 0;
console.log("| joins seen | µs per join | bytes allocated per join | heap kept (MB) |");
console.log("| ---: | ---: | ---: | ---: |");
for (const n of sizes) {
  while (seen < n) joinAndLeave(name), seen++;
  gc();
  const kept = Deno.memoryUsage().heapUsed;
  const t0 = performance.now();
  for (let i = 0; i < BATCH; i++) joinAndLeave(name);
  const us = ((performance.now() - t0) * 1000) / BATCH;
  // Allocation: a batch of joins with GC off as far as V8 allows (heap growth between GCs).
  gc();
  const h0 = Deno.memoryUsage().heapUsed;
  const small = 50;
  for (let i = 0; i < small; i++) joinAndLeave(name);
  const perJoin = (Deno.memoryUsage().heapUsed - h0) / small;
  seen += BATCH + small;
  console.log(
    `| ${n} | ${us.toFixed(1)} | ${perJoin > 0 ? Math.round(perJoin) : "n/a (GC ran)"} | ${
      (kept / 1e6).toFixed(2)
    } |`,
  );
}
