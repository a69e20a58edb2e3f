/**
 * The send path of `putPacket`: the peers the state routes a packet to (core/route.ts `route`),
 * per-peer back-pressure (`admit`: a broadcast skips the peers that cannot take it, counting them
 * as `busy`), then the sends on their channels. The checks are the core's; this file only reads
 * the channels' numbers and sends.
 *
 * @module
 */
import { GodotError, TransferMode } from "../core/constants.ts";
import { admit, channelMode, type Refused, route, skipsBusy } from "../core/route.ts";
import type { MeshState } from "../core/state.ts";
import type { Link, Links } from "./_links.ts";
import type { Journal } from "./_journal.ts";
import { admitBounded } from "./_buffered.ts";

/** The connection's max message size; read once it is known (it does not change after). */
function maxMessageSize(link: Link, defaultMaxMessageSize: number): number {
  if (link.maxMessageSize !== undefined) return link.maxMessageSize;
  const size = link.connection.sctp?.maxMessageSize;
  if (typeof size === "number" && size > 0) return link.maxMessageSize = size;
  return defaultMaxMessageSize;
}

/**
 * Sends `bytes` to the peers `state` routes to; returns `undefined` when sent, else why not (a
 * broadcast that some busy peers skipped is sent).
 */
export function sendPacket(
  links: Links,
  state: MeshState,
  bytes: Uint8Array,
  highWaterMark: number,
  defaultMaxMessageSize: number,
  journals?: ReadonlyMap<number, Journal>,
): Refused | undefined {
  const r = route(state);
  if (r.error !== GodotError.OK) return r;
  const { channel, peers } = r;
  const reliable = channelMode(state.channelsConfig, channel) === TransferMode.RELIABLE;
  const broadcast = state.targetPeer <= 0;
  // Per-peer back-pressure (route.ts `admit`): a broadcast skips the peers that cannot take it.
  let busy: Set<number> | undefined;
  let refusedBusy: Refused | undefined;
  for (let i = 0; i < peers.length; i++) {
    const link = links.get(peers[i])!;
    const size = maxMessageSize(link, defaultMaxMessageSize);
    const bound = reliable ? link.bounds[channel] : undefined;
    // A reliable channel's `bufferedAmount` is a native call: its JS-side upper bound spares it
    // unless the bound could be over the high-water mark (_buffered.ts; the same decision).
    const refused = bound !== undefined
      ? admitBounded(bound, bytes.byteLength, size, channel, highWaterMark, peers[i])
      : admit(
        bytes.byteLength,
        size,
        channel,
        reliable ? link.channels[channel].bufferedAmount : 0,
        highWaterMark,
        peers[i],
        reliable,
      );
    if (refused === undefined) continue;
    if (!skipsBusy(refused, broadcast)) return refused;
    (busy ??= new Set()).add(peers[i]);
    refusedBusy ??= refused;
  }
  if (busy !== undefined && busy.size === peers.length) return refusedBusy!;
  const now = performance.now(); // for liveness: a peer sent data needs no beat (rule L2)
  for (let i = 0; i < peers.length; i++) {
    const link = links.get(peers[i])!;
    if (busy?.has(peers[i])) {
      link.busy++;
      continue;
    }
    // Reconnect (core/reconnect.ts): reliable messages are journaled, and held while the peer's
    // connection is replaced.
    const journal = reliable && journals !== undefined ? journals.get(peers[i]) : undefined;
    if (journal?.holding === true) {
      journal.noteSent(channel, bytes);
      link.sent++;
      continue;
    }
    try {
      link.channels[channel].send(bytes);
      link.sent++;
      link.sentAt = now;
      link.sentReported = false;
      journal?.noteSent(channel, bytes);
    } catch (e) {
      // The channel closed under us; its close event removes the peer. A unicast reports it.
      if (peers.length === 1 && state.targetPeer > 0) {
        return {
          error: GodotError.ERR_UNAVAILABLE,
          message: `putPacket: sending to peer ${peers[i]} failed: ${(e as Error)?.message ?? e}`,
        };
      }
    }
  }
  return undefined;
}
