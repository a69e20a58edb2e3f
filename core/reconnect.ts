/**
 * Reconnect by replacement: how an interrupted peer (liveness rule L9) gets a fresh connection
 * without `peer_disconnected`, and how the reliable data of the lost connection is delivered on the
 * new one exactly once and in order.
 *
 * Theory of operation (pure rules; the journal's bytes and the counters live in the interpreter,
 * `effects/_journal.ts`, as the inbox's packets do):
 *
 * R1. Counting. With `reconnect` on, the interpreter counts, per peer and per reliable channel
 *     (channel 0 and Godot 4's RELIABLE extra channels, {@link reliableChannels}), the messages
 *     sent to the peer and received from it since it was added. SCTP keeps message boundaries and
 *     a reliable channel is ordered, so the receiver's count says exactly which of the sender's
 *     messages arrived. Every beacon we send carries our received counts after its third byte
 *     ({@link encodeCounts}; a 3-byte beacon of an older peer still parses and carries none).
 * R2. Journal. A beacon with counts (`BeaconReceipt.counts`) acknowledges: `AckJournal` lets the
 *     interpreter drop the messages the peer has, and starts its journal of the messages sent to
 *     that peer (a peer that never sends counts is never journaled). The journal keeps at most
 *     `journalBytes`; beyond that its oldest messages are dropped (its `base` passes the peer's
 *     count), which only matters if a replacement comes before the peer acknowledged them (R5).
 * R3. `ReplacePeerRequested(connection)` (`replacePeer`, asked by the signaling client when a peer
 *     is interrupted and its stack cannot restart ICE, or by the application): refused unless
 *     `reconnect` is on (`ERR_UNAVAILABLE`), the peer exists (`ERR_DOES_NOT_EXIST`), the
 *     connection is a W3C one in state `"new"` (`ERR_INVALID_PARAMETER`), and the peer is
 *     announced and proven to run liveness (`ERR_UNAVAILABLE`). Accepted: the peer is interrupted
 *     (`peer_interrupted` if it was not yet, its grace starting now) and `replacing`; its
 *     connection and channels start again as `"new"`/`"connecting"`; `ReplaceConnection` makes
 *     the new link (the same channels and the liveness channel) and detaches the old one (no
 *     event of it is heard; it is closed once the peer resumes or leaves) without retiring the
 *     peer (its queued packets, counters and journal stay). A replacement may be
 *     asked for again while replacing (a failed attempt).
 * R4. While replacing, the peer's transport events cannot remove it (the replacement's own
 *     connection may fail while the network is still cut; the signaling client asks again), data
 *     heard and `"connected"` do not resume it, and reliable sends to it are held in the journal
 *     (`route` lets them through; nothing goes on the wire). Only the grace (L9) ends it.
 * R5. The first beacon on the new connection resumes it: its counts say what the peer has. If
 *     every count lies within our journal (`base <= count <= end`), `ResendJournal` sends the
 *     journal from those counts, in order, before anything new, and `peer_resumed` follows. A
 *     beacon without counts (a peer that does not count) or a count outside the journal (it
 *     overflowed, R2) cannot be made exact: the peer is removed (`peer_disconnected`).
 * R6. A transport that gives up (connection `"failed"`/`"closed"`, a channel closed or errored)
 *     while its peer is interrupted (L9) and proven does not remove it at once: the peer is held
 *     as in R4 (`HoldPeer`: reliable sends go to the journal) until a replacement resumes it or
 *     the grace ends. The signaling client replaces it (the offering side replaces on the
 *     interruption; the answering side waits for that offer, which may come after the old
 *     transport's own abort, e.g. SCTP's at 12.6 s); without one it is removed at the end of the
 *     grace instead of at once.
 * R7. Nothing is lost silently. A resend (R5) sends the journal on the new channels as they open;
 *     reliable sends meanwhile are still held behind it. If the journal goes over `journalBytes`
 *     before the resend is done, the oldest messages it still owed are dropped, and the data can
 *     no longer be exact: the interpreter reports `JournalOverflowed` and the peer is removed
 *     (`peer_disconnected`), as R5 removes a peer whose count lies outside the journal.
 *
 * @module
 */
import { GodotError, TransferMode } from "./constants.ts";
import { channelSpecs } from "./channels.ts";
import type { Effect } from "./effects.ts";
import type { BeaconReceipt, ReplacePeerRequested } from "./events.ts";
import { LIVENESS_CHANNEL, type LivenessStep, type PeerLiveness } from "./liveness.ts";
import { channelMode } from "./route.ts";
import type { MeshState, PeerState } from "./state.ts";
import { OK_REPLY, reject, setPeer, type Step } from "./_rules.ts";
import { show } from "./_validate.ts";

