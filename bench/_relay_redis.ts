/**
 * Relay benchmark server: two of this project's Deno servers sharing lobbies through a
 * redis-server started here (`--redis`). Prints both URLs on one line: the benchmark's hosts join
 * the first instance, its guests the second, so every relayed frame crosses Redis (guest ->
 * instance 2 -> Redis pub/sub -> instance 1, which holds the lobby and its host -> host). Both
 * instances run in this one process, so its CPU is theirs together (Redis's own is not counted).
 * See `_relay_entry.ts`.
 *
 * @module
 */
import { serveSignalingDeno } from "../signaling/server_deno.ts";
import { startRedis } from "../tests/signaling/_redis.ts";
import { BENCH_LIMITS, runBenchServer } from "./_relay_entry.ts";

// It stops by itself after 5 minutes at the latest (a bench step lasts one or two).
const redis = await startRedis(300);
const a = await serveSignalingDeno({ port: 0, limits: BENCH_LIMITS, redis: redis.url });
const b = await serveSignalingDeno({ port: 0, limits: BENCH_LIMITS, redis: redis.url });
// All at once: the harness SIGTERMs a server that takes over 3 s to stop.
runBenchServer(`${a.url} ${b.url}`, async () => {
  await Promise.all([redis.stop(), b.shutdown(), a.shutdown()]);
});
