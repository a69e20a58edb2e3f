/**
 * The signaling server on Deno: `Deno.serve` with WebSocket upgrade.
 *
 * @module
 */
import { SignalingServer, type SignalingServerOptions } from "./server.ts";

/** Options of {@link serveSignalingDeno}. */
export interface ServeOptions extends SignalingServerOptions {
  /** Interface to bind. Default `"127.0.0.1"` (loopback only). */
  hostname?: string;
  /** Port; `0` picks a free one. Default 9080 (the Godot demo's). */
  port?: number;
}

/** A running signaling server. */
export interface RunningSignalingServer {
  /** `ws://host:port` to give clients. */
  readonly url: string;
  /** The bound address. */
  readonly hostname: string;
  /** The bound port. */
  readonly port: number;
  /** The protocol driver (state, limits). */
  readonly server: SignalingServer;
  /** Closes every client with 1001 and stops listening. */
  shutdown(): Promise<void>;
  /** Settles when the server has stopped. */
  readonly finished: Promise<void>;
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
export function serveSignalingDeno(options: ServeOptions = {}): Promise<RunningSignalingServer> {
  const server = new SignalingServer(options);
  const sockets = new Set<WebSocket>();
  const hostname = options.hostname ?? "127.0.0.1";
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
          return new Response("WebRTC signaling server: connect with a WebSocket.\n", {
            status: 426,
            headers: { upgrade: "websocket" },
          });
        }
        const { socket, response } = Deno.upgradeWebSocket(request);
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
