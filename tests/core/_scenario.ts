/**
 * Scenario runner for the pure core: feeds events through `reduce` and renders each step as one
 * readable line (event `->` effects) plus the resulting state, so snapshots read like a story.
 * Also small event builders (`init(3, true)`, `addPeer(5)`, `connect(5)`, ...).
 *
 * @module
 */
import { ConnectionStatus, GodotError, TransferMode } from "../../core/constants.ts";
import type { Effect } from "../../core/effects.ts";
import type {
  AddPeerRequested,
  CreateRequested,
  Event,
  InitializeRequested,
  RemovePeerRequested,
} from "../../core/events.ts";
import { reduce } from "../../core/reduce.ts";
import { CHANNEL_LABELS, channelName, type Route } from "../../core/route.ts";
import {
  type ChannelIndex,
  type ChannelState,
  initialGodot4State,
  initialState,
  type MeshState,
  type PeerConnectionState,
} from "../../core/state.ts";

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

/**
 * Renders an event compactly.
 *
 * @example
 * ```ts
 * import { renderEvent } from "./_scenario.ts";
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
    case "BeaconReceived":
      return `@${event.now} BeaconReceived(${event.peerId}, ${event.kind}${
        event.counts === undefined ? "" : `, counts [${event.counts}]`
      }${
        event.journal === undefined
          ? ""
          : `; journal ${event.journal.map(([b, e]) => `${b}..${e}`).join(" ")}`
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
 * import { renderEffect } from "./_scenario.ts";
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
 * import { renderState } from "./_scenario.ts";
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
 * import { renderRoute } from "./_scenario.ts";
 * console.log(renderRoute({ error: 0, channel: 0, peers: [2, 3] })); // OK reliable -> [2,3]
 * ```
 */
export function renderRoute(route: Route): string {
  return route.error === GodotError.OK
    ? `OK ${channelName(route.channel)} -> [${route.peers.join(",")}]`
    : `${enumName(GodotError, route.error)}: ${route.message}`;
}

/** One reduced step. */
export interface ScenarioStep {
  readonly event: Event;
  readonly before: MeshState;
  readonly after: MeshState;
  readonly effects: readonly Effect[];
}

/** The outcome of {@link runScenario}. */
export interface ScenarioRun {
  readonly steps: readonly ScenarioStep[];
  readonly final: MeshState;
  /** Every effect of every step, in order. */
  readonly effects: readonly Effect[];
  /** The story: per step `event -> effects`, then `   state` (or `   = same state object`). */
  readonly text: string;
}

/** Events, or lists of events (as the builders return), in order. */
export type Script = ReadonlyArray<Event | ReadonlyArray<Event>>;

/**
 * Runs events through `reduce` from `start` (default: `initialState`) and renders the story.
 *
 * @example
 * ```ts
 * import { init, runScenario } from "./_scenario.ts";
 * console.log(runScenario([init(1)]).text);
 * // InitializeRequested(1) -> Reply(OK)
 * //    id=1 CONNECTED refuse=false mode=RELIABLE target=0 peers=[]
 * ```
 */
export function runScenario(script: Script, start: MeshState = initialState): ScenarioRun {
  const steps: ScenarioStep[] = [];
  const lines: string[] = [];
  let state = start;
  for (const event of script.flat() as Event[]) {
    const [after, effects] = reduce(state, event);
    steps.push({ event, before: state, after, effects });
    lines.push(
      `${renderEvent(event)} -> ${
        effects.length === 0 ? "(nothing)" : effects.map(renderEffect).join(", ")
      }`,
      after === state ? "   = same state object" : `   ${renderState(after)}`,
    );
    state = after;
  }
  return { steps, final: state, effects: steps.flatMap((s) => s.effects), text: lines.join("\n") };
}

// ---------------------------------------------------------------------------------------------
// Event builders

/**
 * `initialize(peerId, serverCompatibility)`.
 *
 * @example
 * ```ts
 * import { init } from "./_scenario.ts";
 * console.log(init(3, true).serverCompatibility); // true
 * ```
 */
export function init(peerId: unknown, serverCompatibility: unknown = false): InitializeRequested {
  return { type: "InitializeRequested", peerId, serverCompatibility } as InitializeRequested;
}

/**
 * `addPeer(conn, peerId, lifetime)` with a W3C connection in `connectionState` `state`.
 *
 * @example
 * ```ts
 * import { addPeer } from "./_scenario.ts";
 * console.log(addPeer(2).type); // AddPeerRequested
 * ```
 */
export function addPeer(
  peerId: unknown,
  lifetime: unknown = 1,
  state: string = "new",
): AddPeerRequested {
  return {
    type: "AddPeerRequested",
    peerId,
    lifetime,
    connection: { w3c: true, state, description: "RTCPeerConnection" },
  } as AddPeerRequested;
}

