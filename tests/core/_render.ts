/**
 * How the scenario stories (`./_scenario.ts`) render the pure core's values, each on one line:
 * events (`RemovePeerRequested(3)`), effects, states (`id=1 CONNECTED ... peers=[2:connected/...]`)
 * and routing decisions, with enum values by name and channels by label.
 *
 * @module
 */
import { ConnectionStatus, GodotError, TransferMode } from "../../core/constants.ts";
import type { Effect } from "../../core/effects.ts";
import type { BeaconReceipt, Event } from "../../core/events.ts";
import { CHANNEL_LABELS, channelName, type Route } from "../../core/route.ts";
import type { MeshState } from "../../core/state.ts";

/** A readable rendering of any value (strings quoted, -0 kept). */
export function show(value: unknown): string {
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (value === null || value === undefined || typeof value === "boolean") return String(value);
  if (typeof value === "object") return JSON.stringify(value) ?? String(value);
  return String(value);
}

function enumName(names: Record<number, string>, value: unknown): string {
  return typeof value === "number" && names[value] !== undefined ? names[value] : show(value);
}

/** A channel index as a story names it: its label, `channel n` (extra), or `index x` (no channel). */
function channelIndexName(index: number): string {
  return CHANNEL_LABELS[index as 0 | 1 | 2] ??
    (Number.isInteger(index) && index >= 3 ? channelName(index) : `index ${show(index)}`);
}

/** One beacon of a `BeaconsReceived`: `peer, kind[, counts [..]][; journal b..e ...]`. */
function receipt(r: BeaconReceipt): string {
  return `${r.peerId}, ${r.kind}${r.counts === undefined ? "" : `, counts [${r.counts}]`}${
    r.journal === undefined ? "" : `; journal ${r.journal.map(([b, e]) => `${b}..${e}`).join(" ")}`
  }`;
}

/**
 * Renders an event compactly.
 *
 * @example
 * ```ts
 * import { renderEvent } from "./_render.ts";
 * console.log(renderEvent({ type: "RemovePeerRequested", peerId: 3 })); // RemovePeerRequested(3)
 * ```
 */
export function renderEvent(event: Event): string {
  switch (event.type) {
    case "InitializeRequested":
      return `InitializeRequested(${show(event.peerId)}${
        event.serverCompatibility === false ? "" : `, compat=${show(event.serverCompatibility)}`
      })`;
    case "AddPeerRequested": {
      const c = event.connection;
      const conn = c.w3c ? c.state : `non-W3C ${c.description}`;
      return `AddPeerRequested(${show(event.peerId)}, lifetime ${show(event.lifetime)}, ${conn})`;
    }
    case "RemovePeerRequested":
      return `RemovePeerRequested(${show(event.peerId)})`;
    case "CloseRequested":
      return "CloseRequested";
    case "RefuseNewConnectionsSet":
      return `RefuseNewConnectionsSet(${show(event.value)})`;
    case "TransferModeSet":
      return `TransferModeSet(${enumName(TransferMode, event.value)})`;
    case "TargetPeerSet":
      return `TargetPeerSet(${show(event.value)})`;
    case "ConnectionStateChanged":
      return `ConnectionStateChanged(${show(event.peerId)}, ${event.state})`;
    case "ChannelStateChanged":
      return `ChannelStateChanged(${show(event.peerId)}, ${
        channelIndexName(event.channel)
      } ${event.state})`;
    case "ChannelErrored":
      return `ChannelErrored(${show(event.peerId)}, ${channelIndexName(event.channel)}, ${
        show(event.message)
      })`;
    case "ChannelCreateFailed":
      return `ChannelCreateFailed(${show(event.peerId)}, ${show(event.message)})`;
    case "JournalOverflowed":
      return `JournalOverflowed(${show(event.peerId)})`;
    case "LivenessChannelOpened":
      return `@${event.now} LivenessChannelOpened(${event.peerId})`;
    case "LivenessChannelClosed":
      return `@${event.now} LivenessChannelClosed(${event.peerId})`;
    case "BeaconsReceived":
      return `@${event.receipts[0]?.now ?? "-"} BeaconsReceived(${
        event.receipts.map((r, i) => `${i === 0 ? "" : `@${r.now} `}${receipt(r)}`).join(" | ")
      })`;
    case "ReplacePeerRequested": {
      const c = event.connection;
      return `@${event.now} ReplacePeerRequested(${show(event.peerId)}, ${
        c.w3c ? c.state : `non-W3C ${c.description}`
      })`;
    }
    case "TimePassed":
      return `@${event.now} TimePassed${
        event.heard.length === 0
          ? ""
          : `(heard ${event.heard.map(([id, at]) => `${id}@${at}`).join(" ")})`
      }${
        (event.sent ?? []).length === 0
          ? ""
          : `(sent ${event.sent!.map(([id, at]) => `${id}@${at}`).join(" ")})`
      }`;
    case "CreateRequested": {
      const c = event.channelsConfig;
      const config = !Array.isArray(c)
        ? show(c)
        : c.length > 8
        ? `[${c.length} entries]`
        : `[${c.map((m) => enumName(TransferMode, m)).join(", ")}]`;
      return `CreateRequested(${event.network} ${show(event.peerId)}, channels ${config})`;
    }
    case "DisconnectPeerRequested":
      return `DisconnectPeerRequested(${show(event.peerId)}${
        event.force === false ? "" : `, force=${show(event.force)}`
      })`;
    case "TransferChannelSet":
      return `TransferChannelSet(${show(event.value)})`;
  }
}

