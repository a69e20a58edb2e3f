/**
 * The reconnect journal of one peer (core/reconnect.ts, rules R1-R5): the counts of reliable
 * messages sent to and received from the peer, per reliable channel, and the bytes of the messages
 * sent that the peer has not acknowledged yet. Bytes and counters only; the rules (when to start,
 * what to resend, whether a resend can be exact) are the reducer's.
 *
 * @module
 */
import { encodeCounts } from "../core/reconnect.ts";
import type { RTCDataChannelLike } from "./w3c.ts";

/** One reliable channel's side of the journal. */
interface Lane {
  /** The channel index. */
  readonly index: number;
  /** Messages received from the peer on it since the peer was added. */
  received: number;
  /** Messages sent to the peer on it since the peer was added (held ones included). */
  sent: number;
  /** The count of `kept[head]`: messages before it are acknowledged or dropped. */
  base: number;
  /** The messages from `base` on (from `head`), copies of what was sent. */
  kept: Uint8Array[];
  head: number;
  /** While a resend is under way: the next kept message to send again (absolute count). */
  resendAt: number | null;
}

/** The journal of one peer. */
export class Journal {
  readonly #lanes: Lane[];
  readonly #byIndex = new Map<number, Lane>();
  readonly #maxBytes: number;
  #bytes = 0;
  /** Whether sent messages are kept (from the peer's first acknowledgement on, R2). */
  #active = false;
  /** Whether reliable sends are held here instead of sent (while the connection is replaced, R4). */
  holding = false;
  /** Whether a resend was started and is not finished. */
  #resending = false;

  /** Called when a resend under way loses a message it still owes (R7). */
  readonly #onLost: () => void;

  /**
   * A journal for the reliable channels `indexes`, keeping at most `maxBytes`; `onLost` is called
   * when the bound drops a message a resend under way still owes (R7).
   */
  constructor(indexes: readonly number[], maxBytes: number, onLost: () => void = () => {}) {
    this.#maxBytes = maxBytes;
    this.#onLost = onLost;
    this.#lanes = indexes.map((index) => ({
      index,
      received: 0,
      sent: 0,
      base: 0,
      kept: [],
      head: 0,
      resendAt: null,
    }));
    for (const lane of this.#lanes) this.#byIndex.set(lane.index, lane);
  }

  /** Our received counts, one per reliable channel (what our beacons carry, R1). */
  received(): number[] {
    return this.#lanes.map((l) => l.received);
  }

  /** `[base, sent]` per reliable channel while messages are kept, else `undefined`. */
  span(): Array<readonly [number, number]> | undefined {
    return this.#active ? this.#lanes.map((l) => [l.base, l.sent] as const) : undefined;
  }

  /** A message arrived from the peer on channel `index` (counted if it is a reliable one). */
  noteReceived(index: number): void {
    const lane = this.#byIndex.get(index);
    if (lane !== undefined) lane.received++;
  }

  /** Whether channel `index` is journaled. */
  has(index: number): boolean {
    return this.#byIndex.has(index);
  }

  /** A message sent (or held) on reliable channel `index`: counted, and kept while active. */
  noteSent(index: number, bytes: Uint8Array): void {
    const lane = this.#byIndex.get(index);
    if (lane === undefined) return;
    lane.sent++;
    if (!this.#active && !this.holding) {
      lane.base = lane.sent;
      return;
    }
    lane.kept.push(bytes.slice());
    this.#bytes += bytes.byteLength;
    while (this.#bytes > this.#maxBytes && this.#dropOldest()) {
      // Over the bound: the oldest kept message goes (R2); a replacement before the peer
      // acknowledged it cannot be exact, and the reducer removes the peer then (R5). A resend
      // under way that still owed it reports the loss (R7).
    }
  }

  /** The peer has `counts` messages per reliable channel: forget them, keep what follows (R2). */
  ack(counts: readonly number[]): void {
    this.#active = true;
    this.#lanes.forEach((lane, i) => {
      const upTo = Math.min(counts[i] ?? 0, lane.sent);
      while (lane.base < upTo && lane.head < lane.kept.length) this.#shift(lane);
      if (lane.base < upTo) lane.base = upTo; // counted before we kept anything
    });
  }

  /** Starts a resend from the peer's `counts` (R5); {@link flush} sends. */
  resendFrom(counts: readonly number[]): void {
    this.ack(counts);
    for (const lane of this.#lanes) lane.resendAt = lane.base;
    this.#resending = true;
  }

  /**
   * Sends what a resend owes, in order, on the channels `send` accepts (`send` returns false for a
   * channel that is not open yet: its messages wait for the next flush). Ends the holding once
   * every lane is done; returns whether it did.
   */
  flush(send: (index: number, bytes: Uint8Array) => boolean): boolean {
    if (!this.#resending) return false;
    let done = true;
    for (const lane of this.#lanes) {
      // A lane stays in the resend until every lane is done: reliable sends are held until then,
      // and those held on a lane already caught up go out on the next flush, in order.
      let at = Math.max(lane.resendAt!, lane.base); // acknowledged meanwhile: the peer has them
      while (at < lane.sent) {
        const bytes = lane.kept[lane.head + (at - lane.base)];
        if (bytes === undefined || !send(lane.index, bytes)) break;
        at++;
      }
      lane.resendAt = at;
      if (at < lane.sent) done = false;
    }
    if (done) {
      for (const lane of this.#lanes) lane.resendAt = null;
      this.holding = this.#resending = false;
    }
    return done;
  }

  /** Bytes kept. */
  get bytes(): number {
    return this.#bytes;
  }

  #shift(lane: Lane): void {
    this.#bytes -= lane.kept[lane.head].byteLength;
    lane.head++;
    lane.base++;
    if (lane.head > 1024 && lane.head * 2 > lane.kept.length) {
      lane.kept = lane.kept.slice(lane.head);
      lane.head = 0;
    }
  }

  #dropOldest(): boolean {
    let oldest: Lane | undefined;
    for (const lane of this.#lanes) {
      if (lane.head < lane.kept.length && (oldest === undefined || lane.base < oldest.base)) {
        oldest = lane;
      }
    }
    if (oldest === undefined) return false;
    // A message a resend under way has not sent again yet is lost (R7).
    if (oldest.resendAt !== null && oldest.base >= oldest.resendAt) this.#onLost();
    this.#shift(oldest);
    return true;
  }
}

