/**
 * The `ws` package's WebSocket client, for runtimes without a global `WebSocket` (Node 20). The
 * client loads this file only when it needs it, so browsers never load `ws`.
 *
 * @module
 */
import { WebSocket as WsWebSocket } from "ws";
import type { WebSocketConstructor } from "./client.ts";

/** `ws`'s `WebSocket` class, typed as the client uses it. */
export const WebSocket: WebSocketConstructor = WsWebSocket as unknown as WebSocketConstructor;
