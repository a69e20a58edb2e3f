/**
 * Liveness: how the mesh learns that a peer is gone when its transport does not say so in time.
 *
 * Theory of operation (all rules pure; time arrives inside events, see SPEC.md rule 3's amendment
 * and `docs/liveness.md`):
 *
 * L1. Each peer added while liveness is on gets one more negotiated channel of the library's own
 *     ({@link LIVENESS_CHANNEL}: id 1023, unordered, no retransmissions), created with its three
 *     Godot channels, before any signaling. It carries only {@link encodeBeacon} frames, is never
 *     one of the peer's channels, never gates "connected", and its closing never removes a peer.
 * L2. `LivenessChannelOpened(now)` starts probing the peer: a `hello` beacon at once, then a `beat`
 *     every `intervalMs` to every peer that is probing or proven, except a proven peer that was sent
 *     a data message since the previous beat (reported in `TimePassed`'s `sent`): that message is
 *     its proof of our life (L4), so it still receives something in every interval. Beats are never
 *     skipped in a peer's first `probeWindowMs`, so its probing sees our beacons (L3), nor with
 *     `reconnect` (L9), whose beacons carry more than life.
 * L3. Capability per peer. A beacon from the peer proves it runs liveness: `beacons`. Beacons
 *     arrive batched (`BeaconsReceived`: those of one turn of the interpreter's loop, one reducer
 *     step and one copy of the liveness map), each judged as if alone, in order. The channel
 *     closing while probing (a libdatachannel peer without it resets the stream: a Godot-native
 *     peer) or `probeWindowMs` passing without a beacon (a browser peer without it drops them
 *     silently) means `transport`: we stop sending beacons and the peer is only ever removed by
 *     its transport (SPEC rule 5), as before. Until a beacon arrives no peer is ever timed out by
 *     liveness.
 * L4. Proof of life is any message from the peer on any channel: beacons at once; data messages
 *     are counted by the interpreter and reported in the next `TimePassed` (`heard`), so a busy
 *     peer costs no reducer step per packet.
 * L5. A `beacons` peer silent for `timeoutMs` is gone: removed as by rule 7 (`peer_disconnected`).
 * L6. A `bye` beacon (sent by a peer's `close()`/`removePeer()` and on page unload) removes the
 *     peer at once.
 * L7. Local stalls are not the peer's fault. `TimePassed` that arrives later than the deadline the
 *     state announced ({@link livenessDeadline}) by `stallMs` or more (an event loop blocked, a GC
 *     pause, a suspended laptop, a frozen tab) shifts every peer's silence forward by that lateness
 *     before any timeout is judged: the messages that arrived meanwhile are still queued behind the
 *     timer.
 * L8. One deadline: the earliest of the next beat, each proven peer's timeout and each probing
 *     peer's probe window. The interpreter keeps one timer for it and feeds `TimePassed(now)`.
 * L9. With `reconnect` (`graceMs`), a silent proven peer (L5), or an announced peer whose connection
 *     reports `"disconnected"`, is first `peer_interrupted`, not removed. Heard from again within
 *     `graceMs` it is `peer_resumed`; else it is gone after `graceMs` (rule 7). Only what follows
 *     the interruption counts: a message that arrived after it (a data message by the time the
 *     interpreter saw it, `TimePassed.heard`, not when it is reported), or its connection changing
 *     back to `"connected"` (a report of the state it is already in is no news). `"failed"`,
 *     `"closed"` and channel closes still remove a peer that is not interrupted at once; an
 *     interrupted one is held for a replacement connection until its grace ends
 *     (core/reconnect.ts, R6).
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import type { Effect, NegotiatedChannelInit } from "./effects.ts";
import type {
  BeaconReceipt,
  LivenessChannelClosed,
  LivenessChannelOpened,
  TimePassed,
} from "./events.ts";
import type { MeshState } from "./state.ts";
import { setPeer, type Step } from "./_rules.ts";
import { show } from "./_validate.ts";

/** The stream id of the liveness channel: above Godot 4's channels (1..258), within libdatachannel's 1024 streams. */
export const LIVENESS_CHANNEL_ID = 1023;

/** The liveness channel's label and init (rule L1). */
export const LIVENESS_CHANNEL: { readonly label: string; readonly init: NegotiatedChannelInit } =
  Object.freeze({
    label: "webrtc-mesh-liveness",
    init: Object.freeze({
      negotiated: true as const,
      id: LIVENESS_CHANNEL_ID,
      ordered: false,
      maxRetransmits: 0,
    }),
  });

