/**
 * The checks of the requests of rules 1 and 2 (and 11), in the order SPEC.md and SPEC-GODOT4.md
 * give: each a {@link RequestCheck}, and the first that fails is the request's reply
 * (`firstFailure`). The rules that use them are in `reduce.ts`.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { MAX_LIFETIME } from "./channels.ts";
import { GodotError } from "./constants.ts";
import type { AddPeerRequested, InitializeRequested } from "./events.ts";
import { GODOT4_ADD_PEER_CHECKS } from "./reduce_godot4.ts";
import type { MeshState } from "./state.ts";
import { wrongApi } from "./_rules.ts";
import { check, checkPeerId, type RequestCheck, show } from "./_validate.ts";

/** Rule 1's checks, in order. */
export const INITIALIZE_CHECKS: ReadonlyArray<RequestCheck<MeshState, InitializeRequested>> = [
  (state) => state.godot === 3 ? E.right(undefined) : E.left(wrongApi(state, "initialize")),
  (_, { peerId }) => checkPeerId(peerId, "initialize"),
  (_, { serverCompatibility }) =>
    check(
      typeof serverCompatibility === "boolean",
      GodotError.ERR_INVALID_PARAMETER,
      () => `initialize: serverCompatibility must be a boolean, got ${show(serverCompatibility)}`,
    ),
  (state) =>
    check(
      state.uniqueId === 0,
      GodotError.ERR_ALREADY_IN_USE,
      () =>
        `initialize: the mesh is already initialized as peer ${state.uniqueId}; call close() first`,
    ),
  (state, { peerId }) =>
    check(
      !state.peers.has(peerId),
      GodotError.ERR_INVALID_PARAMETER,
      () => `initialize: ${peerId} is already the id of a remote peer in this mesh`,
    ),
];

/** Rule 2's checks, in the order SPEC gives. */
export const ADD_PEER_CHECKS: ReadonlyArray<RequestCheck<MeshState, AddPeerRequested>> = [
  (_, { peerId }) => checkPeerId(peerId, "addPeer"),
  (_, { lifetime }) =>
    check(
      typeof lifetime === "number" && Number.isInteger(lifetime) && lifetime >= 0 &&
        lifetime <= MAX_LIFETIME,
      GodotError.ERR_INVALID_PARAMETER,
      () =>
        `addPeer: unreliableLifetime must be an integer in 0..${MAX_LIFETIME} (milliseconds), got ${
          show(lifetime)
        }`,
    ),
  (state, { peerId }) =>
    check(
      !state.refuseNewConnections,
      GodotError.ERR_UNAUTHORIZED,
      () => `addPeer: refuseNewConnections is true, peer ${peerId} refused`,
    ),
  (_, { connection }) =>
    check(
      connection.w3c,
      GodotError.ERR_INVALID_PARAMETER,
      () =>
        `addPeer: expected an RTCPeerConnection (connectionState, createDataChannel, addEventListener), got ${connection.description}`,
    ),
  (_, { connection }) =>
    check(
      connection.state === "new",
      GodotError.ERR_INVALID_PARAMETER,
      () =>
        `addPeer: the connection must be in state "new", it is ${JSON.stringify(connection.state)}`,
    ),
  (state, { peerId }) =>
    check(
      !state.peers.has(peerId),
      GodotError.ERR_ALREADY_EXISTS,
      () => `addPeer: peer ${peerId} is already in the mesh; removePeer(${peerId}) first`,
    ),
  (state, { peerId }) =>
    check(
      peerId !== state.uniqueId,
      GodotError.ERR_INVALID_PARAMETER,
      () => `addPeer: ${peerId} is this mesh's own id`,
    ),
];

/** Rule 11: on a Godot 4 peer its own checks run first, then rule 2's. */
export const ADD_PEER_GODOT4_CHECKS: ReadonlyArray<RequestCheck<MeshState, AddPeerRequested>> = [
  ...GODOT4_ADD_PEER_CHECKS,
  ...ADD_PEER_CHECKS,
];
