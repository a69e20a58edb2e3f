/**
 * The JS-side bound of `bufferedAmount` (effects/_buffered.ts) against the rule it stands in for:
 * over random sequences of packets, direct sends of every payload type and drains by the "stack",
 * the bound-based decision equals `admit` with the number read at that moment, every time.
 */
import { assert, assertEquals } from "@std/assert";
import { admitBounded, BufferedBound, sizeOf } from "../../effects/_buffered.ts";
import { admit } from "../../core/route.ts";
import type { RTCDataChannelLike, RTCPeerConnectionLike } from "../../effects/w3c.ts";
import { Links } from "../../effects/_links.ts";
import { Journals } from "../../effects/_journal.ts";
import { GodotError, TransferMode } from "../../core/constants.ts";
import { FakeConnection } from "./_fake.ts";

/** A deterministic PRNG (mulberry32): a failing seed reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const encoder = new TextEncoder();

/** A model stack channel: `send` queues the payload's bytes, `drain` hands some to the network. */
class ModelChannel {
  buffered = 0;
  reads = 0;
  /** Blobs sent and not yet read by the stack (node-datachannel's polyfill reads them async). */
  blobs: number[] = [];
  readonly label = "reliable";
  get bufferedAmount(): number {
    this.reads++;
    return this.buffered;
  }
  send(data: unknown): void {
    // The stack's own count, computed independently of `sizeOf` (strings: TextEncoder).
    if (typeof data === "string") this.buffered += encoder.encode(data).byteLength;
    else if (data instanceof Blob) this.blobs.push(data.size); // lands later (ndc's polyfill)
    else if (data instanceof ArrayBuffer) this.buffered += data.byteLength;
    else if (ArrayBuffer.isView(data)) this.buffered += data.byteLength;
    else throw new TypeError("unsupported payload"); // as the stacks do
  }
  /** The oldest Blob's bytes arrive in the stack's buffer. */
  land(): void {
    if (this.blobs.length > 0) this.buffered += this.blobs.shift()!;
  }
  drain(n: number): void {
    this.buffered = Math.max(0, this.buffered - n);
  }
}

const UNITS = ["a", "é", "€", "😀", "\ud800", "\udc00", "z\ud83d"];

function randomPayload(rand: () => number): unknown {
  const n = Math.floor(rand() * 3000);
  switch (Math.floor(rand() * 5)) {
    case 0:
      return new Uint8Array(n);
    case 1:
      return new ArrayBuffer(n);
    case 2:
      return new DataView(new ArrayBuffer(n + 8), 4, n);
    case 3:
      return new Blob([new Uint8Array(n)]);
    default:
      return Array.from({ length: n % 400 }, () => UNITS[Math.floor(rand() * UNITS.length)])
        .join("");
  }
}

Deno.test("sizeOf: the bytes bufferedAmount counts (strings as UTF-8, lone surrogates as U+FFFD)", () => {
  for (const s of ["", "abc", "é", "€uro", "😀", "\ud800", "\udc00x", "a\ud83d", "😀\ud83d😀"]) {
    assertEquals(sizeOf(s), encoder.encode(s).byteLength, JSON.stringify(s));
  }
  assertEquals(sizeOf(new Uint8Array(7)), 7);
  assertEquals(sizeOf(new Uint16Array(7)), 14);
  assertEquals(sizeOf(new ArrayBuffer(5)), 5);
  assertEquals(sizeOf(new Blob(["héllo"])), 6);
  assertEquals(sizeOf({}), Infinity);
});

