/**
 * The `node:http` server both signaling servers run on (Node, and Deno through its Node
 * compatibility): plain requests get the shared routes (`/healthz`, `/metrics`, `/ice-servers`),
 * then the caller's `fallback` (the Deno server's static files), else 426; WebSocket upgrades go
 * to this project's own framing (`_websocket.ts` on a `node:net` socket, `_websocket_node.ts`),
 * kept alive by one timer for all sockets (`_sockets.ts`).
 *
 * Measured before choosing it for the Deno server too (BENCHMARKS.md "Signaling relay"): under Deno
 * it cost less CPU per relayed frame than `Deno.serve` with Deno's own `WebSocket`, and than a
 * transport of our own on `Deno.listen` (a `conn.read` op per read, a buffer held per connection),
 * and a third of their memory per idle socket.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { idleTimeoutOf, type RunningSignalingServer, type ServeOptions } from "./server.ts";
import { openFrontend } from "./_frontend.ts";
import { WebSocketHub } from "./_sockets.ts";
import { acceptWebSocket, type RawSocket } from "./_websocket_node.ts";

/** The body of the answer to a plain request nobody takes (426). */
const UPGRADE_REQUIRED = "WebRTC signaling server: connect with a WebSocket.\n";

/** Answers a plain request the shared routes did not take, or undefined for 426. */
export type Fallback = ((request: Request) => Response | Promise<Response>) | undefined;

/** The request as a fetch `Request` (no body: the routes and the static files take GET and HEAD). */
function fetchRequest(request: IncomingMessage): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (Array.isArray(value)) { for (const v of value) headers.append(name, v); }
    else if (value !== undefined) headers.set(name, value);
  }
  const host = /^[-0-9A-Za-z.:[\]]+$/.test(request.headers.host ?? "")
    ? request.headers.host
    : "localhost";
  return new Request(`http://${host}${request.url ?? "/"}`, {
    method: request.method ?? "GET",
    headers,
  });
}

/**
 * Writes a fetch `Response` with its length (for HEAD, no body: its headers say what GET would
 * send).
 */
async function writeResponse(
  response: Response,
  head: boolean,
  out: ServerResponse,
): Promise<void> {
  const body = head || response.body === null ? undefined : await response.bytes();
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => headers[name] = value);
  if (body !== undefined) headers["content-length"] = String(body.length);
  else if (!head) headers["content-length"] = "0";
  out.writeHead(response.status, headers);
  out.end(body === undefined ? undefined : Buffer.from(body.buffer, body.byteOffset, body.length));
}

/** Starts a signaling server on `node:http`; `fallback` answers what the shared routes do not. */
export async function serveOnNodeHttp(
  options: ServeOptions,
  fallback?: Fallback,
): Promise<RunningSignalingServer> {
  const idleTimeoutMs = idleTimeoutOf(options);
  const front = await openFrontend(options);
  const server = front.server;
  const hostname = options.hostname ?? "127.0.0.1";
  const http = createServer((request, response) => {
    const method = request.method ?? "GET";
    const path = new URL(request.url ?? "/", "http://x").pathname;
    const answer = front.http(method, path);
    if (answer) {
      answer.then((a) => {
        response.writeHead(a.status, {
          ...a.headers,
          "content-length": String(Buffer.byteLength(a.body)),
        });
        response.end(method === "HEAD" ? undefined : a.body);
      }, () => {
        response.writeHead(500);
        response.end();
      });
      return;
    }
    if (fallback === undefined) {
      response.writeHead(426, {
        upgrade: "websocket",
        "content-type": "text/plain",
        "content-length": String(UPGRADE_REQUIRED.length),
      });
      response.end(UPGRADE_REQUIRED);
      return;
    }
    (async () => {
      const made = await fallback(fetchRequest(request));
      await writeResponse(made, method === "HEAD", response);
    })().catch(() => {
      if (!response.headersSent) response.writeHead(500);
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
        httpUrl: fallback === undefined ? undefined : `http://${host}:${addr.port}/`,
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