/** The liveness settings (`MeshOptions.liveness`), all in milliseconds. */
export interface LivenessConfig {
  /** Silence after which a proven peer is gone. Default 3000. */
  readonly timeoutMs: number;
  /** Period of our beats. Default 500; at most `timeoutMs / 3`. */
  readonly intervalMs: number;
  /** How long a peer may stay silent before we decide it has no liveness channel. Default 5000. */
  readonly probeWindowMs: number;
  /** Lateness of our own timer that counts as a local stall (rule L7). Default 1000. */
  readonly stallMs: number;
  /** Whether SIGINT/SIGTERM (Deno, Node) close the mesh first, saying `bye`. Default true. */
  readonly byeOnExit: boolean;
}

/** The defaults: a crashed peer is gone 3.0–3.5 s after its last message. */
export const DEFAULT_LIVENESS: LivenessConfig = Object.freeze({
  timeoutMs: 3000,
  intervalMs: 500,
  probeWindowMs: 5000,
  stallMs: 1000,
  byeOnExit: true,
});

/**
 * What liveness knows of a peer's side. `probing`: beacons sent, none received yet; `beacons`: the
 * peer runs liveness (rule L5 applies); `transport`: it does not, only its transport can remove it.
 */
export type LivenessCapability = "probing" | "beacons" | "transport";

/** Liveness bookkeeping of one peer. */
export interface PeerLiveness {
  /** See {@link LivenessCapability}. */
  readonly capability: LivenessCapability;
  /** When probing started (the liveness channel opened). */
  readonly since: number;
  /** When the peer was last heard from (any message), shifted by local stalls (rule L7). */
  readonly lastHeard: number;
  /** When it was interrupted (rule L9), or `null`. */
  readonly interruptedAt?: number | null;
  /** When we last sent it a data message (rule L2's skipping); absent before the first. */
  readonly lastSent?: number;
  /** Whether its connection is being replaced (core/reconnect.ts, R3-R5). */
  readonly replacing?: boolean;
}

/** The liveness section of the mesh state. */
export interface LivenessState {
  /** The settings; `null` when liveness is off. */
  readonly config: LivenessConfig | null;
  /** Peers whose liveness channel opened, by id. */
  readonly peers: ReadonlyMap<number, PeerLiveness>;
  /** When the next beat is due; `null` when nobody is probing or proven. */
  readonly nextBeatAt: number | null;
  /** Rule L9's grace in ms; `null` when `reconnect` is off. */
  readonly graceMs?: number | null;
}

/** Liveness off: no channel, no beacons, no timer. */
export const LIVENESS_OFF: LivenessState = Object.freeze({
  config: null,
  peers: new Map<number, PeerLiveness>(),
  nextBeatAt: null,
});

/** A fresh liveness section with these settings (or off for `null`). */
export function livenessState(
  config: LivenessConfig | null,
  graceMs: number | null = null,
): LivenessState {
  return config === null ? LIVENESS_OFF : { config, peers: new Map(), nextBeatAt: null, graceMs };
}

/**
 * Validates `MeshOptions.reconnect`: `undefined` or `false` is off (`null`), `true` the default
 * grace of 10 s, `{ graceMs }` an integer in 1000..600000. It needs liveness on.
 *
 * @example
 * ```ts
 * import { parseReconnectOptions } from "./liveness.ts";
 * console.log(parseReconnectOptions({ graceMs: 5000 }, true)); // { _tag: "Right", right: 5000 }
 * ```
 */
export function parseReconnectOptions(
  value: unknown,
  liveness: boolean,
): Parsed<number | null> {
  if (value === undefined || value === false) return E.right(null);
  if (!liveness) return E.left("reconnect needs liveness (liveness: false turns it off)");
  if (value === true) return E.right(10_000);
  if (typeof value !== "object" || value === null) {
    return E.left(`reconnect must be false or { graceMs }, got ${show(value)}`);
  }
  // `journalBytes` is checked with the journal's rules (core/reconnect.ts).
  const { graceMs, journalBytes: _journalBytes, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) return E.left(`reconnect: unknown option ${JSON.stringify(extra[0])}`);
  if (graceMs === undefined) return E.right(10_000);
  if (
    typeof graceMs !== "number" || !Number.isInteger(graceMs) || graceMs < 1000 || graceMs > 600_000
  ) {
    return E.left(
      `reconnect.graceMs must be an integer in 1000..600000 (ms), got ${show(graceMs)}`,
    );
  }
  return E.right(graceMs);
}

