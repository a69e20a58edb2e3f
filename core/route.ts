/**
 * Packet routing: which channel of which peers a `putPacket` writes to (SPEC "Packets").
 * Pure and on the hot path: reads the state, never copies it.
 *
 * @module
 */
import { ConnectionStatus, GodotError, TransferMode } from "./constants.ts";
import { type ChannelIndex, type MeshState, RESERVED_CHANNELS } from "./state.ts";

/** A packet may go out: write it on `channel` of each peer in `peers`. */
export interface Routed {
  /** Always `OK`. */
  readonly error: GodotError.OK;
  /** The channel index to write on. */
  readonly channel: ChannelIndex;
  /** The peers to write to. */
  readonly peers: readonly number[];
}

/** A packet may not go out, and why. */
export interface Refused {
  /** Why the packet may not go out. */
  readonly error: Exclude<GodotError, GodotError.OK>;
  /** Human-readable reason. */
  readonly message: string;
}

/** The result of {@link route}. */
export type Route = Routed | Refused;

/**
 * The channel a transfer mode uses: RELIABLE -> 0 (`"reliable"`), UNRELIABLE_ORDERED -> 1
 * (`"ordered"`), UNRELIABLE -> 2 (`"unreliable"`).
 *
 * @example
 * ```ts
 * import { channelOf, TransferMode } from "./mod.ts";
 * console.log(channelOf(TransferMode.UNRELIABLE)); // 2
 * ```
 */
export function channelOf(mode: TransferMode): ChannelIndex {
  return mode === TransferMode.RELIABLE ? 0 : mode === TransferMode.UNRELIABLE_ORDERED ? 1 : 2;
}

/**
 * The transfer mode of a channel index (the inverse of {@link channelOf}).
 *
 * @example
 * ```ts
 * import { modeOf } from "./mod.ts";
 * console.log(modeOf(0)); // 2 (RELIABLE)
 * ```
 */
export function modeOf(channel: ChannelIndex): TransferMode {
  return channel === 0
    ? TransferMode.RELIABLE
    : channel === 1
    ? TransferMode.UNRELIABLE_ORDERED
    : TransferMode.UNRELIABLE;
}

/**
 * The transfer mode of any channel index of a peer: the reserved channels as {@link modeOf} says,
 * extra channel `3 + i` as `channelsConfig[i]`.
 *
 * @example
 * ```ts
 * import { channelMode, TransferMode } from "./mod.ts";
 * console.log(channelMode([TransferMode.UNRELIABLE], 3)); // 0 (UNRELIABLE)
 * console.log(channelMode([], 1)); // 1 (UNRELIABLE_ORDERED)
 * ```
 */
export function channelMode(
  channelsConfig: readonly TransferMode[],
  index: ChannelIndex,
): TransferMode {
  return index < RESERVED_CHANNELS
    ? modeOf(index)
    : channelsConfig[index - RESERVED_CHANNELS] ?? TransferMode.RELIABLE;
}

/**
 * Godot 4's channel number of a channel index (what `getPacketChannel` reports): 0 for the
 * reserved channels, `i + 1` for extra channel `i` (index `3 + i`).
 *
 * @example
 * ```ts
 * import { godotChannelOf } from "./mod.ts";
 * console.log(godotChannelOf(2), godotChannelOf(3), godotChannelOf(4)); // 0 1 2
 * ```
 */
export function godotChannelOf(index: ChannelIndex): number {
  return index < RESERVED_CHANNELS ? 0 : index - RESERVED_CHANNELS + 1;
}

/**
 * A channel's readable name: its label (`"reliable"`, `"ordered"`, `"unreliable"`) or, for an
 * extra channel, `channel n` with Godot 4's channel number.
 *
 * @example
 * ```ts
 * import { channelName } from "./mod.ts";
 * console.log(channelName(0), "/", channelName(4)); // reliable / channel 2
 * ```
 */
export function channelName(index: ChannelIndex): string {
  return CHANNEL_LABELS[index] ?? `channel ${godotChannelOf(index)}`;
}

/** `reliable channel`, ..., or `channel n` (an extra channel), for messages. */
function channelPhrase(index: ChannelIndex): string {
  return index < RESERVED_CHANNELS ? `${CHANNEL_LABELS[index]} channel` : channelName(index);
}

/**
 * Decides where a packet goes: `targetPeer > 0` that peer only, `0` every peer, `< 0` every peer
 * but `-targetPeer`. The channel: `transferChannel` 0 the reserved channel of `mode`, n > 0 the
 * extra channel n-1 (Godot 4; a channel the mesh lacks is `ERR_INVALID_PARAMETER`). Broadcasts skip
 * peers whose channel is not open yet; a unicast to such a peer is `ERR_UNAVAILABLE`; an unknown
 * unicast target is `ERR_INVALID_PARAMETER`; a mesh whose status is `DISCONNECTED` is
 * `ERR_UNCONFIGURED`.
 *
 * @example
 * ```ts
 * import { GodotError, initialState, route } from "./mod.ts";
 * const r = route(initialState);
 * console.log(r.error === GodotError.ERR_UNCONFIGURED); // true
 * ```
 */
