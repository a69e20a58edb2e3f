/**
 * Small pieces the mesh reducer's cases share (`reduce.ts`, `reduce_godot4.ts`): the step type,
 * replies and refusals, the peer map, and who is a client of peer 1.
 *
 * @module
 */
import { GodotError, TransferMode } from "./constants.ts";
import type { Effect, Reply } from "./effects.ts";
import { forgetPeer } from "./liveness.ts";
import type { MeshState, PeerState } from "./state.ts";
import type { Rejection } from "./_validate.ts";

/** What the reducer returns: the next state and the effects to carry out, in order. */
export type Step = readonly [MeshState, readonly Effect[]];

/** The reply of a request that passed. */
export const OK_REPLY: Reply = { type: "Reply", error: GodotError.OK, message: "" };

/** A refused request: the very same state and one `Reply` with the error and the reason. */
export function reject(state: MeshState, rejection: Rejection): Step {
  return [state, [{ type: "Reply", error: rejection.error, message: rejection.message }]];
}

function withPeers(state: MeshState, peers: ReadonlyMap<number, PeerState>): MeshState {
  return { ...state, peers };
}

/** The state with `peer` stored under its id. */
export function setPeer(state: MeshState, peer: PeerState): MeshState {
  const peers = new Map(state.peers);
  peers.set(peer.id, peer);
  return withPeers(state, peers);
}

/** The state without peer `id`, its liveness record forgotten too. */
export function deletePeer(state: MeshState, id: number): MeshState {
  const peers = new Map(state.peers);
  peers.delete(id);
  return { ...withPeers(state, peers), liveness: forgetPeer(state.liveness, id) };
}

/**
 * Whether we are a client of peer 1: a server-compatible Godot 3 mesh with another id (rule 6),
 * or a Godot 4 client (rule 12).
 */
export function isClient(state: MeshState): boolean {
  return state.godot === 4
    ? state.network === "client"
    : state.serverCompatibility && state.uniqueId !== 1;
}

/** The refusal of a call that belongs to the other API. */
export function wrongApi(state: MeshState, call: string): Rejection {
  return {
    error: GodotError.ERR_UNAVAILABLE,
    message: state.godot === 4
      ? `${call}: this is a Godot 4 WebRTCMultiplayerPeer; use createMesh(), createServer() or createClient()`
      : `${call}: this is a Godot 3 WebRTCMultiplayer; use initialize()`,
  };
}

/** Whether `value` is a Godot TransferMode (0, 1 or 2). */
export function isTransferMode(value: unknown): value is TransferMode {
  return value === TransferMode.UNRELIABLE || value === TransferMode.UNRELIABLE_ORDERED ||
    value === TransferMode.RELIABLE;
}