/**
 * `addPeer(value, peerId)` where `value` is not an `RTCPeerConnection` (`description` says what).
 *
 * @example
 * ```ts
 * import { addNonW3C } from "./_scenario.ts";
 * console.log(addNonW3C(2, "null").type); // AddPeerRequested
 * ```
 */
export function addNonW3C(
  peerId: unknown,
  description: string,
  lifetime: unknown = 1,
): AddPeerRequested {
  return {
    type: "AddPeerRequested",
    peerId,
    lifetime,
    connection: { w3c: false, state: "", description },
  } as AddPeerRequested;
}

/**
 * `removePeer(peerId)`.
 *
 * @example
 * ```ts
 * import { remove } from "./_scenario.ts";
 * console.log(remove(2).type); // RemovePeerRequested
 * ```
 */
export function remove(peerId: unknown): RemovePeerRequested {
  return { type: "RemovePeerRequested", peerId } as RemovePeerRequested;
}

/**
 * `close()`.
 *
 * @example
 * ```ts
 * import { close } from "./_scenario.ts";
 * console.log(close().type); // CloseRequested
 * ```
 */
export function close(): Event {
  return { type: "CloseRequested" };
}

/**
 * `refuseNewConnections = value`.
 *
 * @example
 * ```ts
 * import { refuse } from "./_scenario.ts";
 * console.log(refuse(true).type); // RefuseNewConnectionsSet
 * ```
 */
export function refuse(value: unknown): Event {
  return { type: "RefuseNewConnectionsSet", value };
}

/**
 * `transferMode = value`.
 *
 * @example
 * ```ts
 * import { mode } from "./_scenario.ts";
 * console.log(mode(0).type); // TransferModeSet
 * ```
 */
export function mode(value: unknown): Event {
  return { type: "TransferModeSet", value };
}

/**
 * `targetPeer = value`.
 *
 * @example
 * ```ts
 * import { target } from "./_scenario.ts";
 * console.log(target(-2).type); // TargetPeerSet
 * ```
 */
export function target(value: unknown): Event {
  return { type: "TargetPeerSet", value };
}

/**
 * The peer's connection reports `state`.
 *
 * @example
 * ```ts
 * import { conn } from "./_scenario.ts";
 * console.log(conn(2, "failed").type); // ConnectionStateChanged
 * ```
 */
export function conn(peerId: number, state: PeerConnectionState): Event {
  return { type: "ConnectionStateChanged", peerId, state };
}

/**
 * Channel `channel` (0 reliable, 1 ordered, 2 unreliable) of the peer reports `state`.
 *
 * @example
 * ```ts
 * import { chan } from "./_scenario.ts";
 * console.log(chan(2, 1, "open").type); // ChannelStateChanged
 * ```
 */
export function chan(peerId: number, channel: ChannelIndex, state: ChannelState): Event {
  return { type: "ChannelStateChanged", peerId, channel, state };
}

/**
 * Channel `channel` of the peer fires `error`.
 *
 * @example
 * ```ts
 * import { chanError } from "./_scenario.ts";
 * console.log(chanError(2, 0).type); // ChannelErrored
 * ```
 */
export function chanError(peerId: number, channel: ChannelIndex, message = "boom"): Event {
  return { type: "ChannelErrored", peerId, channel, message };
}

/**
 * `createDataChannel` threw for the peer just added.
 *
 * @example
 * ```ts
 * import { createFailed } from "./_scenario.ts";
 * console.log(createFailed(2).type); // ChannelCreateFailed
 * ```
 */
export function createFailed(peerId: number, message = "createDataChannel threw"): Event {
  return { type: "ChannelCreateFailed", peerId, message };
}

/**
 * The three channels of the peer open, in order, then its `extra` Godot 4 channels.
 *
 * @example
 * ```ts
 * import { openChannels } from "./_scenario.ts";
 * console.log(openChannels(2).length, openChannels(2, 2).length); // 3 5
 * ```
 */
export function openChannels(peerId: number, extra = 0): Event[] {
  return Array.from({ length: 3 + extra }, (_, i) => chan(peerId, i, "open"));
}

/**
 * The peer becomes ready: its connection reports `"connected"`, then its channels open.
 *
 * @example
 * ```ts
 * import { connect } from "./_scenario.ts";
 * console.log(connect(2).length); // 4
 * ```
 */
export function connect(peerId: number, extra = 0): Event[] {
  return [conn(peerId, "connected"), ...openChannels(peerId, extra)];
}

/**
 * `addPeer` then `connect`: a peer that joins and becomes ready.
 *
 * @example
 * ```ts
 * import { join } from "./_scenario.ts";
 * console.log(join(2).length); // 5
 * ```
 */
export function join(peerId: number, lifetime = 1, extra = 0): Event[] {
  return [addPeer(peerId, lifetime), ...connect(peerId, extra)];
}