/** A validated option (`Right`) or why it was refused (`Left`): fp-ts's `Either` shape. */
export type Parsed<T> =
  | { readonly _tag: "Right"; readonly right: T }
  | { readonly _tag: "Left"; readonly left: string };

/** Bounds of the settings. */
const BOUNDS = {
  timeoutMs: [100, 3_600_000],
  intervalMs: [10, 1_200_000],
  probeWindowMs: [10, 3_600_000],
  stallMs: [10, 3_600_000],
} as const;

/**
 * Validates `MeshOptions.liveness`: `undefined` gives the defaults, `false` turns liveness off, an
 * object overrides some of the defaults. Every value must be an integer within its bounds and
 * `intervalMs` at most `timeoutMs / 3` (three beats may be lost before a peer counts as gone).
 *
 * @example
 * ```ts
 * import { parseLivenessOptions } from "./liveness.ts";
 * console.log(parseLivenessOptions({ timeoutMs: 6000, byeOnExit: false })._tag); // Right
 * console.log(parseLivenessOptions({ intervalMs: 2000 })._tag); // Left
 * ```
 */
export function parseLivenessOptions(value: unknown): Parsed<LivenessConfig | null> {
  if (value === undefined || value === true) return E.right(DEFAULT_LIVENESS);
  if (value === false) return E.right(null);
  if (typeof value !== "object" || value === null) {
    return E.left(`liveness must be false or an object, got ${show(value)}`);
  }
  const given = value as Record<string, unknown>;
  const config: Record<string, number | boolean> = { ...DEFAULT_LIVENESS };
  for (const key of Object.keys(given)) {
    if (key === "byeOnExit" && given[key] !== undefined) {
      if (typeof given[key] !== "boolean") {
        return E.left(`liveness.byeOnExit must be a boolean, got ${show(given[key])}`);
      }
      config[key] = given[key] as boolean;
      continue;
    }
    if (!(key in BOUNDS)) {
      return E.left(`liveness: unknown option ${JSON.stringify(key)}`);
    }
    const [min, max] = BOUNDS[key as keyof typeof BOUNDS];
    const v = given[key];
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      return E.left(`liveness.${key} must be an integer in ${min}..${max} (ms), got ${show(v)}`);
    }
    config[key] = v;
  }
  const timeoutMs = config.timeoutMs as number;
  if (given.intervalMs === undefined) {
    config.intervalMs = Math.min(DEFAULT_LIVENESS.intervalMs, Math.floor(timeoutMs / 6));
  }
  if ((config.intervalMs as number) * 3 > timeoutMs) {
    return E.left(
      `liveness.intervalMs (${config.intervalMs}) must be at most timeoutMs / 3 (${
        Math.floor(timeoutMs / 3)
      })`,
    );
  }
  return E.right(config as unknown as LivenessConfig);
}

// ---- the wire ----------------------------------------------------------------------------------

/** Kinds of beacon frames. */
export type BeaconKind = "hello" | "beat" | "bye";

const MAGIC = 0x6c; // "l"
const VERSION = 1;
const KIND_CODES: Readonly<Record<BeaconKind, number>> = { hello: 1, beat: 2, bye: 3 };
const KINDS: readonly (BeaconKind | undefined)[] = [undefined, "hello", "beat", "bye"];

/**
 * The bytes of a beacon: `magic 0x6c | version 1 | kind (1 hello, 2 beat, 3 bye)`.
 *
 * @example
 * ```ts
 * import { encodeBeacon } from "./liveness.ts";
 * console.log(encodeBeacon("bye")); // Uint8Array(3) [ 108, 1, 3 ]
 * ```
 */
export function encodeBeacon(kind: BeaconKind): Uint8Array {
  return new Uint8Array([MAGIC, VERSION, KIND_CODES[kind]]);
}

/**
 * Reads a beacon; anything else (another version, an unknown kind, stray bytes) is `undefined` and
 * ignored, so later versions can add kinds and fields after the third byte.
 *
 * @example
 * ```ts
 * import { decodeBeacon } from "./liveness.ts";
 * console.log(decodeBeacon(new Uint8Array([108, 1, 2])), decodeBeacon(new Uint8Array([1]))); // beat undefined
 * ```
 */
