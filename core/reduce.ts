/**
 * The mesh reducer: `(MeshState, Event) -> [MeshState, Effect[]]`.
 *
 * Theory of operation. Every lifecycle rule of SPEC.md and SPEC-GODOT4.md is a case of
 * {@link reduce}, one case per rule; the interpreter only turns real events into `Event`s and
 * carries out the `Effect`s. Each rule below names the function that holds it, in this file unless
 * another file is named: Godot 4's own requests are in `reduce_godot4.ts`, the channel layout in
 * `channels.ts`, liveness in `liveness.ts`, the ordered checks of rules 1, 2 and 11
 * (`INITIALIZE_CHECKS`, `ADD_PEER_CHECKS`) in `_checks.ts`; the small pieces the cases share (the
 * step type, replies and refusals, the peer map, who is a client) in `_rules.ts`.
 *
 * 1. `InitializeRequested` (`initialize`): the id must be an integer in 1..2147483647 and the mesh
 *    not already initialized (call `close()` first). Status becomes `CONNECTED`, or `CONNECTING`
 *    for a server-compatible client (id != 1). Peers added earlier that are already connected are
 *    then announced as rule 4/6 say.
 * 2. `AddPeerRequested` (`addPeer`, `ADD_PEER_CHECKS`) checks, in this order: id; lifetime (integer
 *    0..65535); refuse flag; W3C shape; connection state `"new"`; duplicate id; own id. A passing
 *    request adds the peer and emits `CreateChannels` (rule 3). `ChannelCreateFailed`
 *    (`channelCreateFailed`) undoes the add: `DiscardChannels`, reply `FAILED`. For an announced
 *    peer (the channels of a replacement connection, rule 16) it removes the peer as rule 7 does,
 *    `peer_disconnected` included, the new connection's channels discarded.
 * 3. `CreateChannels` carries the three negotiated channel inits ({@link CHANNEL_SPECS}, in
 *    `channels.ts`).
 * 4. After every observation (`observe`, `announce`) a peer that is ready (connection
 *    `"connected"`, three channels `"open"`) and not yet announced is announced with
 *    `peer_connected`, unless gated (rule 6).
 * 5. A connection state of `"disconnected"`, `"failed"` or `"closed"` (`connectionStateChanged`),
 *    or a channel closing, closed or errored (`channelStateChanged`, `channelErrored`), removes the
 *    peer as rule 7 does.
 * 6. Server compatibility (id != 1; `gated`, `announce`): announcements wait while the status is
 *    not `CONNECTED`. When peer 1 becomes ready: `peer_connected(1)`, `connection_succeeded`, then
 *    every other ready peer in ascending id order, and the status becomes `CONNECTED`.
 * 7. `RemovePeerRequested` (`removePeer`, `dropPeer`): unknown id replies `ERR_DOES_NOT_EXIST`.
 *    Otherwise `ClosePeer`, then `peer_disconnected` if the peer was announced, then (server
 *    compatibility, peer 1) `server_disconnected` and status `DISCONNECTED`.
 * 8. `CloseRequested` (`close`): `ClosePeer` for every peer, `DropPackets`, id 0, target 0, status
 *    `DISCONNECTED`, no signals. Idempotent.
 * 9. `RefuseNewConnectionsSet` (`setBoolean`) only affects later `AddPeerRequested`.
 *    `TransferModeSet` (`setTransferMode`) and `TargetPeerSet` (`setTargetPeer`) validate their
 *    value.
 *
 * Godot 4 (`WebRTCMultiplayerPeer`, SPEC-GODOT4.md) is the same machine on a state that starts as
 * {@link initialGodot4State} (`godot: 4`); each API refuses the other's calls (`wrongApi`). The
 * differences are data read by the cases above, plus three cases of its own, in
 * `reduce_godot4.ts`:
 *
 * 10. `CreateRequested` (createMesh/createServer/createClient; `create`, `CREATE_CHECKS`, in
 *     `reduce_godot4.ts`): client id 1 refused; id; each `channelsConfig` entry a TransferMode; the
 *     peer DISCONNECTED without peers (a client whose server is gone may be created again at once).
 *     Sets the network mode, the extra channels and the status (`CONNECTING` for a client, else
 *     `CONNECTED`).
 * 11. `AddPeerRequested` (`addPeer`; its own checks `GODOT4_ADD_PEER_CHECKS` in `reduce_godot4.ts`)
 *     first checks: created (`ERR_UNCONFIGURED`); a client adds only peer 1, a server never peer 1;
 *     then rule 2. `CreateChannels` adds one negotiated channel per `channelsConfig` entry (ids 4,
 *     5, ...; {@link channelSpecs}, in `channels.ts`) and the peer's `turn`: peers are read in the
 *     order they were added. A peer is ready when every channel is open.
 * 12. A client is rule 6 with other names (`announce`, `dropPeer`; `isClient` in `_rules.ts`):
 *     peer 1 ready → status `CONNECTED`, `peer_connected(1)`, `connected_to_server`; peer 1 lost
 *     after that → `peer_disconnected(1)`, `server_disconnected`, `DISCONNECTED`; peer 1 lost
 *     before → `connection_failed`, `DISCONNECTED`.
 * 13. `DisconnectPeerRequested` (`disconnectPeer`, in `reduce_godot4.ts`): unknown id
 *     `ERR_DOES_NOT_EXIST`; `force` drops the peer at once, emitting nothing (a client losing peer
 *     1 becomes `DISCONNECTED`); otherwise `CloseConnection` and the observed close removes it as
 *     rule 5 does.
 * 14. `TransferChannelSet` (`setTransferChannel`, in `reduce_godot4.ts`): an integer 0..255.
 *     `close()` (`close`) also resets the network mode and the extra channels.
 * 15. Liveness (core/liveness.ts, rules L1-L9; plugged in here by `withLivenessChannel`, `withBye`
 *     and `departures`): `AddPeerRequested` also creates the liveness channel;
 *     `RemovePeerRequested` and `CloseRequested` first say `bye`; `LivenessChannelOpened`,
 *     `LivenessChannelClosed`, `BeaconsReceived` (one step for a batch of beacons, each as
 *     `reduceBeacon` would judge it alone) and `TimePassed` are decided there, and a peer they find
 *     gone is removed here as by rule 7. With `reconnect`, a `ConnectionStateChanged` to
 *     `"disconnected"` (and back to `"connected"`) is rule L9's before rule 5 sees it.
 * 16. Reconnect by replacement (core/reconnect.ts, rules R1-R6): `ReplacePeerRequested`
 *     (`replacePeer`) gives an interrupted peer a fresh connection; while it is replacing, its
 *     transport events change its state but never remove it (`whileReplacing`), and the first
 *     beacon on the new connection resumes it or, if its data cannot be made exact, removes it.
 *     Beacons with counts acknowledge the journal (`AckJournal`). A transport that gives up while
 *     its peer is interrupted holds the peer for a replacement (`transportEnded`, R6) instead of
 *     rule 5's removal; the grace still ends it. `JournalOverflowed` (R7: a resend lost a message it
 *     owed) removes the peer as rule 7 does.
 *
 * A rejected request returns the very same state object plus one `Reply` with the error and the
 * reason (`reject`, in `_rules.ts`). Observations about unknown peers change nothing (they are late
 * events of a peer that was already removed).
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { channelSpecs } from "./channels.ts";
import { ConnectionStatus, GodotError, MAX_PEER_ID } from "./constants.ts";
import type { Effect } from "./effects.ts";
import type {
  AddPeerRequested,
  BeaconReceipt,
  ChannelCreateFailed,
  ChannelErrored,
  ChannelStateChanged,
  ConnectionStateChanged,
  Event,
  InitializeRequested,
  RemovePeerRequested,
  TargetPeerSet,
} from "./events.ts";
import {
  beaconReceived,
  beaconsReceived,
  byeBefore,
  connectionInterrupted,
  livenessChannelClosed,
  livenessChannelFor,
  livenessChannelOpened,
  livenessState,
  type LivenessStep,
  timePassed,
} from "./liveness.ts";
import {
  acknowledged,
  isReplacing,
  journalOverflowed,
  replacementBeacon,
  replacePeer,
  transportEnded,
} from "./reconnect.ts";
import { create, disconnectPeer, setTransferChannel } from "./reduce_godot4.ts";
import { ADD_PEER_CHECKS, ADD_PEER_GODOT4_CHECKS, INITIALIZE_CHECKS } from "./_checks.ts";
import {
  type ChannelState,
  initialGodot4State,
  initialState,
  isConnectionEnded,
  isPeerReady,
  type MeshState,
  type PeerState,
} from "./state.ts";
import {
  deletePeer,
  isClient,
  isTransferMode,
  OK_REPLY,
  reject,
  setPeer,
  type Step,
} from "./_rules.ts";
import { firstFailure, isPeerId, show } from "./_validate.ts";

export type { Step } from "./_rules.ts";
export {
  CHANNEL_SPECS,
  channelSpecs,
  MAX_EXTRA_CHANNELS,
  MAX_LIFETIME,
  MAX_TRANSFER_CHANNEL,
} from "./channels.ts";

function ascendingIds(state: MeshState): number[] {
  return [...state.peers.keys()].sort((a, b) => a - b);
}

/** Whether announcements wait for peer 1 (rule 6). */
function gated(state: MeshState): boolean {
  return state.status !== ConnectionStatus.CONNECTED;
}

