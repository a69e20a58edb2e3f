/**
 * The SceneMultiplayer core's state, events and effects: plain readonly data with peer ids.
 *
 * @module
 */
import type { GodotError, TransferMode } from "../core/constants.ts";
import type { RpcNode } from "./rpc.ts";
import type { Variant } from "./variant.ts";
import type { RejectReason } from "./wire.ts";

/** A peer whose authentication is in progress (`SceneMultiplayer::PendingPeer`). */
export interface PendingPeer {
  /** We called `completeAuth` for it. */
  readonly local: boolean;
  /** It sent its `07 00` confirmation. */
  readonly remote: boolean;
  /** When the transport connected it (ms, the clock of the events). */
  readonly since: number;
}

/** Our outgoing path-cache entry for one node path. */
export interface SentPath {
  /** The id we gave the path in SIMPLIFY_PATH. */
  readonly cacheId: number;
  /** Per peer: SIMPLIFY_PATH sent (false) or confirmed (true). */
  readonly confirmed: ReadonlyMap<number, boolean>;
}

/** Everything the SceneMultiplayer rules know. */
export interface SceneState {
  /** Our peer id; 0 while there is no connected transport. */
  readonly uniqueId: number;
  /** The transport is a server or a client (not a mesh): relay is possible. */
  readonly relaySupported: boolean;
  /** `server_relay` (default true). */
  readonly serverRelay: boolean;
  /** An `auth_callback` is set: new transport peers start pending. */
  readonly authEnabled: boolean;
  /** `auth_timeout` in ms (default 3000); 0 = none. */
  readonly authTimeout: number;
  /** Peers authenticating, by id. */
  readonly pending: ReadonlyMap<number, PendingPeer>;
  /** Admitted peers (relayed ones included), in admission order. */
  readonly connected: readonly number[];
  /** Registered RPC nodes by path. */
  readonly nodes: ReadonlyMap<string, RpcNode>;
  /** Our outgoing path cache by path. */
  readonly sent: ReadonlyMap<string, SentPath>;
  /** The next cache id we give a path (Godot's `last_send_cache_id`, starts at 1). */
  readonly nextCacheId: number;
  /** Paths peers gave us: peer -> their cache id -> path. */
  readonly recv: ReadonlyMap<number, ReadonlyMap<number, string>>;
  /** Refused packets (and checksum mismatches) counted by reason. */
  readonly rejected: Readonly<Partial<Record<RejectReason, number>>>;
}

/** The state before any transport: relay on, auth off, 3 s auth timeout. */
export const initialSceneState: SceneState = {
  uniqueId: 0,
  relaySupported: false,
  serverRelay: true,
  authEnabled: false,
  authTimeout: 3000,
  pending: new Map(),
  connected: [],
  nodes: new Map(),
  sent: new Map(),
  nextCacheId: 1,
  recv: new Map(),
  rejected: {},
};

/** Events: requests (API calls) and observations (what the transport reported). */
export type SceneEvent =
  /** The transport reached CONNECTED with this id (client: once peer 1 is connected). */
  | {
    readonly type: "TransportConnected";
    readonly uniqueId: number;
    readonly relaySupported: boolean;
  }
  /** The transport went DISCONNECTED: everything is forgotten (Godot's `clear()`). */
  | { readonly type: "TransportClosed" }
  /** `serverRelay`, `authEnabled` or `authTimeout` was set. */
  | {
    readonly type: "OptionsSet";
    readonly serverRelay?: boolean;
    readonly authEnabled?: boolean;
    readonly authTimeout?: number;
  }
  /** A node's RPC table was registered (replacing one at the same path). */
  | { readonly type: "NodeRegistered"; readonly node: RpcNode }
  /** The transport announced a peer. */
  | { readonly type: "PeerConnected"; readonly peer: number; readonly now: number }
  /** The transport lost a peer. */
  | { readonly type: "PeerDisconnected"; readonly peer: number }
  /** A packet arrived from a transport peer. */
  | {
    readonly type: "PacketReceived";
    readonly from: number;
    readonly data: Uint8Array;
    readonly mode: TransferMode;
    readonly channel: number;
    readonly now: number;
  }
  /** The clock moved (auth timeouts). */
  | { readonly type: "TimePassed"; readonly now: number }
  /** `sendAuth(peer, data)`. */
  | { readonly type: "SendAuthRequested"; readonly peer: number; readonly data: Uint8Array }
  /** `completeAuth(peer)`. */
  | { readonly type: "CompleteAuthRequested"; readonly peer: number }
  /** `disconnectPeer(peer)`. */
  | { readonly type: "DisconnectPeerRequested"; readonly peer: number }
  /** `sendBytes(data, target, mode, channel)`. */
  | {
    readonly type: "SendBytesRequested";
    readonly data: Uint8Array;
    readonly target: number;
    readonly mode: TransferMode;
    readonly channel: number;
  }
  /** `rpc(path, method, args, target)` (`rpcId` is a target > 0). */
  | {
    readonly type: "RpcRequested";
    readonly path: string;
    readonly method: string;
    readonly args: readonly Variant[];
    readonly target: number;
  };

/** Names of the signals the core emits (the transport-status ones are the facade's). */
export type SceneSignal =
  | "peer_connected"
  | "peer_disconnected"
  | "connected_to_server"
  | "peer_authenticating"
  | "peer_authentication_failed";

/** Effects: what the facade must do, in order. */
export type SceneEffect =
  /** Put one packet to one transport peer. */
  | {
    readonly type: "Send";
    readonly to: number;
    readonly data: Uint8Array;
    readonly mode: TransferMode;
    readonly channel: number;
  }
  /** Close the transport connection of a peer. */
  | { readonly type: "DisconnectTransportPeer"; readonly peer: number }
  /** Emit a signal. */
  | { readonly type: "Emit"; readonly signal: SceneSignal; readonly peer: number }
  /** Authentication data arrived: call the auth callback. */
  | { readonly type: "AuthReceived"; readonly peer: number; readonly data: Uint8Array }
  /** `peer_packet(from, data)`. */
  | { readonly type: "PeerPacket"; readonly from: number; readonly data: Uint8Array }
  /** Run an RPC handler (`from` is the remote sender; ours for a local call). */
  | {
    readonly type: "RpcCalled";
    readonly from: number;
    readonly path: string;
    readonly method: string;
    readonly args: readonly Variant[];
  }
  /** A SPAWN/DESPAWN/SYNC packet addressed to us, undecoded. */
  | {
    readonly type: "ReplicationReceived";
    readonly from: number;
    readonly command: "spawn" | "despawn" | "sync" | "delta";
    readonly data: Uint8Array;
  }
  /** A packet refused (or a checksum mismatch), counted under `reason`. */
  | {
    readonly type: "Rejected";
    readonly from: number;
    readonly reason: RejectReason;
    readonly detail: string;
  }
  /** The answer to a request that failed. */
  | { readonly type: "Reply"; readonly error: GodotError; readonly message: string };