export function decodeBeacon(bytes: Uint8Array): BeaconKind | undefined {
  if (bytes.byteLength < 3 || bytes[0] !== MAGIC || bytes[1] !== VERSION) return undefined;
  return KINDS[bytes[2]];
}

// ---- the rules -----------------------------------------------------------------------------------

/** What a liveness rule decided: the next state, effects, and the peers that are gone (rule 7 follows). */
export interface LivenessStep {
  /** The next state. */
  readonly state: MeshState;
  /** Effects to carry out before any removal. */
  readonly effects: readonly Effect[];
  /** Peers to remove as by rule 7, in this order. */
  readonly gone: readonly number[];
}

function withLiveness(state: MeshState, liveness: LivenessState): MeshState {
  return { ...state, liveness };
}

function setRecord(state: MeshState, id: number, record: PeerLiveness): MeshState {
  const peers = new Map(state.liveness.peers);
  peers.set(id, record);
  return withLiveness(state, { ...state.liveness, peers });
}

const nothing = (state: MeshState): LivenessStep => ({ state, effects: [], gone: [] });

/**
 * The earliest moment liveness needs a `TimePassed` (rule L8), or `null` for none.
 *
 * @example
 * ```ts
 * import { initialState, livenessDeadline } from "./mod.ts";
 * console.log(livenessDeadline(initialState)); // null
 * ```
 */
export function livenessDeadline(state: MeshState): number | null {
  const { config, peers, nextBeatAt } = state.liveness;
  if (config === null) return null;
  let due = nextBeatAt ?? Infinity;
  const grace = state.liveness.graceMs ?? null;
  for (const p of peers.values()) {
    if (grace !== null && p.interruptedAt != null) due = Math.min(due, p.interruptedAt + grace);
    else if (p.capability === "beacons") due = Math.min(due, p.lastHeard + config.timeoutMs);
    else if (p.capability === "probing") due = Math.min(due, p.since + config.probeWindowMs);
  }
  return due === Infinity ? null : due;
}

/** Rule L1: the liveness channel of a peer that `AddPeerRequested` just added. */
export function livenessChannelFor(
  before: MeshState,
  after: MeshState,
  peerId: number,
): Effect | undefined {
  if (after.liveness.config === null || before.peers.has(peerId) || !after.peers.has(peerId)) {
    return undefined;
  }
  return { type: "CreateLivenessChannel", peerId, channel: LIVENESS_CHANNEL };
}

/** Rule L2: the channel opened; probing starts with a `hello`, and beats are scheduled. */
export function livenessChannelOpened(
  state: MeshState,
  event: LivenessChannelOpened,
): LivenessStep {
  const { config } = state.liveness;
  if (config === null || !state.peers.has(event.peerId) || state.liveness.peers.has(event.peerId)) {
    return nothing(state);
  }
  let next = setRecord(state, event.peerId, {
    capability: "probing",
    since: event.now,
    lastHeard: event.now,
  });
  if (next.liveness.nextBeatAt === null) {
    next = withLiveness(next, { ...next.liveness, nextBeatAt: event.now + config.intervalMs });
  }
  return {
    state: next,
    effects: [{ type: "SendBeacons", peerIds: [event.peerId], kind: "hello" }],
    gone: [],
  };
}

/** Rules L3 (a beacon proves liveness), L4 (it is proof of life) and L6 (`bye`). */
export function beaconReceived(state: MeshState, event: BeaconReceipt): LivenessStep {
  const record = state.liveness.peers.get(event.peerId);
  if (record === undefined || !state.peers.has(event.peerId)) return nothing(state);
  if (event.kind === "bye") return { state, effects: [], gone: [event.peerId] };
  const next = setRecord(state, event.peerId, heardBeacon(record, event.now));
  return { state: next, effects: resumed(state, event.peerId, record), gone: [] };
}

/** Rules L3 and L4: the record of a peer a beacon came from at `now`. */
function heardBeacon(record: PeerLiveness, now: number): PeerLiveness {
  return {
    ...record,
    capability: "beacons",
    lastHeard: Math.max(record.lastHeard, now),
    interruptedAt: null,
  };
}

