/**
 * The signaling server on Node (and on Deno through its Node compatibility): `node:http` with this
 * project's own WebSocket framing (`_http_node.ts`, shared with the Deno server).
 *
 * @module
 */
import type { RunningSignalingServer, ServeOptions } from "./server.ts";
import { serveOnNodeHttp } from "./_http_node.ts";

export type { RunningSignalingServer, ServeOptions } from "./server.ts";
export { type Broker, type ClusterMessage, MemoryHub } from "./cluster.ts";

/**
 * Starts a signaling server on `node:http` (Node 18+, or Deno).
 *
 * @example
 * ```ts
 * import { serveSignalingNode } from "./server_node.ts";
 * const running = await serveSignalingNode({ port: 0 });
 * console.log(running.url.startsWith("ws://127.0.0.1:")); // true
 * await running.shutdown();
 * ```
 */
export function serveSignalingNode(
  options: ServeOptions = {},
): Promise<RunningSignalingServer> {
  return serveOnNodeHttp(options);
}
