/**
 * Signaling compatible with Godot's `networking/webrtc_signaling` demo, Godot 3 and Godot 4: both
 * protocols (Godot 3's text lines, Godot 4's JSON), the lobby rules (mesh and client/server
 * lobbies, mixed lobbies of both protocols), the transport-agnostic server that speaks both on
 * one port, and two clients: `joinLobby` wires a Godot 3 `WebRTCMultiplayer` to a lobby,
 * `joinLobbyGodot4` a Godot 4 `WebRTCMultiplayerPeer`. See `PROTOCOL.md`.
 *
 * This module runs everywhere (browsers included). The WebSocket servers are separate entry
 * points: `./signaling/node` (`node:http`; Node, and Deno through its Node compatibility) and
 * `./signaling/deno` (the same `node:http` server run by Deno, plus static files), both with this
 * project's own WebSocket framing. In Deno and Node, `joinLobby` uses node-datachannel and (on
 * Node 20) `ws` unless you pass your own; in browsers it uses the browser's classes.
 *
 * @example Create a lobby and join it
 * ```ts
 * import { joinLobby } from "./mod.ts";
 * import { serveSignalingNode } from "./server_node.ts";
 * const server = await serveSignalingNode({ port: 0 });
 * const host = await joinLobby(server.url); // "" creates a lobby; its creator is peer 1
 * const guest = await joinLobby(server.url, host.lobby);
 * await new Promise((r) => guest.mesh.addEventListener("connection_succeeded", r, { once: true }));
 * console.log(host.mesh.getUniqueId(), guest.mesh.getUniqueId() > 1); // 1 true
 * for (const client of [guest, host]) {
 *   await client.close();
 *   await client.mesh.whenClosed();
 * }
 * await server.shutdown();
 * ```
 *
 * @module
 */
export * from "./protocol.ts";
export * from "./protocol_godot4.ts";
export * from "./codec.ts";
export * from "./lobby.ts";
export * from "./server.ts";
export * from "./client.ts";
export * from "./client_godot4.ts";
export * from "./ice.ts";
