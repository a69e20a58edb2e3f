/**
 * Signaling compatible with Godot's `networking/webrtc_signaling` demo (Godot 3): the text
 * protocol, the lobby rules, a server for Deno and Node, and a client that wires a
 * `WebRTCMultiplayer` to a lobby. See `PROTOCOL.md`.
 *
 * The Node server (`server_node.ts`, needs the `ws` package) is a separate entry point so that
 * this module stays usable in browsers.
 *
 * @example
 * ```ts
 * import { joinLobby, serveSignalingDeno } from "./mod.ts";
 * const server = await serveSignalingDeno({ port: 0 });
 * const host = await joinLobby(server.url);
 * console.log(host.mesh.getUniqueId()); // 1
 * await host.close();
 * await server.shutdown();
 * ```
 *
 * @module
 */
export * from "./protocol.ts";
export * from "./lobby.ts";
export * from "./server.ts";
export * from "./server_deno.ts";
export * from "./client.ts";