/** The default bound of a peer's journal (R2), bytes. */
export const DEFAULT_JOURNAL_BYTES = 16 * 1024 * 1024;

/**
 * Validates `MeshOptions.reconnect.journalBytes` (R2): absent gives {@link DEFAULT_JOURNAL_BYTES},
 * else an integer in 65536..1073741824.
 *
 * @example
 * ```ts
 * import { parseJournalBytes } from "./reconnect.ts";
 * console.log(parseJournalBytes({ journalBytes: 1 << 20 }), parseJournalBytes(true)); // 1048576 16777216
 * ```
 */
export function parseJournalBytes(reconnect: unknown): number | string {
  const value = typeof reconnect === "object" && reconnect !== null
    ? (reconnect as Record<string, unknown>).journalBytes
    : undefined;
  if (value === undefined) return DEFAULT_JOURNAL_BYTES;
  if (
    typeof value !== "number" || !Number.isInteger(value) || value < 65536 || value > 1 << 30
  ) {
    return `reconnect.journalBytes must be an integer in 65536..1073741824 (bytes), got ${
      show(value)
    }`;
  }
  return value;
}

/**
 * The channel indexes whose messages are counted and journaled (R1): the reliable channel 0 and
 * every RELIABLE extra channel of Godot 4, ascending.
 *
 * @example
 * ```ts
 * import { reliableChannels } from "./reconnect.ts";
 * console.log(reliableChannels([2, 0, 2])); // [ 0, 3, 5 ]
 * ```
 */
export function reliableChannels(channelsConfig: readonly TransferMode[]): number[] {
  const out = [0];
  for (let i = 0; i < channelsConfig.length; i++) {
    if (channelMode(channelsConfig, 3 + i) === TransferMode.RELIABLE) out.push(3 + i);
  }
  return out;
}

/**
 * A beacon with counts (R1): the 3-byte beacon, then one big-endian u32 per reliable channel.
 *
 * @example
 * ```ts
 * import { encodeCounts } from "./reconnect.ts";
 * console.log(encodeCounts(new Uint8Array([108, 1, 2]), [258])); // Uint8Array(7) [ 108, 1, 2, 0, 0, 1, 2 ]
 * ```
 */
export function encodeCounts(beacon: Uint8Array, counts: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(3 + 4 * counts.length);
  bytes.set(beacon.subarray(0, 3));
  const view = new DataView(bytes.buffer);
  counts.forEach((c, i) => view.setUint32(3 + 4 * i, c >>> 0));
  return bytes;
}

/**
 * The counts a beacon carries after its third byte, or `undefined` (a 3-byte beacon, or a length
 * that is not 3 + 4n).
 *
 * @example
 * ```ts
 * import { decodeCounts } from "./reconnect.ts";
 * console.log(decodeCounts(new Uint8Array([108, 1, 2, 0, 0, 1, 2])), decodeCounts(new Uint8Array([108, 1, 2]))); // [ 258 ] undefined
 * ```
 */
export function decodeCounts(bytes: Uint8Array): number[] | undefined {
  const n = bytes.byteLength - 3;
  if (n <= 0 || n % 4 !== 0) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const counts: number[] = [];
  for (let at = 3; at < bytes.byteLength; at += 4) counts.push(view.getUint32(at));
  return counts;
}

function withRecord(state: MeshState, id: number, record: PeerLiveness): MeshState {
  const peers = new Map(state.liveness.peers);
  peers.set(id, record);
  return { ...state, liveness: { ...state.liveness, peers } };
}

/** Whether peer `id` is being replaced (R4). */
export function isReplacing(state: MeshState, id: number): boolean {
  return state.liveness.peers.get(id)?.replacing === true;
}