/**
 * The journals of every peer, by id (the interpreter's reconnect side): made with a peer when
 * `reconnect` is on, dropped with it.
 */
export class Journals extends Map<number, Journal> {
  readonly #maxBytes: number;

  /** Journals bounded at `maxBytes` each. */
  constructor(maxBytes: number) {
    super();
    this.#maxBytes = maxBytes;
  }

  /**
   * Peers whose resend lost a message it owed (R7), for the interpreter to report
   * (`JournalOverflowed`); it empties the list.
   */
  readonly lost: number[] = [];

  /** A journal for a peer just added, counting `channelsConfig`'s reliable channels. */
  open(peerId: number, reliable: readonly number[]): void {
    this.set(
      peerId,
      new Journal(reliable, this.#maxBytes, () => {
        if (!this.lost.includes(peerId)) this.lost.push(peerId);
      }),
    );
  }

  /** Holds the peer's reliable sends (`ReplaceConnection`, `HoldPeer`). */
  hold(peerId: number): void {
    const journal = this.get(peerId);
    if (journal !== undefined) journal.holding = true;
  }

  /** The bytes of a beacon to the peer: with our received counts when it has a journal (R1). */
  beacon(peerId: number, bytes: Uint8Array): Uint8Array {
    const journal = this.get(peerId);
    return journal === undefined ? bytes : encodeCounts(bytes, journal.received());
  }

  /**
   * Sends what a started resend owes to `peerId` on its `channels` that are open (R5); the rest
   * waits for their `open`.
   */
  flush(peerId: number, channels: readonly RTCDataChannelLike[] | undefined): void {
    const journal = this.get(peerId);
    if (journal === undefined || channels === undefined) return;
    journal.flush((index, bytes) => {
      const channel = channels[index];
      if (channel?.readyState !== "open") return false;
      try {
        channel.send(bytes);
      } catch {
        return false; // closing under us: its close event says so
      }
      return true;
    });
  }
}