/** Rules 4, 6 and 12: announce every ready, unannounced peer that may be announced now. */
function announce(state: MeshState): Step {
  const effects: Effect[] = [];
  let next = state;
  if (gated(state)) {
    const server = state.peers.get(1);
    const serverArrives = isClient(state) && server !== undefined && !server.announced &&
      isPeerReady(server);
    if (!serverArrives) return [state, effects];
    next = setPeer({ ...next, status: ConnectionStatus.CONNECTED }, { ...server, announced: true });
    effects.push(
      { type: "Emit", signal: "peer_connected", peerId: 1 },
      {
        type: "Emit",
        signal: state.godot === 4 ? "connected_to_server" : "connection_succeeded",
      },
    );
  }
  for (const id of ascendingIds(next)) {
    const peer = next.peers.get(id)!;
    if (!peer.announced && isPeerReady(peer)) {
      next = setPeer(next, { ...peer, announced: true });
      effects.push({ type: "Emit", signal: "peer_connected", peerId: id });
    }
  }
  return [next, effects];
}

/**
 * Stores an updated peer after an observation, announcing it when rule 4 allows. While the status
 * is `CONNECTED` every ready peer was announced when it became ready (or when the status changed),
 * so only the updated peer can need it: one map copy, no scan. Otherwise (gated) the full rule 6
 * check runs.
 */
