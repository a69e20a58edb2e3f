/**
 * The signaling server on Deno: `node:http` through Deno's Node compatibility with this project's
 * own WebSocket framing and keep-alive (`_http_node.ts`, shared with the Node server), plus the
 * static files of `staticDir`. It ran on `Deno.serve` and Deno's own `WebSocket` before: that cost
 * slightly more CPU per relayed frame and three times the memory per idle socket (BENCHMARKS.md
 * "Signaling relay").
 *
 * @module
 */
import type { RunningSignalingServer, ServeOptions } from "./server.ts";
import { serveStatic } from "./_static.ts";
import { serveOnNodeHttp } from "./_http_node.ts";

export type { RunningSignalingServer, ServeOptions } from "./server.ts";
export { type Broker, type ClusterMessage, MemoryHub } from "./cluster.ts";

/** Options of {@link serveSignalingDeno}. */
export interface DenoServeOptions extends ServeOptions {
  /**
   * A folder whose files are served over plain HTTP on the same port (`GET /` gives its
   * `index.html`), for a web page that uses this server. WebSocket upgrades still go to
   * signaling. Default: none (plain requests get 426).
   */
  staticDir?: string | URL;
}

/**
 * Starts a signaling server on Deno.
 *
 * @example
 * ```ts
 * import { serveSignalingDeno } from "./server_deno.ts";
 * const running = await serveSignalingDeno({ port: 0 });
 * console.log(running.url.startsWith("ws://127.0.0.1:")); // true
 * await running.shutdown();
 * ```
 */
export function serveSignalingDeno(
  options: DenoServeOptions = {},
): Promise<RunningSignalingServer> {
  const staticDir = options.staticDir === undefined
    ? undefined
    : options.staticDir instanceof URL
    ? decodeURIComponent(options.staticDir.pathname).replace(/\/$/, "")
    : options.staticDir.replace(/\/$/, "");
  return serveOnNodeHttp(
    options,
    staticDir === undefined ? undefined : (request) => serveStatic(request, staticDir),
  );
}