/** Rule R3: a fresh connection for an interrupted (or now interrupted) peer. */
export function replacePeer(state: MeshState, event: ReplacePeerRequested): Step {
  const { peerId, connection } = event;
  const refuse = (error: GodotError, message: string) =>
    reject(state, { error, message: `replacePeer: ${message}` });
  if ((state.liveness.graceMs ?? null) === null) {
    return refuse(GodotError.ERR_UNAVAILABLE, "reconnect is off (MeshOptions.reconnect)");
  }
  const peer = state.peers.get(peerId);
  if (peer === undefined) {
    return refuse(GodotError.ERR_DOES_NOT_EXIST, `peer ${show(peerId)} is not in the mesh`);
  }
  if (!connection.w3c) {
    return refuse(
      GodotError.ERR_INVALID_PARAMETER,
      `expected an RTCPeerConnection, got ${connection.description}`,
    );
  }
  if (connection.state !== "new") {
    return refuse(
      GodotError.ERR_INVALID_PARAMETER,
      `the connection must be in state "new", it is ${JSON.stringify(connection.state)}`,
    );
  }
  const record = state.liveness.peers.get(peerId);
  if (!peer.announced || record === undefined || record.capability !== "beacons") {
    return refuse(
      GodotError.ERR_UNAVAILABLE,
      `peer ${peerId} is not connected and proven to run liveness; only such a peer can resume`,
    );
  }
  const effects: Effect[] = [];
  const interruptedAt = record.interruptedAt ?? event.now;
  if (record.interruptedAt == null) {
    effects.push({ type: "Emit", signal: "peer_interrupted", peerId });
  }
  const channels = channelSpecs(peer.lifetime, state.channelsConfig);
  const fresh: PeerState = {
    ...peer,
    connectionState: "new",
    channels: channels.map(() => "connecting"),
  };
  const next = withRecord(setPeer(state, fresh), peerId, {
    ...record,
    interruptedAt,
    replacing: true,
  });
  effects.unshift({ type: "ReplaceConnection", peerId, channels, liveness: LIVENESS_CHANNEL });
  return [next, [...effects, OK_REPLY]];
}

/**
 * Rule R6: an interrupted, proven peer whose transport gave up is held for a replacement;
 * `undefined` when the rule does not apply (rule 5 removes it).
 */
export function transportEnded(state: MeshState, peerId: number): Step | undefined {
  const record = state.liveness.peers.get(peerId);
  const peer = state.peers.get(peerId);
  if (
    (state.liveness.graceMs ?? null) === null || peer === undefined || record === undefined ||
    record.interruptedAt == null || record.capability !== "beacons" || record.replacing === true
  ) return undefined;
  const held = withRecord(
    setPeer(state, { ...peer, channels: peer.channels.map(() => "closed") }),
    peerId,
    { ...record, replacing: true },
  );
  return [held, [{ type: "HoldPeer", peerId }]];
}

/**
 * Rules R2 and R5 for a beacon: `undefined` when R5 does not apply (not replacing; the liveness
 * rules then run, and the acknowledgement of R2 is added by {@link acknowledged}).
 */
export function replacementBeacon(
  state: MeshState,
  event: BeaconReceipt,
): LivenessStep | undefined {
  const record = state.liveness.peers.get(event.peerId);
  if (record?.replacing !== true || !state.peers.has(event.peerId)) return undefined;
  if (event.kind === "bye") return { state, effects: [], gone: [event.peerId] };
  const counts = event.counts;
  const journal = event.journal ?? [];
  const exact = counts !== undefined && counts.length === journal.length &&
    counts.every((c, i) => journal[i][0] <= c && c <= journal[i][1]);
  if (!exact) return { state, effects: [], gone: [event.peerId] };
  const next = withRecord(state, event.peerId, {
    ...record,
    capability: "beacons",
    lastHeard: Math.max(record.lastHeard, event.now),
    interruptedAt: null,
    replacing: false,
  });
  return {
    state: next,
    effects: [
      { type: "ResendJournal", peerId: event.peerId, from: counts },
      { type: "Emit", signal: "peer_resumed", peerId: event.peerId },
    ],
    gone: [],
  };
}

/** Rule R7: a resend lost a message it owed; the peer is removed (rule 7). */
export function journalOverflowed(state: MeshState, peerId: number): LivenessStep {
  return { state, effects: [], gone: state.peers.has(peerId) ? [peerId] : [] };
}

/** Rule R2: the acknowledgement a beacon with counts carries, when it moves the journal. */
export function acknowledged(state: MeshState, event: BeaconReceipt): Effect[] {
  const { counts, journal } = event;
  if (counts === undefined || event.kind === "bye" || (state.liveness.graceMs ?? null) === null) {
    return [];
  }
  const moves = journal === undefined || journal.length !== counts.length ||
    counts.some((c, i) => c > journal[i][0]);
  return moves ? [{ type: "AckJournal", peerId: event.peerId, counts }] : [];
}