function observe(state: MeshState, peer: PeerState): Step {
  if (!gated(state)) {
    if (!peer.announced && isPeerReady(peer)) {
      return [
        setPeer(state, { ...peer, announced: true }),
        [{ type: "Emit", signal: "peer_connected", peerId: peer.id }],
      ];
    }
    return [setPeer(state, peer), NO_EFFECTS];
  }
  return announce(setPeer(state, peer));
}

const NO_EFFECTS: readonly Effect[] = Object.freeze([]);

/** Rule 7 (and 12) without the reply: drop the peer, close it, emit what is owed. */
function dropPeer(state: MeshState, peer: PeerState): Step {
  let next = deletePeer(state, peer.id);
  const effects: Effect[] = [{ type: "ClosePeer", peerId: peer.id }];
  if (peer.announced) {
    effects.push({ type: "Emit", signal: "peer_disconnected", peerId: peer.id });
    if (peer.id === 1 && (state.godot === 4 ? isClient(state) : state.serverCompatibility)) {
      effects.push({ type: "Emit", signal: "server_disconnected" });
      next = { ...next, status: ConnectionStatus.DISCONNECTED };
    }
  } else if (
    peer.id === 1 && state.godot === 4 && isClient(state) &&
    state.status === ConnectionStatus.CONNECTING
  ) {
    effects.push({ type: "Emit", signal: "connection_failed" });
    next = { ...next, status: ConnectionStatus.DISCONNECTED };
  }
  return [next, effects];
}