/**
 * Godot 4: `createMesh(id, config)`, `createServer(config)` or `createClient(id, config)`.
 *
 * @example
 * ```ts
 * import { create } from "./_scenario.ts";
 * console.log(create("client", 3).network); // client
 * ```
 */
export function create(
  network: CreateRequested["network"],
  peerId: unknown = 1,
  channelsConfig: unknown = [],
): CreateRequested {
  return { type: "CreateRequested", network, peerId, channelsConfig } as CreateRequested;
}

/**
 * Godot 4: `disconnectPeer(peerId, force)`.
 *
 * @example
 * ```ts
 * import { disconnect } from "./_scenario.ts";
 * console.log(disconnect(2, true).force); // true
 * ```
 */
export function disconnect(peerId: unknown, force: unknown = false): Event {
  return { type: "DisconnectPeerRequested", peerId, force } as Event;
}

/**
 * Godot 4: `transferChannel = value`.
 *
 * @example
 * ```ts
 * import { transferChannel } from "./_scenario.ts";
 * console.log(transferChannel(2).type); // TransferChannelSet
 * ```
 */
export function transferChannel(value: unknown): Event {
  return { type: "TransferChannelSet", value };
}

/**
 * Runs a Godot 4 story from {@link initialGodot4State}.
 *
 * @example
 * ```ts
 * import { create, runGodot4 } from "./_scenario.ts";
 * console.log(runGodot4([create("server")]).final.network); // server
 * ```
 */
export function runGodot4(script: Script): ScenarioRun {
  return runScenario(script, initialGodot4State);
}

/**
 * The state after running `script` from `start` (default `initialState`).
 *
 * @example
 * ```ts
 * import { init, stateAfter } from "./_scenario.ts";
 * console.log(stateAfter([init(2)]).uniqueId); // 2
 * ```
 */
export function stateAfter(script: Script, start: MeshState = initialState): MeshState {
  return runScenario(script, start).final;
}

/**
 * A titled story (events run from `start`); several make one snapshot.
 *
 * @example
 * ```ts
 * import { init, section } from "./_scenario.ts";
 * console.log(section("a server", [init(1)]).split("\n")[0]); // ## a server
 * ```
 */
export function section(title: string, script: Script, start: MeshState = initialState): string {
  return `## ${title}\n${runScenario(script, start).text}`;
}

/**
 * Sections joined into one snapshot text.
 *
 * @example
 * ```ts
 * import { story } from "./_scenario.ts";
 * console.log(story("## a", "## b")); // two sections, a blank line between
 * ```
 */
export function story(...sections: string[]): string {
  return sections.join("\n\n");
}

/**
 * The signals among `effects`, as `name(id)` strings.
 *
 * @example
 * ```ts
 * import { emits } from "./_scenario.ts";
 * console.log(emits([{ type: "Emit", signal: "peer_connected", peerId: 2 }])); // [ "peer_connected(2)" ]
 * ```
 */
export function emits(effects: readonly Effect[]): string[] {
  return effects.flatMap((e) =>
    e.type === "Emit" ? [e.peerId === undefined ? e.signal : `${e.signal}(${e.peerId})`] : []
  );
}

// ---------------------------------------------------------------------------------------------
// Liveness builders (time in ms of the interpreter's clock)

/** The liveness channel of `peerId` opened at `now`. */
export function lvOpen(peerId: number, now: number): Event {
  return { type: "LivenessChannelOpened", peerId, now };
}

/** The liveness channel of `peerId` closed at `now`. */
export function lvClosed(peerId: number, now: number): Event {
  return { type: "LivenessChannelClosed", peerId, now };
}

/** A beacon from `peerId` at `now`. */
export function beacon(peerId: number, kind: "hello" | "beat" | "bye", now: number): Event {
  return { type: "BeaconReceived", peerId, kind, now };
}

/** A beacon that carries the peer's received counts, with our journal as the interpreter saw it. */
export function countedBeacon(
  peerId: number,
  kind: "hello" | "beat" | "bye",
  now: number,
  counts: readonly number[],
  journal?: ReadonlyArray<readonly [number, number]>,
): Event {
  return { type: "BeaconReceived", peerId, kind, now, counts, ...(journal ? { journal } : {}) };
}

/** `replacePeer(connection, peerId)` with a fresh W3C connection (or one in `state`). */
export function replace(peerId: unknown, now: number, state = "new"): Event {
  return {
    type: "ReplacePeerRequested",
    peerId: peerId as number,
    now,
    connection: { w3c: true, state, description: "RTCPeerConnection" },
  };
}

/** The timer fired at `now`; `heard` lists the latest data message per peer. */
export function tick(
  now: number,
  heard: ReadonlyArray<readonly [number, number]> = [],
  sent?: ReadonlyArray<readonly [number, number]>,
): Event {
  return sent === undefined
    ? { type: "TimePassed", now, heard }
    : { type: "TimePassed", now, heard, sent };
}
