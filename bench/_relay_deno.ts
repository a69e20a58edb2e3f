/**
 * Relay benchmark server: this project's Deno server (`serveSignalingDeno`). See `_relay_entry.ts`.
 *
 * @module
 */
import { serveSignalingDeno } from "../signaling/server_deno.ts";
import { BENCH_LIMITS, runBenchServer } from "./_relay_entry.ts";

const running = await serveSignalingDeno({ port: 0, limits: BENCH_LIMITS });
runBenchServer(running.url, running.shutdown);