function initialize(state: MeshState, event: InitializeRequested): Step {
  const { peerId, serverCompatibility } = event;
  const verdict = firstFailure(INITIALIZE_CHECKS, state, event);
  if (E.isLeft(verdict)) return reject(state, verdict.left);
  const status = serverCompatibility && peerId !== 1
    ? ConnectionStatus.CONNECTING
    : ConnectionStatus.CONNECTED;
  const [next, effects] = announce({ ...state, uniqueId: peerId, serverCompatibility, status });
  return [next, [...effects, OK_REPLY]];
}

function addPeer(state: MeshState, event: AddPeerRequested): Step {
  const { peerId, lifetime } = event;
  const godot4 = state.godot === 4;
  const verdict = firstFailure(godot4 ? ADD_PEER_GODOT4_CHECKS : ADD_PEER_CHECKS, state, event);
  if (E.isLeft(verdict)) return reject(state, verdict.left);
  const channels = channelSpecs(lifetime, state.channelsConfig);
  const peer: PeerState = {
    id: peerId,
    lifetime,
    connectionState: "new",
    channels: channels.map(() => "connecting"),
    announced: false,
  };
  if (!godot4) {
    return [setPeer(state, peer), [{ type: "CreateChannels", peerId, channels }, OK_REPLY]];
  }
  const turn = state.added + 1;
  return [
    setPeer({ ...state, added: turn }, peer),
    [{ type: "CreateChannels", peerId, channels, turn }, OK_REPLY],
  ];
}

function channelCreateFailed(state: MeshState, event: ChannelCreateFailed): Step {
  const peer = state.peers.get(event.peerId);
  if (peer === undefined) return [state, []];
  if (peer.announced) {
    // Rule 16 (R3): a replacement's channels could not be made. The peer is removed as by rule 7
    // (every removal of an announced peer is reported); the new connection is the caller's.
    const [next, effects] = dropPeer(state, peer);
    return [next, [
      { type: "DiscardChannels", peerId: event.peerId },
      ...effects.filter((e) => e.type !== "ClosePeer"),
      {
        type: "Reply",
        error: GodotError.FAILED,
        message:
          `replacePeer: createDataChannel failed for peer ${event.peerId}: ${event.message}; the peer is removed`,
      },
    ]];
  }
  return [
    deletePeer(state, event.peerId),
    [
      { type: "DiscardChannels", peerId: event.peerId },
      {
        type: "Reply",
        error: GodotError.FAILED,
        message: `addPeer: createDataChannel failed for peer ${event.peerId}: ${event.message}`,
      },
    ],
  ];
}

function removePeer(state: MeshState, event: RemovePeerRequested): Step {
  const peer = isPeerId(event.peerId) ? state.peers.get(event.peerId) : undefined;
  if (peer === undefined) {
    return reject(state, {
      error: GodotError.ERR_DOES_NOT_EXIST,
      message: `removePeer: peer ${show(event.peerId)} is not in the mesh`,
    });
  }
  const [next, effects] = dropPeer(state, peer);
  return [next, [...effects, OK_REPLY]];
}

function close(state: MeshState): Step {
  const effects: Effect[] = ascendingIds(state).map((peerId) => ({ type: "ClosePeer", peerId }));
  effects.push({ type: "DropPackets" }, OK_REPLY);
  return [{
    ...(state.godot === 4 ? initialGodot4State : initialState),
    refuseNewConnections: state.refuseNewConnections,
    transferMode: state.transferMode,
    liveness: livenessState(state.liveness.config, state.liveness.graceMs ?? null),
    transferChannel: state.transferChannel,
  }, effects];
}

function connectionStateChanged(state: MeshState, event: ConnectionStateChanged): Step {
  const peer = state.peers.get(event.peerId);
  if (peer === undefined || peer.connectionState === event.state) return [state, []];
  if (isConnectionEnded(event.state)) return dropPeer(state, peer);
  return observe(state, { ...peer, connectionState: event.state });
}