/**
 * `BeaconsReceived`: the receipts in order, with the state and effects that `one` (the reducer's
 * step for a single beacon: reconnect's R2 and R5, then {@link beaconReceived}, then rule 7 for
 * the peers it finds gone) gives them one by one, but one copy of the liveness map for a run of
 * receipts that only prove life (a `hello` or `beat` of a known peer that is not being replaced):
 * a server hearing N clients' beats pays O(N) per batch, not per beacon. Every other receipt (a
 * `bye`, a replacement's first beacon, an unknown peer) is `one`'s, in its place.
 * `acknowledged` gives a proving receipt's acknowledgement (R2), which reads only the receipt.
 */
export function beaconsReceived(
  state: MeshState,
  receipts: readonly BeaconReceipt[],
  one: (state: MeshState, receipt: BeaconReceipt) => Step,
  acknowledged: (state: MeshState, receipt: BeaconReceipt) => readonly Effect[],
): Step {
  let next = state;
  let draft: Map<number, PeerLiveness> | undefined;
  const effects: Effect[] = [];
  const commit = () => {
    if (draft !== undefined) next = withLiveness(next, { ...next.liveness, peers: draft });
    draft = undefined;
  };
  for (const receipt of receipts) {
    const id = receipt.peerId;
    const record = (draft ?? next.liveness.peers).get(id);
    if (
      record === undefined || record.replacing === true || receipt.kind === "bye" ||
      !next.peers.has(id)
    ) {
      commit();
      const [after, done] = one(next, receipt);
      next = after;
      effects.push(...done);
      continue;
    }
    draft ??= new Map(next.liveness.peers);
    draft.set(id, heardBeacon(record, receipt.now));
    effects.push(...resumed(next, id, record), ...acknowledged(next, receipt));
  }
  commit();
  return [next, effects];
}

/** Rule L9: `peer_resumed` owed when an interrupted, announced peer is heard from again. */
function resumed(state: MeshState, id: number, record: PeerLiveness): Effect[] {
  return record.interruptedAt != null && state.peers.get(id)?.announced === true
    ? [{ type: "Emit", signal: "peer_resumed", peerId: id }]
    : [];
}

/**
 * Rule L9 for connection states: with `reconnect`, a change to `"disconnected"` of an announced
 * peer interrupts it and a change back to `"connected"` of an interrupted one resumes it; the
 * state is recorded either way. A report of the state the peer's connection is already in is no
 * news and changes nothing (libwebrtc through `@roamhq/wrtc` fires `connectionstatechange` for every
 * ICE state change, and its `connectionState` may still read the previous state then: a
 * `"connected"` read during a partition is not a return). `undefined`: not this rule's business
 * (rule 5 decides).
 */
export function connectionInterrupted(
  state: MeshState,
  event: { readonly peerId: number; readonly state: string; readonly now?: number },
): LivenessStep | undefined {
  const grace = state.liveness.graceMs ?? null;
  const record = state.liveness.peers.get(event.peerId);
  const peer = state.peers.get(event.peerId);
  if (grace === null || record === undefined || peer === undefined || !peer.announced) {
    return undefined;
  }
  const connectionState = event.state;
  if (connectionState !== "disconnected" && connectionState !== "connected") return undefined;
  if (peer.connectionState === connectionState) return nothing(state);
  const moved = setPeer(state, { ...peer, connectionState });
  if (connectionState === "disconnected") {
    if (record.interruptedAt != null) return nothing(moved);
    const now = event.now ?? record.lastHeard;
    return {
      state: setRecord(moved, event.peerId, { ...record, interruptedAt: now }),
      effects: [{ type: "Emit", signal: "peer_interrupted", peerId: event.peerId }],
      gone: [],
    };
  }
  if (record.interruptedAt != null && record.replacing !== true) {
    return {
      state: setRecord(moved, event.peerId, {
        ...record,
        interruptedAt: null,
        lastHeard: Math.max(record.lastHeard, event.now ?? record.lastHeard),
      }),
      effects: resumed(state, event.peerId, record),
      gone: [],
    };
  }
  return undefined;
}

/** Rule L3: the channel closed; a peer still probing has none (its stack reset the stream). */
export function livenessChannelClosed(
  state: MeshState,
  event: LivenessChannelClosed,
): LivenessStep {
  if (state.liveness.config === null || !state.peers.has(event.peerId)) return nothing(state);
  const record = state.liveness.peers.get(event.peerId);
  if (record === undefined) {
    // Closed (or never made) before it opened: nothing to probe with.
    return nothing(setRecord(state, event.peerId, {
      capability: "transport",
      since: event.now,
      lastHeard: event.now,
    }));
  }
  if (record.capability !== "probing") return nothing(state);
  return nothing(setRecord(state, event.peerId, { ...record, capability: "transport" }));
}