/**
 * Renders an effect compactly.
 *
 * @example
 * ```ts
 * import { renderEffect } from "./_render.ts";
 * console.log(renderEffect({ type: "Emit", signal: "peer_connected", peerId: 1 })); // peer_connected(1)
 * ```
 */
export function renderEffect(effect: Effect): string {
  switch (effect.type) {
    case "CreateChannels":
      return `CreateChannels(${effect.peerId}: ${
        effect.channels.map(({ label, init }) =>
          `${label}#${init.id}${init.negotiated ? "" : " NOT-negotiated"} ${
            init.ordered ? "ordered" : "unordered"
          }${init.maxPacketLifeTime === undefined ? "" : ` life=${init.maxPacketLifeTime}`}`
        ).join(", ")
      }${effect.turn === undefined ? "" : `; turn ${effect.turn}`})`;
    case "CloseConnection":
      return `CloseConnection(${effect.peerId})`;
    case "ClosePeer":
      return `ClosePeer(${effect.peerId})`;
    case "DiscardChannels":
      return `DiscardChannels(${effect.peerId})`;
    case "DropPackets":
      return "DropPackets";
    case "Emit":
      return effect.peerId === undefined ? effect.signal : `${effect.signal}(${effect.peerId})`;
    case "Reply":
      return effect.error === GodotError.OK && effect.message === ""
        ? "Reply(OK)"
        : `Reply(${enumName(GodotError, effect.error)}: ${effect.message})`;
    case "CreateLivenessChannel": {
      const { label, init } = effect.channel;
      return `CreateLivenessChannel(${effect.peerId}: ${label}#${init.id} ${
        init.ordered ? "ordered" : "unordered"
      } rtx=${init.maxRetransmits})`;
    }
    case "SendBeacons":
      return `Send${effect.kind}(${effect.peerIds.join(",")})`;
    case "ReplaceConnection":
      return `ReplaceConnection(${effect.peerId}: ${
        effect.channels.map((c) => c.label).join(", ")
      } + ${effect.liveness.label}#${effect.liveness.init.id})`;
    case "HoldPeer":
      return `HoldPeer(${effect.peerId})`;
    case "ResendJournal":
      return `ResendJournal(${effect.peerId} from [${effect.from}])`;
    case "AckJournal":
      return `AckJournal(${effect.peerId}: [${effect.counts}])`;
  }
}

/**
 * Renders a state on one line: id, compat flag, status, refuse, transfer mode, target and each
 * peer as `id:connectionState/ch0,ch1,ch2/announced|pending`, by ascending id (Godot 4: in the
 * order the peers were added). Godot 4 states also show the network mode and extra channels.
 *
 * @example
 * ```ts
 * import { renderState } from "./_render.ts";
 * import { initialState } from "../../core/state.ts";
 * console.log(renderState(initialState));
 * // id=0 DISCONNECTED refuse=false mode=RELIABLE target=0 peers=[]
 * ```
 */
export function renderState(state: MeshState): string {
  // Godot 3 by ascending id; Godot 4 in the order peers were added (its receive order).
  const inOrder = [...state.peers.values()];
  if (state.godot === 3) inOrder.sort((a, b) => a.id - b.id);
  const peers = inOrder.map((p) =>
    `${p.id}:${p.connectionState}/${p.channels.join(",")}/${p.announced ? "announced" : "pending"}${
      p.lifetime === 1 ? "" : ` life=${p.lifetime}`
    }`
  );
  const godot4 = state.godot === 4
    ? [
      `godot4 ${state.network}`,
      `channels=[${state.channelsConfig.map((m) => enumName(TransferMode, m)).join(",")}]`,
    ]
    : [];
  const parts = [
    ...godot4,
    `id=${state.uniqueId}${state.serverCompatibility ? " compat" : ""}`,
    enumName(ConnectionStatus, state.status),
    `refuse=${state.refuseNewConnections}`,
    `mode=${enumName(TransferMode, state.transferMode)}`,
    `target=${show(state.targetPeer)}`,
    ...(state.transferChannel === 0 ? [] : [`transferChannel=${state.transferChannel}`]),
    `peers=[${peers.join(" ")}]`,
  ];
  const { config, nextBeatAt } = state.liveness;
  if (config !== null) {
    const live = [...state.liveness.peers].sort(([a], [b]) => a - b).map(([id, r]) =>
      r.capability === "transport"
        ? `${id}:transport`
        : r.capability === "probing"
        ? `${id}:probing since ${r.since}`
        : `${id}:beacons heard ${r.lastHeard}${
          r.lastSent === undefined ? "" : ` sent ${r.lastSent}`
        }`
    ).map((text, i) => {
      const at = [...state.liveness.peers].sort(([a], [b]) => a - b)[i][1].interruptedAt;
      const replacing = [...state.liveness.peers].sort(([a], [b]) => a - b)[i][1].replacing
        ? " replacing"
        : "";
      return (at == null ? text : `${text} interrupted@${at}`) + replacing;
    });
    parts[parts.length - 1] += `\n   liveness=[${live.join(" ")}] beat@${nextBeatAt ?? "-"}`;
  }
  return parts.join(" ");
}

/**
 * Renders a routing decision.
 *
 * @example
 * ```ts
 * import { renderRoute } from "./_render.ts";
 * console.log(renderRoute({ error: 0, channel: 0, peers: [2, 3] })); // OK reliable -> [2,3]
 * ```
 */
export function renderRoute(route: Route): string {
  return route.error === GodotError.OK
    ? `OK ${channelName(route.channel)} -> [${route.peers.join(",")}]`
    : `${enumName(GodotError, route.error)}: ${route.message}`;
}
