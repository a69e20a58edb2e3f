/**
 * The signaling server on Node (and on Deno through its Node compatibility): `node:http` with this
 * project's own WebSocket framing (`_websocket_node.ts`).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createServer } from "node:http";
import { idleTimeoutOf, type RunningSignalingServer, type ServeOptions } from "./server.ts";
import { openFrontend } from "./_frontend.ts";
import { WebSocketHub } from "./_sockets.ts";
import { acceptWebSocket, type RawSocket } from "./_websocket_node.ts";

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
export async function serveSignalingNode(
  options: ServeOptions = {},
): Promise<RunningSignalingServer> {
  const idleTimeoutMs = idleTimeoutOf(options);
  const front = await openFrontend(options);
  const server = front.server;
  const hostname = options.hostname ?? "127.0.0.1";
  // Plain requests: /healthz, /metrics, /ice-servers (shared with the Deno server), else 426.
  const http = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://x").pathname;
    const answer = front.http(request.method ?? "GET", path);
    if (!answer) {
      response.writeHead(426, { upgrade: "websocket", "content-type": "text/plain" });
      response.end("WebRTC signaling server: connect with a WebSocket.\n");
      return;
    }
    answer.then((a) => {
      response.writeHead(a.status, a.headers);
      response.end(request.method === "HEAD" ? undefined : a.body);
    }, () => {
      response.writeHead(500);
      response.end();
    });
  });
  let resolveFinished!: () => void;
  const finished = new Promise<void>((r) => resolveFinished = r);
  // Keep-alive, and the silent clients' end, on one timer (`_sockets.ts`).
  const hub = new WebSocketHub(front, idleTimeoutMs);
  http.on("upgrade", (request, socket: RawSocket, head: Uint8Array) => {
    const ws = hub.accept((handlers) => acceptWebSocket(request, socket, hub.maxPayload, handlers));
    if (ws !== undefined && head.length > 0) ws.receive(Buffer.from(head));
  });
  return new Promise((resolve, reject) => {
    http.once("error", (error: unknown) => {
      void hub.close();
      void front.shutdown();
      reject(error);
    });
    http.listen(options.port ?? 9080, hostname, () => {
      const addr = http.address() as { address: string; port: number };
      const host = addr.address.includes(":") ? `[${addr.address}]` : addr.address;
      let stopping: Promise<void> | undefined;
      resolve({
        url: `ws://${host}:${addr.port}`,
        hostname: addr.address,
        port: addr.port,
        server,
        instance: front.cluster?.instance,
        finished,
        shutdown: () => {
          stopping ??= new Promise<void>((done) => {
            void front.shutdown().finally(async () => {
              await hub.close();
              http.close(() => {
                resolveFinished();
                done();
              });
              http.closeAllConnections();
            });
          });
          return stopping;
        },
      });
    });
  });
}
