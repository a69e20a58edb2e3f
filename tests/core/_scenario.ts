/**
 * Scenario runner for the pure core: feeds events through `reduce` and renders each step as one
 * readable line (event `->` effects) plus the resulting state (rendered by `./_render.ts`), so
 * snapshots read like a story.
 * Also small event builders (`init(3, true)`, `addPeer(5)`, `connect(5)`, ...).
 *
 * @module
 */
import type { Effect } from "../../core/effects.ts";
import type {
  AddPeerRequested,
  CreateRequested,
  Event,
  InitializeRequested,
  RemovePeerRequested,
} from "../../core/events.ts";
import { reduce } from "../../core/reduce.ts";
import {
  type ChannelIndex,
  type ChannelState,
  initialGodot4State,
  initialState,
  type MeshState,
  type PeerConnectionState,
} from "../../core/state.ts";
import { renderEffect, renderEvent, renderState } from "./_render.ts";

export { renderEffect, renderEvent, renderRoute, renderState, show } from "./_render.ts";

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

/** A beacon from `peerId` at `now`, alone in its batch. */
export function beacon(peerId: number, kind: "hello" | "beat" | "bye", now: number): Event {
  return { type: "BeaconsReceived", receipts: [{ peerId, kind, now }] };
}

/** Beacons received in one turn of the interpreter's loop: `[peerId, kind, now]`, in order. */
export function beacons(
  ...receipts: ReadonlyArray<readonly [number, "hello" | "beat" | "bye", number]>
): Event {
  return {
    type: "BeaconsReceived",
    receipts: receipts.map(([peerId, kind, now]) => ({ peerId, kind, now })),
  };
}

/** A beacon that carries the peer's received counts, with our journal as the interpreter saw it. */
export function countedBeacon(
  peerId: number,
  kind: "hello" | "beat" | "bye",
  now: number,
  counts: readonly number[],
  journal?: ReadonlyArray<readonly [number, number]>,
): Event {
  return {
    type: "BeaconsReceived",
    receipts: [{ peerId, kind, now, counts, ...(journal ? { journal } : {}) }],
  };
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