/** Rules L4, L5, L3 (probe window), L7 and the beats of L2. */
export function timePassed(state: MeshState, event: TimePassed): LivenessStep {
  const { config } = state.liveness;
  if (config === null) return nothing(state);
  const { now } = event;
  const due = livenessDeadline(state);
  const late = due === null ? 0 : now - due;
  const shift = late >= config.stallMs ? late : 0;
  const heard = new Map(event.heard);
  const sent = new Map(event.sent ?? []);
  // Rule L2: a proven peer sent data since the previous beat needs no beat now.
  const previousBeat = (state.liveness.nextBeatAt ?? Infinity) - config.intervalMs;
  const grace = state.liveness.graceMs ?? null;
  const peers = new Map<number, PeerLiveness>();
  const gone: number[] = [];
  const beating: number[] = [];
  const skipped: number[] = [];
  const signals: Effect[] = [];
  for (const [id, record] of state.liveness.peers) {
    if (!state.peers.has(id)) continue;
    let r = record;
    if (r.interruptedAt != null) r = { ...r, interruptedAt: r.interruptedAt + shift };
    if (sent.has(id)) r = { ...r, lastSent: Math.max(r.lastSent ?? -Infinity, sent.get(id)!) };
    if (r.capability !== "transport") {
      const lastHeard = Math.max(r.lastHeard + shift, heard.get(id) ?? -Infinity);
      r = { ...r, since: r.since + shift, lastHeard };
      const silent = r.capability === "beacons" && now - r.lastHeard >= config.timeoutMs;
      if (
        r.interruptedAt != null && !silent && heard.has(id) && heard.get(id)! > r.interruptedAt &&
        r.replacing !== true
      ) {
        signals.push(...resumed(state, id, r));
        r = { ...r, interruptedAt: null };
      }
      if (silent && grace !== null && r.interruptedAt == null && state.peers.get(id)!.announced) {
        r = { ...r, interruptedAt: now };
        signals.push({ type: "Emit", signal: "peer_interrupted", peerId: id });
      } else if (silent && (grace === null || r.interruptedAt == null)) gone.push(id);
      else if (r.capability === "probing" && now - r.since >= config.probeWindowMs) {
        r = { ...r, capability: "transport" };
      }
    }
    if (grace !== null && r.interruptedAt != null && now - r.interruptedAt >= grace) {
      if (!gone.includes(id)) gone.push(id);
    }
    if (r.capability !== "transport" && !gone.includes(id)) {
      const fed = grace === null && r.capability === "beacons" &&
        now - r.since >= config.probeWindowMs && (r.lastSent ?? -Infinity) >= previousBeat;
      (fed ? skipped : beating).push(id);
    }
    peers.set(id, r);
  }
  let nextBeatAt = state.liveness.nextBeatAt;
  const effects: Effect[] = [];
  if (beating.length === 0 && skipped.length === 0) nextBeatAt = null;
  else if (nextBeatAt === null || now >= nextBeatAt) {
    if (beating.length > 0) effects.push({ type: "SendBeacons", peerIds: beating, kind: "beat" });
    nextBeatAt = now + config.intervalMs;
  }
  effects.push(...signals);
  return { state: withLiveness(state, { ...state.liveness, peers, nextBeatAt }), effects, gone };
}

/**
 * Rule L6, sending side: the `bye` owed to the peers a request (`removePeer`, `close`) is about to
 * remove, put before the effects that close them.
 */
export function byeBefore(
  before: MeshState,
  after: MeshState,
  effects: readonly Effect[],
): Effect[] {
  const leaving = [...before.liveness.peers].filter(([id, r]) =>
    r.capability !== "transport" && before.peers.has(id) && !after.peers.has(id)
  ).map(([id]) => id).sort((a, b) => a - b);
  return leaving.length === 0
    ? [...effects]
    : [{ type: "SendBeacons", peerIds: leaving, kind: "bye" }, ...effects];
}

/** Forgets the liveness record of a peer that left the mesh. */
export function forgetPeer(liveness: LivenessState, peerId: number): LivenessState {
  if (!liveness.peers.has(peerId)) return liveness;
  const peers = new Map(liveness.peers);
  peers.delete(peerId);
  return { ...liveness, peers, nextBeatAt: peers.size === 0 ? null : liveness.nextBeatAt };
}
