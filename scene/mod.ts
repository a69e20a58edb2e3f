/**
 * Godot 4's SceneMultiplayer protocol (authentication, server relay, raw bytes, RPCs with a path
 * cache) as a pure layer above a MultiplayerPeer: the variant codec, the packet codec, the RPC
 * tables and the rules (`reduceScene`). The peer stays protocol-free.
 *
 * @module
 */
export * from "./variant.ts";
export * from "./md5.ts";
export * from "./wire.ts";
export * from "./rpc.ts";
export * from "./state.ts";
export * from "./reduce.ts";
export { GodotError, TransferMode } from "../core/constants.ts";
export * from "./multiplayer.ts";
