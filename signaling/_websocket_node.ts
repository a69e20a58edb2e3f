/**
 * The RFC 6455 framing of `_websocket.ts` on a `node:net` socket (a `node:http` upgrade): the
 * socket's events drive the connection, its `write` takes the frames (a Latin-1 string is written
 * straight from the string, no buffer per frame).
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import {
  BAD_REQUEST,
  handshake,
  ServerWebSocket,
  type UpgradeRequest,
  type WebSocketHandlers,
} from "./_websocket.ts";

export { ServerWebSocket, type UpgradeRequest, type WebSocketHandlers } from "./_websocket.ts";

/** The subset of a `node:net` socket (or Deno's Node-compatible one) this file uses. */
export interface RawSocket {
  write(data: Uint8Array | string, encoding?: "latin1"): boolean;
  end(): void;
  destroy(): void;
  setNoDelay?(noDelay?: boolean): unknown;
  setTimeout?(ms: number): unknown;
  on(event: "data", listener: (chunk: Buffer) => void): unknown;
  on(event: "close" | "end" | "error", listener: (...args: unknown[]) => void): unknown;
}

/**
 * Completes the handshake of an upgrade request on `socket` and returns the connection, or
 * answers 400 and returns undefined. Bytes that arrived after the request's headers (the upgrade
 * event's `head`) go to {@link ServerWebSocket.receive} (a copy: they are unmasked in place) once
 * the caller is ready for frames.
 */
export function acceptWebSocket(
  request: UpgradeRequest,
  socket: RawSocket,
  maxPayload: number,
  handlers: WebSocketHandlers,
): ServerWebSocket | undefined {
  const answer = handshake(request);
  if (answer === undefined) {
    socket.on("error", () => {});
    socket.write(BAD_REQUEST);
    socket.destroy();
    return undefined;
  }
  socket.write(answer);
  socket.setTimeout?.(0);
  socket.setNoDelay?.(true);
  const ws = new ServerWebSocket(socket, maxPayload, handlers);
  socket.on("data", (chunk) => ws.receive(chunk));
  socket.on("end", () => socket.end());
  socket.on("error", () => {});
  socket.on("close", () => ws.ended());
  return ws;
}
