/**
 * The signaling server on Deno: `Deno.listen` TCP with its own minimal HTTP/1.1 and this project's
 * own WebSocket framing (`_conn_deno.ts`, `_websocket.ts`: the framing the Node server uses), and
 * keep-alive on the server's one timer (`_sockets.ts`).
 *
 * @module
 */
import { idleTimeoutOf, type RunningSignalingServer, type ServeOptions } from "./server.ts";
import { serveStatic } from "./_static.ts";
import { openFrontend } from "./_frontend.ts";
import { WebSocketHub } from "./_sockets.ts";
import { BAD_REQUEST, handshake, ServerWebSocket } from "./_websocket.ts";
import { listenConns, type Listening } from "./_conn_deno.ts";

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
  const front = await openFrontend(options);
  const server = front.server;
  const hostname = options.hostname ?? "127.0.0.1";
  const staticDir = options.staticDir === undefined
    ? undefined
    : options.staticDir instanceof URL
    ? decodeURIComponent(options.staticDir.pathname).replace(/\/$/, "")
    : options.staticDir.replace(/\/$/, "");
  // Keep-alive, and the silent clients' end, on one timer (`_sockets.ts`).
  const hub = new WebSocketHub(front, idleTimeoutMs);
  let listening: Listening;
  try {
    listening = listenConns({ hostname, port: options.port ?? 9080 }, {
      upgrade: (request, transport) =>
        hub.accept((handlers) => {
          const answer = handshake(request);
          if (answer === undefined) {
            transport.write(BAD_REQUEST);
            transport.end();
            return undefined;
          }
          transport.write(answer);
          return new ServerWebSocket(transport, hub.maxPayload, handlers);
        }),
      // Plain requests: /healthz, /metrics, /ice-servers (shared with the Node server), the
      // static files, else 426. HEAD answers carry GET's headers and no body (`_conn_deno.ts`).
      request: (request) => {
        const answer = front.http(request.method, new URL(request.url).pathname);
        if (answer) return answer.then((a) => new Response(a.body, a));
        if (staticDir !== undefined) return serveStatic(request, staticDir);
        return new Response("WebRTC signaling server: connect with a WebSocket.\n", {
          status: 426,
          headers: { upgrade: "websocket" },
        });
      },
    });
  } catch (error) {
    await hub.close();
    await front.shutdown();
    throw error;
  }
  const addr = listening.addr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  let stopping: Promise<void> | undefined;
  return {
    url: `ws://${host}:${addr.port}`,
    httpUrl: staticDir === undefined ? undefined : `http://${host}:${addr.port}/`,
    hostname: addr.hostname,
    port: addr.port,
    server,
    instance: front.cluster?.instance,
    finished: listening.finished,
    shutdown: () =>
      stopping ??= (async () => {
        // Close every socket (1001), wait briefly for the close handshakes, cut what is left.
        await front.shutdown();
        await hub.close();
        await listening.close();
      })(),
  };
}
