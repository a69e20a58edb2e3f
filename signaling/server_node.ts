/**
 * The signaling server on Node (and on Deno through its Node compatibility): the `ws` package.
 *
 * @module
 */
import { WebSocketServer } from "ws";
import {
  idleTimeoutOf,
  type RunningSignalingServer,
  type ServeOptions,
  SignalingServer,
} from "./server.ts";

export type { RunningSignalingServer, ServeOptions } from "./server.ts";

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
export function serveSignalingNode(options: ServeOptions = {}): Promise<RunningSignalingServer> {
  const idleTimeoutMs = idleTimeoutOf(options);
  const server = new SignalingServer(options);
  const hostname = options.hostname ?? "127.0.0.1";
  /** Every open socket and when it last sent anything (a frame or a pong). */
  const sockets = new Map<WsSocket, number>();
  const wss = new WebSocketServer({
    host: hostname,
    port: options.port ?? 9080,
    maxPayload: Math.max(TRANSPORT_MAX_PAYLOAD, server.limits.maxFrameBytes + 1),
  });
  let resolveFinished!: () => void;
  const finished = new Promise<void>((r) => resolveFinished = r);
  wss.on("connection", (ws: WsSocket) => {
    sockets.set(ws, performance.now());
    const seen = () => {
      if (sockets.has(ws)) sockets.set(ws, performance.now());
    };
    ws.on("pong", seen);
    const conn = server.open({
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
  // Keep-alive, and the silent clients' end: pings every eighth of idleTimeoutMs; a socket quiet
  // for idleTimeoutMs (eight pings unanswered) is terminated within one more eighth; its close event
  // then removes it from its lobby.
  const ping = setInterval(() => {
    const now = performance.now();
    for (const [ws, seenAt] of sockets) {
      try {
        if (idleTimeoutMs > 0 && now - seenAt >= idleTimeoutMs) ws.terminate();
        else ws.ping();
      } catch {
        // closing
      }
    }
  }, idleTimeoutMs > 0 ? Math.floor(idleTimeoutMs / 8) : PING_INTERVAL_MS);
  // Never keep a process alive just for the keep-alive timer (Node); Deno has no unref here.
  (ping as unknown as { unref?: () => void }).unref?.();
  return new Promise((resolve, reject) => {
    wss.once("error", (error: unknown) => {
      clearInterval(ping);
      reject(error);
    });
    wss.once("listening", () => {
      const addr = wss.address() as { address: string; port: number };
      const host = addr.address.includes(":") ? `[${addr.address}]` : addr.address;
      let stopping: Promise<void> | undefined;
      resolve({
        url: `ws://${host}:${addr.port}`,
        hostname: addr.address,
        port: addr.port,
        server,
        finished,
        shutdown: () => {
          stopping ??= new Promise<void>((done) => {
            clearInterval(ping);
            server.shutdown();
            const deadline = setTimeout(() => {
              for (const ws of sockets.keys()) ws.terminate();
            }, 2000);
            wss.close(() => {
              clearTimeout(deadline);
              resolveFinished();
              done();
            });
          });
          return stopping;
        },
      });
    });
  });
}
