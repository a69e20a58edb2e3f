/**
 * The inbound packet queue: one FIFO per peer, served round-robin in ascending peer id order, one
 * packet per peer per turn (Godot's `get_packet` order). Bounded per peer; what does not fit is
 * counted as dropped.
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

class Fifo {
  items: Packet[] = [];
  head = 0;
  received = 0;
  dropped = 0;
  get size(): number {
    return this.items.length - this.head;
  }
  push(p: Packet): void {
    this.items.push(p);
  }
  shift(): Packet {
    const p = this.items[this.head];
    this.items[this.head++] = undefined as unknown as Packet;
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

/**
 * Per-peer FIFOs with round-robin service.
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
export class Inbox {
  #queues = new Map<number, Fifo>();
  /** Ids of peers with queued packets, ascending. */
  #active: number[] = [];
  /** The peer served last; the next turn goes to the first active id after it. */
  #last = 0;
  #size = 0;
  #maxPerPeer: number;

  /** @param maxPerPeer the most packets one peer may have queued; more are dropped and counted. */
  constructor(maxPerPeer: number) {
    this.#maxPerPeer = maxPerPeer;
  }

  /** Number of queued packets. */
  get size(): number {
    return this.#size;
  }

  /** Queues a packet; returns false (and counts a drop) when the peer's queue is full. */
  push(packet: Packet): boolean {
    let q = this.#queues.get(packet.peerId);
    if (q === undefined) {
      q = new Fifo();
      this.#queues.set(packet.peerId, q);
    }
    q.received++;
    if (q.size >= this.#maxPerPeer) {
      q.dropped++;
      return false;
    }
    if (q.size === 0) this.#activate(packet.peerId);
    q.push(packet);
    this.#size++;
    return true;
  }

  /** The sender of the packet `shift()` returns next, or 0 when nothing is queued. */
  peekPeer(): number {
    const active = this.#active;
    if (active.length === 0) return 0;
    // First active id greater than the last served one, else wrap around to the smallest.
    let lo = 0;
    let hi = active.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (active[mid] <= this.#last) lo = mid + 1;
      else hi = mid;
    }
    return lo < active.length ? active[lo] : active[0];
  }

  /** Takes the next packet in round-robin order. */
  shift(): Packet | undefined {
    const id = this.peekPeer();
    if (id === 0) return undefined;
    const q = this.#queues.get(id)!;
    const packet = q.shift();
    this.#size--;
    this.#last = id;
    if (q.size === 0) this.#active.splice(this.#active.indexOf(id), 1);
    return packet;
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
    this.#active = [];
    this.#last = 0;
    this.#size = 0;
  }

  #activate(id: number): void {
    const active = this.#active;
    let i = active.length;
    while (i > 0 && active[i - 1] > id) i--;
    active.splice(i, 0, id);
  }
}