Deno.test("the bound's decision equals admit with the stack's number, over random sends and drains", () => {
  const mms = 4096;
  let decisions = 0;
  let reads = 0;
  let needed = 0;
  for (let seed = 1; seed <= 200; seed++) {
    const rand = prng(seed);
    const hwm = [0, 1000, 16_384, 65_536][seed % 4];
    const ch = new ModelChannel();
    const bound = new BufferedBound(ch as unknown as RTCDataChannelLike);
    for (let step = 0; step < 400; step++) {
      const op = rand();
      if (op < 0.5) {
        // putPacket: decide, and send when admitted (as effects/_send.ts does).
        const size = Math.floor(rand() * (mms + 200));
        const before = ch.reads;
        if (size <= mms && bound.upper > hwm) needed++; // only then may the stack be asked
        const got = admitBounded(bound, size, mms, 0, hwm, 2);
        const readNow = ch.reads - before;
        ch.reads = before; // the reference read below is not the code's
        const want = admit(size, mms, 0, ch.bufferedAmount, hwm, 2, true);
        ch.reads = before + readNow;
        assertEquals(got, want, `seed ${seed} step ${step}`);
        decisions++;
        if (got === undefined) ch.send(new Uint8Array(size));
      } else if (op < 0.7) {
        // The application (or a journal resend) sends on the channel directly.
        ch.send(randomPayload(rand));
      } else if (op < 0.72) {
        try {
          (ch.send as (d: unknown) => void)({ unknown: true }); // a payload of no known size
        } catch {
          // The stack refused it; the bound no longer knows (Infinity) and reads next time.
        }
      } else if (op < 0.75) {
        ch.land();
      } else {
        ch.drain(Math.floor(rand() * 20_000));
      }
      const owed = ch.blobs.reduce((a, b) => a + b, 0);
      assert(
        bound.upper >= ch.buffered + owed,
        `seed ${seed} step ${step}: bound below the stack's`,
      );
    }
    reads += ch.reads;
  }
  // A read only where the bound is over the mark (these sequences keep the buffer busy often).
  assertEquals(reads, needed, `${reads} reads for ${decisions} decisions`);
  assert(reads < decisions);
});

Deno.test("a send that throws is still counted (the bound only gets higher), and a read resets it", () => {
  const ch = {
    bufferedAmount: 0,
    closed: true,
    send(_: Uint8Array): void {
      if (this.closed) throw new Error("closed");
    },
  };
  const bound = new BufferedBound(ch as unknown as RTCDataChannelLike);
  let threw = false;
  try {
    ch.send(new Uint8Array(100));
  } catch {
    threw = true;
  }
  assert(threw);
  assertEquals(bound.upper, 100);
  assertEquals(admitBounded(bound, 10, 1000, 0, 50, 2)?.error, undefined); // read: 0 buffered
  assertEquals(bound.upper, 0);
  assertEquals(bound.reads, 1);
  assertEquals(admitBounded(bound, 10, 1000, 0, 50, 2)?.error, undefined); // the bound: 0 <= 50
  assertEquals(bound.reads, 1);
  ch.closed = false;
  ch.send(new Uint8Array(60));
  ch.bufferedAmount = 60;
  assertEquals(bound.upper, 60);
  assertEquals(admitBounded(bound, 10, 1000, 0, 50, 2)?.error, GodotError.ERR_BUSY); // read: 60
  assertEquals(bound.reads, 2);
});

Deno.test("the reconnect journal's resends go through the counted send (Links + Journals, fake stack)", () => {
  const host = { observe() {}, beacon() {}, defer() {}, deliver() {}, retire() {} };
  const links = new Links(host);
  const pc = new FakeConnection();
  const specs = ["reliable", "ordered", "unreliable", "extra"].map((label, id) => ({
    label,
    init: { negotiated: true, id: id + 1 },
  }));
  // Godot 4's extra channel 3, reliable: it gets a bound too.
  links.create(pc as unknown as RTCPeerConnectionLike, 2, specs, 0, [TransferMode.RELIABLE]);
  const link = links.get(2)!;
  assert(link.bounds[0] !== undefined && link.bounds[3] !== undefined, "reliable channels bound");
  assertEquals([link.bounds[1], link.bounds[2]], [undefined, undefined]); // unreliable: none needed
  for (const ch of pc.channels) ch.fire("open", "open");
  const journals = new Journals(1 << 20);
  journals.open(2, [0, 3]);
  const journal = journals.get(2)!;
  journal.ack([0, 0]); // the peer acknowledged nothing yet: messages are kept from now on
  journal.noteSent(0, new Uint8Array(1000));
  journal.noteSent(0, new Uint8Array(1000));
  journal.noteSent(3, new Uint8Array(300));
  journal.resendFrom([0, 0]);
  journals.flush(2, link.channels);
  assertEquals([pc.channels[0].sent.length, pc.channels[3].sent.length], [2, 1]); // resent
  assertEquals([link.bounds[0]!.upper, link.bounds[3]!.upper], [2000, 300]); // and counted
});
