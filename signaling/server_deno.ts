/**
 * The signaling server on Deno: `Deno.serve` with WebSocket upgrade.
 *
 * @module
 */
import { idleTimeoutOf, type RunningSignalingServer, type ServeOptions } from "./server.ts";
import { serveStatic } from "./_static.ts";
import { type Frontend, openFrontend } from "./_frontend.ts";

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
export async function serveSignalingDeno(
  options: DenoServeOptions = {},
): Promise<RunningSignalingServer> {
  const idleTimeoutMs = idleTimeoutOf(options);
  // Deno's WebSocket (ext/websocket 01_websocket.js) pings a socket quiet for half of its
  // idleTimeout (whole seconds) and closes it when nothing, not even a pong, follows within the
  // other half: a silent client goes idleTimeout after its last frame, and an idle one is pinged
  // every half of it. The whole seconds strictly below idleTimeoutMs (7 for the default 8000), so
  // the timer's own lateness still falls within it.
  const idleTimeout = idleTimeoutMs === 0 ? 0 : Math.max(1, Math.floor((idleTimeoutMs - 1) / 1000));
  const front = await openFrontend(options);
  const server = front.server;
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
          const answer = front.http(request.method, new URL(request.url).pathname);
          if (answer) {
            return answer.then((a) => new Response(request.method === "HEAD" ? null : a.body, a));
          }
          if (staticDir !== undefined) return serveStatic(request, staticDir);
          return new Response("WebRTC signaling server: connect with a WebSocket.\n", {
            status: 426,
            headers: { upgrade: "websocket" },
          });
        }
        const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout });
        attach(front, socket, sockets);
        return response;
      });
    } catch (error) {
      void front.shutdown();
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
      instance: front.cluster?.instance,
      finished: httpServer.finished,
      shutdown: () => {
        stopping ??= (async () => {
          await front.shutdown();
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

function attach(front: Frontend, socket: WebSocket, sockets: Set<WebSocket>): void {
  sockets.add(socket);
  socket.binaryType = "arraybuffer";
  let conn: ReturnType<Frontend["open"]> | undefined;
  socket.onopen = () => {
    conn = front.open({
      send: (text) => {
        // Open from here on: Deno's send drops a frame on a closing or closed socket by itself.
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
