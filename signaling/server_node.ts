/**
 * The signaling server on Node (and on Deno through its Node compatibility): the `ws` package.
 *
 * @module
 */
import { createServer } from "node:http";
import { WebSocketServer } from "ws";
import { idleTimeoutOf, type RunningSignalingServer, type ServeOptions } from "./server.ts";
import { openFrontend } from "./_frontend.ts";

export type { RunningSignalingServer, ServeOptions } from "./server.ts";
export { type Broker, type ClusterMessage, MemoryHub } from "./cluster.ts";

/** Hard cap handed to `ws` (`maxPayload`): bigger frames are refused by `ws` itself with 1009. */
const TRANSPORT_MAX_PAYLOAD = 1024 * 1024;

/** Ping interval when `idleTimeoutMs` is off: the Godot demo's keep-alive (10 s). */
const PING_INTERVAL_MS = 10000;

/** The subset of `ws`'s socket this file uses. */
interface WsSocket {
  readyState: number;
  send(data: string): void;
  close(code: number, reason: string): void;
  ping(): void;
  terminate(): void;
  on(event: "message", listener: (data: unknown, isBinary: boolean) => void): void;
  on(event: "close" | "error" | "pong", listener: (...args: unknown[]) => void): void;
}

/**
 * Starts a signaling server on the `ws` package (Node 18+, or Deno).
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
  /** Every open socket and when it last sent anything (a frame or a pong). */
  const sockets = new Map<WsSocket, number>();
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
  const wss = new WebSocketServer({
    server: http,
    maxPayload: Math.max(TRANSPORT_MAX_PAYLOAD, server.limits.maxFrameBytes + 1),
  });
  // `ws` re-emits the HTTP server's errors (a port in use); they are handled on `http` below.
  wss.on("error", () => {});
  let resolveFinished!: () => void;
  const finished = new Promise<void>((r) => resolveFinished = r);
  wss.on("connection", (ws: WsSocket) => {
    sockets.set(ws, performance.now());
    const seen = () => {
      if (sockets.has(ws)) sockets.set(ws, performance.now());
    };
    ws.on("pong", seen);
    const conn = front.open({
      send: (text) => {
        if (ws.readyState === 1) ws.send(text);
      },
      close: (code, reason) => ws.close(code, reason),
    });
    ws.on("message", (data: unknown, isBinary: boolean) => {
      seen();
      if (isBinary) conn.message(new Uint8Array(0));
      else conn.message(String(data));
    });
    ws.on("error", () => {});
    ws.on("close", () => {
      sockets.delete(ws);
      conn.closed();
    });
  });
  // Keep-alive, and the silent clients' end, on one timer every fifth of idleTimeoutMs. Only a
  // socket quiet for at least one tick is pinged: a busy one proves itself with its frames, and an
  // idle one answers every other tick, so 10,000 idle sockets cost 2,500 pings a second at the
  // default, not 10,000. A live one is therefore never quiet much past two ticks; a socket quiet
  // for four (idleTimeoutMs less one tick) is terminated, so a silent client is gone within
  // idleTimeoutMs, and its close event then removes it from its lobby.
  const tickMs = idleTimeoutMs > 0 ? Math.floor(idleTimeoutMs / 5) : PING_INTERVAL_MS;
  const ping = setInterval(() => {
    const now = performance.now();
    for (const [ws, seenAt] of sockets) {
      const quiet = now - seenAt;
      try {
        if (idleTimeoutMs > 0 && quiet >= idleTimeoutMs - tickMs) ws.terminate();
        else if (idleTimeoutMs === 0 || quiet >= tickMs) ws.ping();
      } catch {
        // closing
      }
    }
  }, tickMs);
  // Never keep a process alive just for the keep-alive timer (Node); Deno has no unref here.
  (ping as unknown as { unref?: () => void }).unref?.();
  return new Promise((resolve, reject) => {
    http.once("error", (error: unknown) => {
      clearInterval(ping);
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
            clearInterval(ping);
            const deadline = setTimeout(() => {
              for (const ws of sockets.keys()) ws.terminate();
            }, 2000);
            void front.shutdown().finally(() => {
              wss.close(() => {
                http.close(() => {
                  clearTimeout(deadline);
                  resolveFinished();
                  done();
                });
                http.closeAllConnections();
              });
            });
          });
          return stopping;
        },
      });
    });
  });
}
