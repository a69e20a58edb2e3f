/**
 * Relay benchmark server: this project's Node server (`serveSignalingNode`), bundled by esbuild and
 * run by `node`. See `_relay_entry.ts`.
 *
 * @module
 */
import { serveSignalingNode } from "../signaling/server_node.ts";
import { BENCH_LIMITS, runBenchServer } from "./_relay_entry.ts";

const running = await serveSignalingNode({ port: 0, limits: BENCH_LIMITS });
runBenchServer(running.url, running.shutdown);