function channelStateChanged(state: MeshState, event: ChannelStateChanged): Step {
  const peer = state.peers.get(event.peerId);
  const current = peer?.channels[event.channel];
  // Unknown peer or channel index (a late or stray event), or nothing new.
  if (peer === undefined || current === undefined || current === event.state) return [state, []];
  if (event.state === "closing" || event.state === "closed") return dropPeer(state, peer);
  const channels: ChannelState[] = [...peer.channels];
  channels[event.channel] = event.state;
  return observe(state, { ...peer, channels });
}

function channelErrored(state: MeshState, event: ChannelErrored): Step {
  const peer = state.peers.get(event.peerId);
  return peer === undefined ? [state, []] : dropPeer(state, peer);
}

function setBoolean(state: MeshState, value: unknown): Step {
  if (typeof value !== "boolean") {
    return reject(state, {
      error: GodotError.ERR_INVALID_PARAMETER,
      message: `refuseNewConnections must be a boolean, got ${show(value)}`,
    });
  }
  return [{ ...state, refuseNewConnections: value }, [OK_REPLY]];
}

function setTransferMode(state: MeshState, value: unknown): Step {
  if (!isTransferMode(value)) {
    return reject(state, {
      error: GodotError.ERR_INVALID_PARAMETER,
      message: `transferMode must be 0 (UNRELIABLE), 1 (UNRELIABLE_ORDERED) or 2 (RELIABLE), got ${
        show(value)
      }`,
    });
  }
  return [{ ...state, transferMode: value }, [OK_REPLY]];
}

function setTargetPeer(state: MeshState, event: TargetPeerSet): Step {
  const value = event.value;
  if (
    typeof value !== "number" || !Number.isInteger(value) || Math.abs(value) > MAX_PEER_ID
  ) {
    return reject(state, {
      error: GodotError.ERR_INVALID_PARAMETER,
      message: `targetPeer must be an integer in -${MAX_PEER_ID}..${MAX_PEER_ID}, got ${
        show(value)
      }`,
    });
  }
  // -0 and 0 both mean broadcast; store 0 so that states compare equal.
  return [{ ...state, targetPeer: value === 0 ? 0 : value }, [OK_REPLY]];
}

/**
 * Rule 16 (R4): a transport event of a peer being replaced. The states are recorded (the new
 * connection's "connected" and open channels make it ready again) but an ended connection or a
 * closed channel removes nothing, and nothing resumes it: only its first beacon (R5) or the grace.
 */
function whileReplacing(
  state: MeshState,
  event: ConnectionStateChanged | ChannelStateChanged | ChannelErrored,
): Step {
  const peer = state.peers.get(event.peerId)!;
  if (event.type === "ConnectionStateChanged") {
    if (isConnectionEnded(event.state) || peer.connectionState === event.state) return [state, []];
    return observe(state, { ...peer, connectionState: event.state });
  }
  if (event.type === "ChannelErrored") return [state, []];
  const current = peer.channels[event.channel];
  if (current === undefined || current === event.state || event.state !== "open") {
    return [state, []];
  }
  const channels: ChannelState[] = [...peer.channels];
  channels[event.channel] = event.state;
  return observe(state, { ...peer, channels });
}

/**
 * Rule 16 (R2, R5) before rules L3, L4 and L6: one beacon, with the journal's acknowledgement. A
 * `BeaconsReceived` gives what this gives its receipts one by one (tests/core/liveness_batch_test.ts).
 */
export function reduceBeacon(state: MeshState, event: BeaconReceipt): Step {
  const replaced = replacementBeacon(state, event);
  if (replaced !== undefined) return departures(replaced);
  const [next, effects] = departures(beaconReceived(state, event));
  const ack = next.peers.has(event.peerId) ? acknowledged(next, event) : [];
  return ack.length === 0 ? [next, effects] : [next, [...effects, ...ack]];
}

