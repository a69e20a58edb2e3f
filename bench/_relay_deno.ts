/**
 * Relay benchmark server: this project's Deno server (`serveSignalingDeno`). See `_relay_entry.ts`.
 *
 * @module
 */
import { serveSignalingDeno } from "../signaling/server_deno.ts";
import { BENCH_LIMITS, runBenchServer } from "./_relay_entry.ts";

// `--idle-off`: no keep-alive (idleTimeoutMs 0), to size what Deno's costs per frame.
const idleTimeoutMs = Deno.args.includes("--idle-off") ? 0 : undefined;
const running = await serveSignalingDeno({ port: 0, limits: BENCH_LIMITS, idleTimeoutMs });
runBenchServer(running.url, running.shutdown);
