/**
 * The signaling server on Node (and on Deno through its Node compatibility): `node:http` with this
 * project's own WebSocket framing (`_websocket_node.ts`).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createServer } from "node:http";
import {
  idleTimeoutOf,
  type RunningSignalingServer,
  type ServeOptions,
  type SignalingConnection,
} from "./server.ts";
import { openFrontend } from "./_frontend.ts";
import { acceptWebSocket, type RawSocket, type ServerWebSocket } from "./_websocket_node.ts";

export type { RunningSignalingServer, ServeOptions } from "./server.ts";
export { type Broker, type ClusterMessage, MemoryHub } from "./cluster.ts";

/** Hard cap of the transport: bigger messages are refused with 1009 before the rules see them. */
const TRANSPORT_MAX_PAYLOAD = 1024 * 1024;

/** Ping interval when `idleTimeoutMs` is off: the Godot demo's keep-alive (10 s). */
const PING_INTERVAL_MS = 10000;

/** Keep-alive ticks per `idleTimeoutMs`; a socket quiet for this many ticks is cut. */
const TICKS_PER_TIMEOUT = 5;

/** A socket quiet for this many ticks is pinged. */
const PING_AFTER_TICKS = 3;

/** One open socket, its connection to the rules, and the keep-alive tick of its last frame. */
interface Tracked {
  ws: ServerWebSocket | undefined;
  conn: SignalingConnection | undefined;
  seen: number;
}

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
  /** Every open socket. */
  const sockets = new Set<Tracked>();
  /** Keep-alive ticks so far: a frame stamps its socket with this, no clock read per frame. */
  let tick = 0;
  const maxPayload = Math.max(TRANSPORT_MAX_PAYLOAD, server.limits.maxFrameBytes + 1);
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
  http.on("upgrade", (request, socket: RawSocket, head: Uint8Array) => {
    const tracked: Tracked = { ws: undefined, conn: undefined, seen: tick };
    const ws = acceptWebSocket(request, socket, maxPayload, {
      text: (text) => {
        tracked.seen = tick;
        tracked.conn?.message(text);
      },
      binary: () => {
        tracked.seen = tick;
        tracked.conn?.message(new Uint8Array(0));
      },
      alive: () => tracked.seen = tick,
      closed: () => {
        sockets.delete(tracked);
        tracked.conn?.closed();
      },
    });
    if (ws === undefined) return;
    tracked.ws = ws;
    sockets.add(tracked);
    tracked.conn = front.open({
      send: (text) => ws.send(text),
      close: (code, reason) => ws.close(code, reason),
    });
    if (head.length > 0) ws.receive(Buffer.from(head));
  });
  // Keep-alive, and the silent clients' end, on one timer every fifth of idleTimeoutMs, counting
  // in ticks (a frame stamps its socket with the tick it came in). A socket quiet for three ticks
  // is pinged: a busy one proves itself with its frames, an idle one answers every third tick, so
  // 10,000 idle sockets cost about 2,100 pings a second at the default. A socket quiet for five
  // ticks (its last frame between four and five ticks ago: it had two ticks to answer a ping) is
  // cut, so a silent client is gone within idleTimeoutMs, and its close then removes it from its
  // lobby.
  const tickMs = idleTimeoutMs > 0
    ? Math.floor(idleTimeoutMs / TICKS_PER_TIMEOUT)
    : PING_INTERVAL_MS;
  const ping = setInterval(() => {
    tick++;
    for (const s of sockets) {
      const quiet = tick - s.seen;
      if (idleTimeoutMs > 0 && quiet >= TICKS_PER_TIMEOUT) s.ws?.terminate();
      else if (idleTimeoutMs === 0 || quiet >= PING_AFTER_TICKS) s.ws?.ping();
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
            void front.shutdown().finally(async () => {
              // Wait (briefly) for the close handshakes so no socket outlives the server.
              const deadline = Date.now() + 2000;
              while (sockets.size > 0 && Date.now() < deadline) {
                await new Promise((r) => setTimeout(r, 10));
              }
              for (const s of sockets) s.ws?.terminate();
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
