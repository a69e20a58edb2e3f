/**
 * The demo's packet format and bookkeeping (pure): data packets numbered per channel, ping/pong
 * for round-trip times, and a final `fin` that tells each receiver how many data packets the
 * sender sent on each channel.
 *
 * @module
 */

/** Packet kinds. */
export const Kind = { DATA: 0, PING: 1, PONG: 2, FIN: 3 } as const;

/** A decoded demo packet. */
export type DemoPacket =
  | { readonly kind: "data"; readonly channel: number; readonly seq: number }
  | { readonly kind: "ping" | "pong"; readonly time: number }
  | { readonly kind: "fin"; readonly sent: readonly [number, number, number] };

/**
 * Encodes a demo packet.
 *
 * @example
 * ```ts
 * import { decode, encode } from "./_wire.ts";
 * console.log(decode(encode({ kind: "data", channel: 2, seq: 7 })));
 * // { kind: "data", channel: 2, seq: 7 }
 * ```
 */
export function encode(packet: DemoPacket): Uint8Array {
  switch (packet.kind) {
    case "data": {
      const out = new Uint8Array(6);
      out[0] = Kind.DATA;
      out[1] = packet.channel;
      new DataView(out.buffer).setUint32(2, packet.seq);
      return out;
    }
    case "ping":
    case "pong": {
      const out = new Uint8Array(9);
      out[0] = packet.kind === "ping" ? Kind.PING : Kind.PONG;
      new DataView(out.buffer).setFloat64(1, packet.time);
      return out;
    }
    case "fin": {
      const out = new Uint8Array(13);
      out[0] = Kind.FIN;
      const view = new DataView(out.buffer);
      packet.sent.forEach((n, i) => view.setUint32(1 + 4 * i, n));
      return out;
    }
  }
}

/**
 * Decodes a demo packet, or undefined for anything else.
 *
 * @example
 * ```ts
 * import { decode } from "./_wire.ts";
 * console.log(decode(new Uint8Array([9]))); // undefined
 * ```
 */
export function decode(bytes: Uint8Array): DemoPacket | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (bytes[0]) {
    case Kind.DATA:
      if (bytes.length !== 6 || bytes[1] > 2) return undefined;
      return { kind: "data", channel: bytes[1], seq: view.getUint32(2) };
    case Kind.PING:
    case Kind.PONG:
      if (bytes.length !== 9) return undefined;
      return { kind: bytes[0] === Kind.PING ? "ping" : "pong", time: view.getFloat64(1) };
    case Kind.FIN:
      if (bytes.length !== 13) return undefined;
      return { kind: "fin", sent: [view.getUint32(1), view.getUint32(5), view.getUint32(9)] };
    default:
      return undefined;
  }
}

/** What one receiver saw of one sender on one channel. */
export interface ChannelTally {
  /** Distinct data packets received. */
  received: number;
  /** Packets received twice. */
  duplicates: number;
  /** Packets that arrived after a higher sequence number. */
  reordered: number;
  /** Highest sequence number seen, -1 before any. */
  last: number;
  /** Sequence numbers seen (for duplicate detection). */
  seen: Set<number>;
}

/**
 * A fresh tally.
 *
 * @example
 * ```ts
 * import { newTally } from "./_wire.ts";
 * console.log(newTally().last); // -1
 * ```
 */
export function newTally(): ChannelTally {
  return { received: 0, duplicates: 0, reordered: 0, last: -1, seen: new Set() };
}

/**
 * Records one received sequence number.
 *
 * @example
 * ```ts
 * import { newTally, record } from "./_wire.ts";
 * const t = newTally();
 * for (const seq of [0, 2, 1, 2]) record(t, seq);
 * console.log(t.received, t.reordered, t.duplicates); // 3 1 1
 * ```
 */
export function record(tally: ChannelTally, seq: number): void {
  if (tally.seen.has(seq)) {
    tally.duplicates++;
    return;
  }
  tally.seen.add(seq);
  tally.received++;
  if (seq < tally.last) tally.reordered++;
  else tally.last = seq;
}

/** Channel names by transfer mode (0 unreliable, 1 ordered, 2 reliable). */
export const CHANNEL_NAMES = ["unreliable", "ordered", "reliable"] as const;

/**
 * Judges what a receiver saw from one sender, given the `fin` counts. Rules:
 * reliable (2): every packet, exactly once, in order; ordered (1): no duplicates and never out of
 * order, losses allowed (reported); unreliable (0): no duplicates, losses and reordering allowed
 * (reported). Returns the problems found (empty = pass).
 *
 * @example
 * ```ts
 * import { judge, newTally, record } from "./_wire.ts";
 * const tallies = [newTally(), newTally(), newTally()];
 * record(tallies[2], 0);
 * console.log(judge(7, tallies, [0, 0, 2])); // [ "reliable from 7: 1 of 2 arrived" ]
 * ```
 */
export function judge(
  from: number,
  tallies: readonly ChannelTally[],
  sent: readonly [number, number, number],
): string[] {
  const problems: string[] = [];
  const [, o, r] = tallies;
  if (r.received !== sent[2]) {
    problems.push(`reliable from ${from}: ${r.received} of ${sent[2]} arrived`);
  }
  if (r.reordered > 0) problems.push(`reliable from ${from}: ${r.reordered} out of order`);
  if (o.reordered > 0) problems.push(`ordered from ${from}: ${o.reordered} out of order`);
  tallies.forEach((t, ch) => {
    if (t.duplicates > 0) {
      problems.push(`${CHANNEL_NAMES[ch]} from ${from}: ${t.duplicates} duplicate(s)`);
    }
    if (t.received > sent[ch]) {
      problems.push(
        `${CHANNEL_NAMES[ch]} from ${from}: ${t.received} received but ${sent[ch]} sent`,
      );
    }
  });
  return problems;
}
