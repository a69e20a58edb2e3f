/**
 * The native link wiring of the interpreter: the connection and channel objects behind each peer
 * id ({@link Link}), the listeners that turn their events into reducer observations, and the close
 * of a peer's objects (with the tracking `whenClosed()` waits on). No rule lives here: every
 * event goes to the interpreter ({@link LinkHost}), which reduces it.
 *
 * @module
 */
import { TransferMode } from "../core/constants.ts";
import type { BeaconReceipt, Event as MeshEvent, Observation } from "../core/events.ts";
import { decodeBeacon } from "../core/liveness.ts";
import { decodeCounts } from "../core/reconnect.ts";
import { channelMode } from "../core/route.ts";
import { type MeshState, PEER_CONNECTION_STATES, type PeerConnectionState } from "../core/state.ts";
import { show } from "../core/_validate.ts";
import { BufferedBound } from "./_buffered.ts";
import { type CandidatePair, readSelectedPair } from "./candidate_pair.ts";
import type { Listener, RTCDataChannelLike, RTCPeerConnectionLike } from "./w3c.ts";

type ChannelsConfig = MeshState["channelsConfig"];

/** The objects behind one peer id. */
export interface Link {
  readonly connection: RTCPeerConnectionLike;
  readonly channels: RTCDataChannelLike[];
  /**
   * By channel index, for the reliable ones: the upper bound of their `bufferedAmount` that spares
   * the back-pressure check a native read per packet (`_buffered.ts`; it counts every `send`).
   */
  readonly bounds: Array<BufferedBound | undefined>;
  /** The library's liveness channel (never one of `channels`). */
  liveness?: RTCDataChannelLike;
  /** Whether `createDataChannel` failed for one of the three channels. */
  failed: boolean;
  /** When the latest data message arrived (clock ms), and whether it was reported yet. */
  heardAt: number;
  heardReported: boolean;
  /** When our latest data message to it was sent (clock ms), and whether it was reported yet. */
  sentAt: number;
  sentReported: boolean;
  readonly listeners: Array<
    readonly [RTCPeerConnectionLike | RTCDataChannelLike, string, Listener]
  >;
  sent: number;
  /** Broadcast packets this peer missed because its reliable channel was over the high-water mark. */
  busy: number;
  /** The SCTP max message size, once the connection reported it. */
  maxMessageSize?: number;
  /** The selected ICE candidate pair, once connected (see `candidate_pair.ts`). */
  candidatePair?: CandidatePair;
  /** Godot 4: the peer's turn in the receive round-robin (kept by a replacement). */
  turn?: number;
}

/** What the links report to the interpreter that owns them. */
export interface LinkHost {
  /** An observation from `link`: reduced now, or at the next `poll()`. */
  observe(link: Link, event: Observation): void;
  /** A beacon from `link`: reduced with the others of this turn, or at the next `poll()`. */
  beacon(link: Link, receipt: BeaconReceipt): void;
  /** An event for the reducer once the current one's effects are applied. */
  defer(event: MeshEvent): void;
  /** A data message from `peerId` on channel `index` of `mode`, queued by `turn` and `lane`. */
  deliver(
    peerId: number,
    data: Uint8Array,
    index: number,
    mode: TransferMode,
    turn: number,
    lane: number,
  ): void;
  /** `peerId`'s link is gone: its queued packets stay, its counters retire. */
  retire(peerId: number): void;
}

const CONNECTION_STATES: ReadonlySet<string> = new Set(PEER_CONNECTION_STATES);
const encoder = new TextEncoder();

export function describe(value: unknown): string {
  if (typeof value === "object" && value !== null) {
    const missing = ["connectionState", "createDataChannel", "close", "addEventListener"]
      .filter((k) => !(k in value));
    const base = show(value);
    return missing.length > 0 ? `${base} without ${missing.join(", ")}` : base;
  }
  return show(value);
}

export function stateOf(connection: unknown): string {
  try {
    return String((connection as RTCPeerConnectionLike).connectionState);
  } catch {
    return "unreadable";
  }
}

function toBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (typeof data === "string") return encoder.encode(data);
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  return undefined;
}

/** The links by peer id, and the channels and connections still closing. */
export class Links {
  readonly #byId = new Map<number, Link>();
  /** Channels closed by the mesh that have not reported `close` yet. */
  readonly #closing = new Set<Promise<void>>();
  readonly #host: LinkHost;
  /** Links detached by a replacement, still open, by peer id (see {@link replace}). */
  readonly #replaced = new Map<number, Link>();

  constructor(host: LinkHost) {
    this.#host = host;
  }

  /** The link of `peerId`, if it has one. */
  get(peerId: number): Link | undefined {
    return this.#byId.get(peerId);
  }

  /** The peer ids with a link. */
  keys(): IterableIterator<number> {
    return this.#byId.keys();
  }

  /** The links. */
  values(): IterableIterator<Link> {
    return this.#byId.values();
  }

  /** `[peerId, link]` pairs. */
  [Symbol.iterator](): IterableIterator<[number, Link]> {
    return this.#byId[Symbol.iterator]();
  }

