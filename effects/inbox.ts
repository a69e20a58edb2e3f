/**
 * The inbound packet queue: one queue per peer, served round-robin by each peer's turn, one packet
 * per peer per turn (Godot's `get_packet` order). A peer's turn is its id (Godot 3: ascending ids)
 * or the order it was added in (Godot 4). Within a peer, packets are kept in lanes: one lane gives
 * arrival order (Godot 3); one lane per channel serves the lowest channel with a packet first
 * (Godot 4). Bounded per peer; what does not fit is counted as dropped.
 *
 * @module
 */
import type { TransferMode } from "../core/constants.ts";

/** A received packet. */
export interface Packet {
  /** The sender's peer id. */
  readonly peerId: number;
  /** The payload, exactly as sent (text messages as their UTF-8 bytes). */
  readonly data: Uint8Array;
  /** The transfer mode of the channel it arrived on. */
  readonly channel: TransferMode;
}

/** Counters of one peer's inbound traffic. */
export interface InboxCounters {
  /** Packets waiting to be read. */
  readonly queued: number;
  /** Packets received since the mesh was created (or last closed). */
  readonly received: number;
  /** Packets dropped because the peer's queue was full. */
  readonly dropped: number;
}

class Fifo<P> {
  items: P[] = [];
  head = 0;
  received = 0;
  dropped = 0;
  get size(): number {
    return this.items.length - this.head;
  }
  push(p: P): void {
    this.items.push(p);
  }
  peek(): P {
    return this.items[this.head];
  }
  shift(): P {
    const p = this.items[this.head];
    this.items[this.head++] = undefined as unknown as P;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return p;
  }
}

/** One peer's packets: lanes of FIFOs and its counters. */
class PeerQueue<P> {
  lanes: Fifo<P>[] = [];
  size = 0;
  received = 0;
  dropped = 0;
  /** The peer was removed: forget this queue once its last packet is read. */
  retired = false;
  constructor(public turn: number) {}
  /** The lowest lane with a packet (call only when `size > 0`). */
  front(): Fifo<P> {
    const lanes = this.lanes;
    for (let i = 0; i < lanes.length; i++) {
      const lane = lanes[i];
      if (lane !== undefined && lane.size > 0) return lane;
    }
    throw new Error("inbox: empty peer queue is active");
  }
}

/**
 * Per-peer queues with round-robin service.
 *
 * @example
 * ```ts
 * import { Inbox } from "./inbox.ts";
 * const inbox = new Inbox(100);
 * inbox.push({ peerId: 7, data: new Uint8Array([1]), channel: 2 });
 * inbox.push({ peerId: 3, data: new Uint8Array([2]), channel: 2 });
 * inbox.push({ peerId: 3, data: new Uint8Array([3]), channel: 2 });
 * console.log(inbox.shift()?.peerId, inbox.shift()?.peerId, inbox.shift()?.peerId); // 3 7 3
 * ```
 */
export class Inbox<P extends { readonly peerId: number } = Packet> {
  #queues = new Map<number, PeerQueue<P>>();
  /** Peers with queued packets, by ascending turn. */
  #active: PeerQueue<P>[] = [];
  /** The turn served last; the next goes to the first active turn after it. */
  #last = 0;
  #size = 0;
  #maxPerPeer: number;
  /** Received and dropped counts of the peers forgotten by `retire`. */
  #retired = { received: 0, dropped: 0 };

  /** @param maxPerPeer the most packets one peer may have queued; more are dropped and counted. */
  constructor(maxPerPeer: number) {
    this.#maxPerPeer = maxPerPeer;
  }

  /** Number of queued packets. */
  get size(): number {
    return this.#size;
  }

