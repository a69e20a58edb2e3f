/**
 * Godot 4's own request cases of the mesh reducer (theory of operation: rules 10, 11, 13 and 14
 * of `reduce.ts`): `CreateRequested` (createMesh/createServer/createClient), the checks that
 * `AddPeerRequested` runs first on a Godot 4 peer, `DisconnectPeerRequested` and
 * `TransferChannelSet`.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { MAX_EXTRA_CHANNELS, MAX_TRANSFER_CHANNEL } from "./channels.ts";
import { ConnectionStatus, GodotError, type TransferMode } from "./constants.ts";
import type { AddPeerRequested, CreateRequested, DisconnectPeerRequested } from "./events.ts";
import type { MeshState } from "./state.ts";
import {
  deletePeer,
  isClient,
  isTransferMode,
  OK_REPLY,
  reject,
  type Step,
  wrongApi,
} from "./_rules.ts";
import { check, checkPeerId, firstFailure, isPeerId, show } from "./_validate.ts";
import type { RequestCheck } from "./_validate.ts";

function createCall(network: CreateRequested["network"]): string {
  return network === "mesh" ? "createMesh" : network === "server" ? "createServer" : "createClient";
}

/** Rule 10's checks, in order (SPEC-GODOT4 section 1). */
const CREATE_CHECKS: ReadonlyArray<RequestCheck<MeshState, CreateRequested>> = [
  (state, { network }) =>
    state.godot === 4 ? E.right(undefined) : E.left(wrongApi(state, createCall(network))),
  (_, { network, peerId }) =>
    check(
      network !== "client" || peerId !== 1,
      GodotError.ERR_INVALID_PARAMETER,
      () => "createClient: Clients cannot have ID 1.",
    ),
  (_, { network, peerId }) => checkPeerId(peerId, createCall(network)),
  (_, { network, channelsConfig }) =>
    check(
      Array.isArray(channelsConfig),
      GodotError.ERR_INVALID_PARAMETER,
      () =>
        `${createCall(network)}: channelsConfig must be an array of TransferMode values, got ${
          show(channelsConfig)
        }`,
    ),
  (_, { network, channelsConfig }) => {
    const config = channelsConfig as readonly unknown[];
    const bad = config.findIndex((mode) => !isTransferMode(mode));
    return check(
      bad === -1,
      GodotError.ERR_INVALID_PARAMETER,
      () =>
        `${createCall(network)}: channelsConfig[${bad}] is ${
          show(config[bad])
        }; each entry must be a TransferMode (0 UNRELIABLE, 1 UNRELIABLE_ORDERED, 2 RELIABLE)`,
    );
  },
  (_, { network, channelsConfig }) =>
    check(
      (channelsConfig as readonly unknown[]).length <= MAX_EXTRA_CHANNELS,
      GodotError.ERR_INVALID_PARAMETER,
      () =>
        `${createCall(network)}: channelsConfig has ${
          (channelsConfig as readonly unknown[]).length
        } entries; at most ${MAX_EXTRA_CHANNELS}`,
    ),
  (state, { network }) =>
    check(
      state.status === ConnectionStatus.DISCONNECTED && state.peers.size === 0,
      GodotError.ERR_ALREADY_IN_USE,
      () =>
        `${
          createCall(network)
        }: the peer is already in use as peer ${state.uniqueId} (${state.network}, ${state.peers.size} peer(s)); call close() first`,
    ),
];

/** Rule 10: `CreateRequested` sets the network mode, the extra channels and the status. */
export function create(state: MeshState, event: CreateRequested): Step {
  const verdict = firstFailure(CREATE_CHECKS, state, event);
  if (E.isLeft(verdict)) return reject(state, verdict.left);
  return [{
    ...state,
    uniqueId: event.peerId,
    network: event.network,
    channelsConfig: Object.freeze([...(event.channelsConfig as TransferMode[])]),
    status: event.network === "client" ? ConnectionStatus.CONNECTING : ConnectionStatus.CONNECTED,
  }, [OK_REPLY]];
}

/** Rule 13: `DisconnectPeerRequested`, forced (dropped at once) or not (closed, then observed). */
export function disconnectPeer(state: MeshState, event: DisconnectPeerRequested): Step {
  const peer = isPeerId(event.peerId) ? state.peers.get(event.peerId) : undefined;
  if (peer === undefined) {
    return reject(state, {
      error: GodotError.ERR_DOES_NOT_EXIST,
      message: `disconnectPeer: peer ${show(event.peerId)} is not connected to this peer`,
    });
  }
  if (typeof event.force !== "boolean") {
    return reject(state, {
      error: GodotError.ERR_INVALID_PARAMETER,
      message: `disconnectPeer: force must be a boolean, got ${show(event.force)}`,
    });
  }
  if (!event.force) return [state, [{ type: "CloseConnection", peerId: peer.id }, OK_REPLY]];
  let next = deletePeer(state, peer.id);
  if (peer.id === 1 && isClient(state)) next = { ...next, status: ConnectionStatus.DISCONNECTED };
  return [next, [{ type: "ClosePeer", peerId: peer.id }, OK_REPLY]];
}

/** Rule 14: `TransferChannelSet`, an integer 0..255. */
export function setTransferChannel(state: MeshState, value: unknown): Step {
  if (
    typeof value !== "number" || !Number.isInteger(value) || value < 0 ||
    value > MAX_TRANSFER_CHANNEL
  ) {
    return reject(state, {
      error: GodotError.ERR_INVALID_PARAMETER,
      message: `transferChannel must be an integer in 0..${MAX_TRANSFER_CHANNEL}, got ${
        show(value)
      }`,
    });
  }
  return [{ ...state, transferChannel: value === 0 ? 0 : value }, [OK_REPLY]];
}

/** Rule 11's own checks, which `reduce.ts` runs before rule 2's (SPEC-GODOT4 section 3). */
export const GODOT4_ADD_PEER_CHECKS: ReadonlyArray<RequestCheck<MeshState, AddPeerRequested>> = [
  (state) =>
    check(
      state.network !== "none",
      GodotError.ERR_UNCONFIGURED,
      () =>
        "addPeer: the peer is not created; call createMesh(), createServer() or createClient() first",
    ),
  (state, { peerId }) =>
    check(
      state.network !== "client" || peerId === 1,
      GodotError.ERR_INVALID_PARAMETER,
      () => `addPeer: a client connects to the server only (peer 1), got ${show(peerId)}`,
    ),
  (state, { peerId }) =>
    check(
      state.network !== "server" || peerId !== 1,
      GodotError.ERR_INVALID_PARAMETER,
      () => "addPeer: a server cannot add peer 1 (its own id)",
    ),
];