  /**
   * The latest data message of every peer heard from, and sent to, since the last report (clock
   * ms, by peer id), for `TimePassed`; they count as reported from now on.
   */
  report(): { heard: Array<readonly [number, number]>; sent: Array<readonly [number, number]> } {
    const heard: Array<readonly [number, number]> = [];
    const sent: Array<readonly [number, number]> = [];
    for (const [id, link] of this.#byId) {
      if (!link.heardReported) {
        heard.push([id, link.heardAt]);
        link.heardReported = true;
      }
      if (!link.sentReported) {
        sent.push([id, link.sentAt]);
        link.sentReported = true;
      }
    }
    return { heard, sent };
  }

  /** Resolves once every tracked channel and connection has closed, or after `timeoutMs`. */
  async whenClosed(timeoutMs: number): Promise<void> {
    if (this.#closing.size === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    try {
      const settled = (async () => {
        while (this.#closing.size > 0) await Promise.all([...this.#closing]);
      })();
      await Promise.race([settled, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Makes the link of `connection` (the one being added as `peerId`) with its channels `specs`,
   * and listens to the connection and the channels. A channel the stack cannot make defers a
   * `ChannelCreateFailed`.
   */
  create(
    connection: RTCPeerConnectionLike,
    peerId: number,
    specs: readonly { label: string; init: object }[],
    turn: number | undefined,
    config: ChannelsConfig,
  ): void {
    const link: Link = {
      connection,
      channels: [],
      bounds: [],
      listeners: [],
      sent: 0,
      busy: 0,
      failed: false,
      heardAt: 0,
      heardReported: true,
      sentAt: 0,
      sentReported: true,
      turn,
    };
    this.#byId.set(peerId, link);
    try {
      for (const spec of specs) {
        const channel = connection.createDataChannel(spec.label, { ...spec.init });
        link.channels.push(channel);
        channel.binaryType = "arraybuffer";
      }
    } catch (e) {
      link.failed = true;
      this.#host.defer({
        type: "ChannelCreateFailed",
        peerId,
        message: e instanceof Error ? e.message : String(e),
      });
      return;
    }
    this.#listen(link, connection, "connectionstatechange", () => {
      const state = stateOf(connection);
      if (state === "connected") {
        readSelectedPair(connection).then((pair) => link.candidatePair = pair);
      }
      if (CONNECTION_STATES.has(state)) {
        this.#host.observe(link, {
          type: "ConnectionStateChanged",
          peerId,
          state: state as PeerConnectionState,
          now: performance.now(),
        });
      }
    });
    // Godot 4 (a turn is given): peers in the order they were added, lowest channel first.
    const rank = turn ?? peerId;
    link.channels.forEach((channel, index) => {
      const mode = channelMode(config, index);
      if (mode === TransferMode.RELIABLE) link.bounds[index] = new BufferedBound(channel);
      const lane = turn === undefined ? 0 : index;
      this.#listen(link, channel, "open", () => {
        this.#host.observe(link, {
          type: "ChannelStateChanged",
          peerId,
          channel: index,
          state: "open",
        });
      });
      this.#listen(link, channel, "closing", () => {
        this.#host.observe(link, {
          type: "ChannelStateChanged",
          peerId,
          channel: index,
          state: "closing",
        });
      });
      this.#listen(link, channel, "close", () => {
        this.#host.observe(link, {
          type: "ChannelStateChanged",
          peerId,
          channel: index,
          state: "closed",
        });
      });
      this.#listen(link, channel, "error", (ev) => {
        const error = (ev as Event & { error?: { message?: string } }).error;
        this.#host.observe(link, {
          type: "ChannelErrored",
          peerId,
          channel: index,
          message: error?.message ?? "data channel error",
        });
      });
      this.#listen(link, channel, "message", (ev) => {
        link.heardAt = performance.now();
        link.heardReported = false;
        const data = toBytes((ev as MessageEvent).data);
        if (data !== undefined) this.#host.deliver(peerId, data, index, mode, rank, lane);
      });
    });
  }

  /** The liveness channel: its open, close and beacons (batched) become liveness observations. */
  createLiveness(peerId: number, spec: { label: string; init: object }): void {
    const link = this.#byId.get(peerId);
    if (link === undefined || link.failed) return;
    const closed = () =>
      this.#host.observe(link, { type: "LivenessChannelClosed", peerId, now: performance.now() });
    let channel: RTCDataChannelLike;
    try {
      channel = link.connection.createDataChannel(spec.label, { ...spec.init });
      channel.binaryType = "arraybuffer";
    } catch {
      // This stack cannot make it (e.g. fewer streams): the peer is left to its transport.
      this.#host.defer({ type: "LivenessChannelClosed", peerId, now: performance.now() });
      return;
    }
    link.liveness = channel;
    this.#listen(link, channel, "open", () => {
      this.#host.observe(link, { type: "LivenessChannelOpened", peerId, now: performance.now() });
    });
    this.#listen(link, channel, "close", closed);
    this.#listen(link, channel, "message", (ev) => {
      const data = toBytes((ev as MessageEvent).data);
      const kind = data === undefined ? undefined : decodeBeacon(data);
      if (kind === undefined) return;
      const counts = decodeCounts(data!);
      this.#host.beacon(link, {
        peerId,
        kind,
        now: performance.now(),
        ...(counts === undefined ? {} : { counts }),
      });
    });
  }

  #listen(
    link: Link,
    target: RTCPeerConnectionLike | RTCDataChannelLike,
    type: string,
    listener: Listener,
  ): void {
    target.addEventListener(type, listener);
    link.listeners.push([target, type, listener]);
  }

  /**
   * Tracks `channel` until it reports `close` (for `whenClosed()`), and returns a function that
   * ends the tracking at once if the channel is already closed by then.
   */
  #trackClose(channel: RTCDataChannelLike): () => void {
    let done = () => {};
    const closed = new Promise<void>((resolve) => {
      done = () => {
        channel.removeEventListener("close", done);
        this.#closing.delete(closed);
        resolve();
      };
      channel.addEventListener("close", done);
    });
    this.#closing.add(closed);
    return () => {
      if ((channel.readyState as string) === "closed") done();
    };
  }

  /**
   * Tracks an adapter's delayed native close (for `whenClosed()`). Needed when the remote closed
   * first: the channels are closed already, and a process that ended before the native close ran
   * could crash in node-datachannel (SIGSEGV at exit, seen about once in 15 test runs).
   */
  #trackNativeClose(connection: RTCPeerConnectionLike): void {
    let native: Promise<void>;
    try {
      if (typeof connection.whenNativeClosed !== "function") return;
      native = connection.whenNativeClosed();
    } catch {
      return;
    }
    const tracked: Promise<void> = Promise.resolve(native).catch(() => {}).then(() => {
      this.#closing.delete(tracked);
    });
    this.#closing.add(tracked);
  }

  /**
   * Replaces the link of `peerId` (`ReplaceConnection`): the old connection is detached (no event
   * of it is heard from now on) but stays open until {@link releaseReplaced}: closing it at once
   * would close the peer's side of it too, and a peer whose side still works (it was not
   * interrupted) would take that close for a departure before our offer of the new connection
   * reaches it. The new link gets the same channels, the liveness channel, the same turn and the
   * old link's counters; the peer is not retired.
   */
  replace(
    connection: RTCPeerConnectionLike,
    peerId: number,
    specs: readonly { label: string; init: object }[],
    liveness: { label: string; init: object },
    config: ChannelsConfig,
  ): void {
    const old = this.#byId.get(peerId);
    if (old === undefined) return;
    this.#byId.delete(peerId);
    this.#unlisten(old);
    this.releaseReplaced(peerId); // an earlier replacement that never resumed
    this.#replaced.set(peerId, old);
    this.create(connection, peerId, specs, old.turn, config);
    const link = this.#byId.get(peerId)!;
    link.sent = old.sent;
    link.busy = old.busy;
    this.createLiveness(peerId, liveness);
  }

  /**
   * Closes a peer's connection (`ClosePeer`) or, when the connection is not ours to close
   * (`DiscardChannels`: `addPeer` failed), the channels made so far.
   *
   * A connection is closed as a whole and its channels close with it; the mesh never closes a
   * channel of a live connection itself. In node-datachannel a channel closed from here while the
   * remote closes the same stream (both ends leaving at once) can lose its `close` notification
   * for good: libdatachannel's remote-close thread wins the race, the binding drops its reference
   * meanwhile, and the callback that would release the native handle is never called, so the
   * process cannot exit. Browsers close the channels of a closed connection without an event;
   * node-datachannel reports each `close` shortly after. `whenClosed()` waits for either.
   */
  close(peerId: number, closeConnection: boolean): void {
    this.releaseReplaced(peerId);
    const link = this.#byId.get(peerId);
    if (link === undefined) return;
    this.#byId.delete(peerId);
    this.#host.retire(peerId);
    this.#unlisten(link);
    this.#closeLink(link, closeConnection);
  }

  /** Closes the connection a replacement detached from `peerId` (once resumed or removed). */
  releaseReplaced(peerId: number): void {
    const old = this.#replaced.get(peerId);
    if (old === undefined) return;
    this.#replaced.delete(peerId);
    this.#closeLink(old, true);
  }

  #unlisten(link: Link): void {
    for (const [target, type, listener] of link.listeners) {
      target.removeEventListener(type, listener);
    }
  }

  #closeLink(link: Link, closeConnection: boolean): void {
    const settle: Array<() => void> = [];
    const channels = link.liveness === undefined ? link.channels : [
      ...link.channels,
      link.liveness,
    ];
    for (const channel of channels) {
      if (channel.readyState !== "closed") settle.push(this.#trackClose(channel));
      if (closeConnection) continue;
      try {
        channel.close();
      } catch {
        // Already closed or broken: nothing left to free.
      }
    }
    if (closeConnection) {
      try {
        link.connection.close();
      } catch {
        // Already closed: nothing left to free.
      }
      this.#trackNativeClose(link.connection);
    }
    for (const f of settle) f();
  }
}