  /**
   * Queues a packet; returns false (and counts a drop) when the peer's queue is full. `turn` is the
   * peer's place in the round-robin (default: its id), `lane` the queue within the peer (default 0:
   * arrival order); the lowest lane with a packet is served first.
   */
  push(packet: P, turn: number = packet.peerId, lane = 0): boolean {
    let q = this.#queues.get(packet.peerId);
    if (q === undefined) {
      q = new PeerQueue<P>(turn);
      this.#queues.set(packet.peerId, q);
    }
    q.retired = false; // the id was added again
    q.received++;
    if (q.size >= this.#maxPerPeer) {
      q.dropped++;
      return false;
    }
    if (q.size === 0) {
      q.turn = turn;
      this.#activate(q);
    } else if (q.turn !== turn) {
      // The id was removed and added again while its old packets wait: it moves to its new turn.
      this.#active.splice(this.#active.indexOf(q), 1);
      q.turn = turn;
      this.#activate(q);
    }
    let fifo = q.lanes[lane];
    if (fifo === undefined) {
      for (let i = q.lanes.length; i < lane; i++) q.lanes[i] = undefined as unknown as Fifo<P>;
      fifo = q.lanes[lane] = new Fifo<P>();
    }
    fifo.push(packet);
    q.size++;
    this.#size++;
    return true;
  }

  /** The peer whose packet `shift()` returns next. */
  #next(): PeerQueue<P> | undefined {
    const active = this.#active;
    if (active.length === 0) return undefined;
    // First active turn greater than the last served one, else wrap around to the smallest.
    let lo = 0;
    let hi = active.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (active[mid].turn <= this.#last) lo = mid + 1;
      else hi = mid;
    }
    return lo < active.length ? active[lo] : active[0];
  }

  /** The packet `shift()` returns next, left in place; `undefined` when nothing is queued. */
  peek(): P | undefined {
    return this.#next()?.front().peek();
  }

  /** The sender of the packet `shift()` returns next, or 0 when nothing is queued. */
  peekPeer(): number {
    return this.peek()?.peerId ?? 0;
  }

  /** Takes the next packet in round-robin order. */
  shift(): P | undefined {
    const q = this.#next();
    if (q === undefined) return undefined;
    const packet = q.front().shift();
    q.size--;
    this.#size--;
    this.#last = q.turn;
    if (q.size === 0) {
      this.#active.splice(this.#active.indexOf(q), 1);
      if (q.retired) this.#forget(packet!.peerId, q);
    }
    return packet;
  }

  /**
   * The peer was removed: its queue is forgotten now if empty, else once its last packet is read
   * (a server that sees thousands of clients come and go keeps no state for the departed). Its
   * counts stay in {@link retiredCounters}.
   */
  retire(peerId: number): void {
    const q = this.#queues.get(peerId);
    if (q === undefined) return;
    if (q.size === 0) this.#forget(peerId, q);
    else q.retired = true;
  }

  /** Received and dropped counts of every peer forgotten after {@link retire}. */
  retiredCounters(): { readonly received: number; readonly dropped: number } {
    return { ...this.#retired };
  }

  #forget(peerId: number, q: PeerQueue<P>): void {
    this.#queues.delete(peerId);
    this.#retired.received += q.received;
    this.#retired.dropped += q.dropped;
  }

  /** Counters for one peer (zeros for a peer never heard from). */
  counters(peerId: number): InboxCounters {
    const q = this.#queues.get(peerId);
    return q === undefined
      ? { queued: 0, received: 0, dropped: 0 }
      : { queued: q.size, received: q.received, dropped: q.dropped };
  }

  /** Ids of every peer the inbox has counters for. */
  peerIds(): number[] {
    return [...this.#queues.keys()];
  }

  /** Drops every queued packet and resets all counters. */
  clear(): void {
    this.#queues.clear();
    this.#retired = { received: 0, dropped: 0 };
    this.#active = [];
    this.#last = 0;
    this.#size = 0;
  }

  #activate(q: PeerQueue<P>): void {
    const active = this.#active;
    let i = active.length;
    while (i > 0 && active[i - 1].turn > q.turn) i--;
    active.splice(i, 0, q);
  }
}