export function route(
  state: MeshState,
  targetPeer: number = state.targetPeer,
  mode: TransferMode = state.transferMode,
  transferChannel: number = state.transferChannel,
): Route {
  if (state.status === ConnectionStatus.DISCONNECTED) {
    return {
      error: GodotError.ERR_UNCONFIGURED,
      message: state.godot === 4
        ? state.network === "none"
          ? "putPacket: the peer is not created; call createMesh(), createServer() or createClient() first"
          : "putPacket: the peer is disconnected (the server is gone); close() and create it again"
        : state.uniqueId === 0
        ? "putPacket: the mesh is not initialized; call initialize() first"
        : "putPacket: the mesh is disconnected (the server left); close() and initialize() again",
    };
  }
  const channel = transferChannel === 0 ? channelOf(mode) : RESERVED_CHANNELS - 1 + transferChannel;
  if (channel >= RESERVED_CHANNELS + state.channelsConfig.length) {
    return {
      error: GodotError.ERR_INVALID_PARAMETER,
      message:
        `putPacket: no channel ${transferChannel}: channelsConfig has ${state.channelsConfig.length} extra channel(s)`,
    };
  }
  if (targetPeer > 0) {
    const peer = state.peers.get(targetPeer);
    if (peer === undefined) {
      return {
        error: GodotError.ERR_INVALID_PARAMETER,
        message: `putPacket: invalid target peer ${targetPeer}: not in the mesh`,
      };
    }
    if (peer.channels[channel] !== "open" && !held(state, targetPeer, channel)) {
      return {
        error: GodotError.ERR_UNAVAILABLE,
        message: `putPacket: peer ${targetPeer}'s ${channelPhrase(channel)} is ${
          peer.channels[channel]
        }, not open`,
      };
    }
    return { error: GodotError.OK, channel, peers: [targetPeer] };
  }
  const exclude = -targetPeer;
  const peers: number[] = [];
  for (const peer of state.peers.values()) {
    if (peer.id === exclude) continue;
    if (peer.channels[channel] === "open" || held(state, peer.id, channel)) peers.push(peer.id);
  }
  return { error: GodotError.OK, channel, peers };
}

/**
 * Whether a packet on `channel` to a peer whose channel is not open is held for it instead: the
 * peer's connection is being replaced and the channel is reliable (core/reconnect.ts, R4).
 */
function held(state: MeshState, peerId: number, channel: ChannelIndex): boolean {
  return state.liveness.peers.get(peerId)?.replacing === true &&
    channelMode(state.channelsConfig, channel) === TransferMode.RELIABLE;
}

/** Labels of the reserved channels by index. */
export const CHANNEL_LABELS: readonly ["reliable", "ordered", "unreliable"] = [
  "reliable",
  "ordered",
  "unreliable",
];

/**
 * Whether a payload of `size` bytes may be written on a channel of a connection whose SCTP max
 * message size is `maxMessageSize` and whose `bufferedAmount` is `buffered`. Only a reliable
 * channel (`reliable`: by default the reserved channel 0; Godot 4's extra channels by their mode)
 * applies the high-water mark: unreliable traffic is never held back. Returns `undefined` when it
 * may, else the refusal.
 *
 * @example
 * ```ts
 * import { admit, GodotError } from "./mod.ts";
 * console.log(admit(300_000, 262_144, 0, 0, 16 << 20, 2)?.error === GodotError.ERR_INVALID_PARAMETER); // true
 * console.log(admit(100, 262_144, 0, 17 << 20, 16 << 20, 2)?.error === GodotError.ERR_BUSY); // true
 * console.log(admit(100, 262_144, 0, 0, 16 << 20, 2)); // undefined
 * ```
 */
export function admit(
  size: number,
  maxMessageSize: number,
  channel: ChannelIndex,
  buffered: number,
  highWaterMark: number,
  peerId: number,
  reliable: boolean = channel === 0,
): Refused | undefined {
  if (size > maxMessageSize) {
    return {
      error: GodotError.ERR_INVALID_PARAMETER,
      message:
        `putPacket: ${size} bytes exceed peer ${peerId}'s max message size of ${maxMessageSize} bytes`,
    };
  }
  if (reliable && buffered > highWaterMark) {
    return {
      error: GodotError.ERR_BUSY,
      message: `putPacket: peer ${peerId}'s ${
        channelPhrase(channel)
      } has ${buffered} bytes buffered (high-water mark ${highWaterMark}); retry later`,
    };
  }
  return undefined;
}

/**
 * Whether a refusal from {@link admit} only skips that peer: back-pressure is per peer, so a
 * broadcast (`targetPeer <= 0`) goes on to every peer that can take the packet and the busy one
 * misses it (counted); a unicast is refused. A broadcast whose every target is busy is refused too
 * (nothing sent: retrying it is safe). A payload over a peer's max message size always refuses the
 * whole call.
 *
 * @example
 * ```ts
 * import { admit, skipsBusy } from "./mod.ts";
 * const busy = admit(100, 262_144, 0, 17 << 20, 16 << 20, 2)!;
 * console.log(skipsBusy(busy, true), skipsBusy(busy, false)); // true false
 * ```
 */
export function skipsBusy(refused: Refused, broadcast: boolean): boolean {
  return broadcast && refused.error === GodotError.ERR_BUSY;
}
