/**
 * The signaling server on Deno: `Deno.serve` with WebSocket upgrade.
 *
 * @module
 */
import {
  idleTimeoutOf,
  type RunningSignalingServer,
  type ServeOptions,
  SignalingServer,
} from "./server.ts";
import { serveStatic } from "./_static.ts";
import { ICE_SERVERS_PATH } from "./ice.ts";
import type { IceServer } from "../adapters/loopback.ts";

export type { RunningSignalingServer, ServeOptions } from "./server.ts";

/** Options of {@link serveSignalingDeno}. */
export interface DenoServeOptions extends ServeOptions {
  /**
   * A folder whose files are served over plain HTTP on the same port (`GET /` gives its
   * `index.html`), for a web page that uses this server. WebSocket upgrades still go to
   * signaling. Default: none (plain requests get 426).
   */
  staticDir?: string | URL;
  /**
   * Hands clients their ICE servers at `GET /ice-servers` (JSON `{ "iceServers": [...] }`), for
   * example time-limited TURN credentials from `restIceServers`. Default: none (404).
   */
  iceServers?: () => Promise<IceServer[]> | IceServer[];
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
  const idleTimeoutMs = idleTimeoutOf(options);
  // Deno pings a socket idle for idleTimeout seconds and closes it when no pong follows within
  // as long again: a silent client goes after at most twice this.
  const idleTimeout = idleTimeoutMs === 0 ? 0 : Math.max(1, Math.floor(idleTimeoutMs / 2000));
  const server = new SignalingServer(options);
  const sockets = new Set<WebSocket>();
  const hostname = options.hostname ?? "127.0.0.1";
  const staticDir = options.staticDir === undefined
    ? undefined
    : options.staticDir instanceof URL
    ? decodeURIComponent(options.staticDir.pathname).replace(/\/$/, "")
    : options.staticDir.replace(/\/$/, "");
  return new Promise((resolve, reject) => {
    let httpServer: Deno.HttpServer<Deno.NetAddr>;
    try {
      httpServer = Deno.serve({
        hostname,
        port: options.port ?? 9080,
        onListen: () => {},
        onError: () => new Response("Internal error", { status: 500 }),
      }, (request) => {
        if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
          const ice = options.iceServers;
          if (ice && new URL(request.url).pathname === ICE_SERVERS_PATH) {
            return Promise.resolve(ice()).then((iceServers) =>
              Response.json({ iceServers }, {
                headers: { "cache-control": "no-store", "access-control-allow-origin": "*" },
              })
            );
          }
          if (staticDir !== undefined) return serveStatic(request, staticDir);
          return new Response("WebRTC signaling server: connect with a WebSocket.\n", {
            status: 426,
            headers: { upgrade: "websocket" },
          });
        }
        const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout });
        attach(server, socket, sockets);
        return response;
      });
    } catch (error) {
      reject(error);
      return;
    }
    const addr = httpServer.addr;
    const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
    let stopping: Promise<void> | undefined;
    resolve({
      url: `ws://${host}:${addr.port}`,
      httpUrl: staticDir === undefined ? undefined : `http://${host}:${addr.port}/`,
      hostname: addr.hostname,
      port: addr.port,
      server,
      finished: httpServer.finished,
      shutdown: () => {
        stopping ??= (async () => {
          server.shutdown();
          // Wait (briefly) for the close handshakes so no socket outlives the server.
          const deadline = Date.now() + 2000;
          while (sockets.size > 0 && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 10));
          }
          await httpServer.shutdown();
        })();
        return stopping;
      },
    });
  });
}

function attach(server: SignalingServer, socket: WebSocket, sockets: Set<WebSocket>): void {
  sockets.add(socket);
  socket.binaryType = "arraybuffer";
  let conn: ReturnType<SignalingServer["open"]> | undefined;
  socket.onopen = () => {
    conn = server.open({
      send: (text) => {
        if (socket.readyState !== WebSocket.OPEN) return;
        try {
          socket.send(text);
        } catch {
          // closing: the frame is dropped, like the demo's ws.send on a closing socket
        }
      },
      close: (code, reason) => {
        try {
          socket.close(code, reason);
        } catch {
          // already closed
        }
      },
    });
  };
  socket.onmessage = (event: MessageEvent) => conn?.message(event.data);
  socket.onerror = () => {};
  socket.onclose = () => {
    sockets.delete(socket);
    conn?.closed();
  };
}