/** Rule 15: a liveness decision, then rule 7 for each peer it found gone. */
function departures({ state, effects, gone }: LivenessStep): Step {
  let next = state;
  const all: Effect[] = [...effects];
  for (const id of gone) {
    const peer = next.peers.get(id);
    if (peer === undefined) continue;
    const [after, dropped] = dropPeer(next, peer);
    next = after;
    all.push(...dropped);
  }
  return [next, all];
}

/** Rule 15: the liveness channel goes with the three channels of a peer just added. */
function withLivenessChannel(state: MeshState, [next, effects]: Step, peerId: number): Step {
  const create = livenessChannelFor(state, next, peerId);
  if (create === undefined) return [next, effects];
  const at = effects.findIndex((e) => e.type === "CreateChannels") + 1;
  return [next, [...effects.slice(0, at), create, ...effects.slice(at)]];
}

/** Rule 15: a request that removes peers says `bye` to them first. */
function withBye(state: MeshState, [next, effects]: Step): Step {
  return next === state ? [next, effects] : [next, byeBefore(state, next, effects)];
}

/**
 * Applies one event to the mesh state. Pure: never mutates `state`, never throws for any event.
 *
 * @example
 * ```ts
 * import { initialState, reduce } from "./mod.ts";
 * const [state, effects] = reduce(initialState, {
 *   type: "InitializeRequested",
 *   peerId: 1,
 *   serverCompatibility: false,
 * });
 * console.log(state.status, effects); // 2 [ { type: "Reply", error: 0, message: "" } ]
 * ```
 */
export function reduce(state: MeshState, event: Event): Step {
  switch (event.type) {
    case "InitializeRequested":
      return initialize(state, event);
    case "AddPeerRequested":
      return withLivenessChannel(state, addPeer(state, event), event.peerId);
    case "ChannelCreateFailed":
      return channelCreateFailed(state, event);
    case "RemovePeerRequested":
      return withBye(state, removePeer(state, event));
    case "CloseRequested":
      return withBye(state, close(state));
    case "RefuseNewConnectionsSet":
      return setBoolean(state, event.value);
    case "TransferModeSet":
      return setTransferMode(state, event.value);
    case "TargetPeerSet":
      return setTargetPeer(state, event);
    case "ConnectionStateChanged": {
      if (isReplacing(state, event.peerId)) return whileReplacing(state, event);
      if (event.state === "failed" || event.state === "closed") {
        const held = transportEnded(state, event.peerId);
        if (held !== undefined) return held;
      }
      const interrupted = connectionInterrupted(state, event);
      return interrupted === undefined
        ? connectionStateChanged(state, event)
        : departures(interrupted);
    }
    case "ChannelStateChanged":
      if (isReplacing(state, event.peerId)) return whileReplacing(state, event);
      if (event.state === "closing" || event.state === "closed") {
        const held = transportEnded(state, event.peerId);
        if (held !== undefined) return held;
      }
      return channelStateChanged(state, event);
    case "ChannelErrored":
      if (isReplacing(state, event.peerId)) return whileReplacing(state, event);
      return transportEnded(state, event.peerId) ?? channelErrored(state, event);
    case "LivenessChannelOpened":
      if (isReplacing(state, event.peerId)) {
        return [state, [{ type: "SendBeacons", peerIds: [event.peerId], kind: "hello" }]];
      }
      return departures(livenessChannelOpened(state, event));
    case "LivenessChannelClosed":
      return departures(livenessChannelClosed(state, event));
    case "BeaconsReceived":
      return beaconsReceived(state, event.receipts, reduceBeacon, acknowledged);
    case "ReplacePeerRequested":
      return replacePeer(state, event);
    case "JournalOverflowed":
      return departures(journalOverflowed(state, event.peerId));
    case "TimePassed":
      return departures(timePassed(state, event));
    case "CreateRequested":
      return create(state, event);
    case "DisconnectPeerRequested":
      return disconnectPeer(state, event);
    case "TransferChannelSet":
      return setTransferChannel(state, event.value);
    default: {
      const unknown: never = event;
      return reject(state, {
        error: GodotError.ERR_BUG,
        message: `unknown event ${show((unknown as { type?: unknown }).type)}`,
      });
    }
  }
}
