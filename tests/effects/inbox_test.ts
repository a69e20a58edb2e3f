import { assertEquals } from "@std/assert";
import { Inbox, type Packet } from "../../effects/inbox.ts";

const p = (peerId: number, n: number): Packet => ({
  peerId,
  data: new Uint8Array([n]),
  channel: 2,
});

function drain(inbox: Inbox): string[] {
  const out: string[] = [];
  for (let peer = inbox.peekPeer(); peer !== 0; peer = inbox.peekPeer()) {
    const got = inbox.shift()!;
    assertEquals(got.peerId, peer, "peekPeer names the sender of the next packet");
    out.push(`${got.peerId}:${got.data[0]}`);
  }
  return out;
}

Deno.test("inbox: round-robin in ascending ids, one packet per peer per turn, FIFO per peer", () => {
  const inbox = new Inbox(100);
  for (const [peer, n] of [[9, 1], [3, 1], [9, 2], [5, 1], [3, 2], [9, 3]]) inbox.push(p(peer, n));
  assertEquals(inbox.size, 6);
  assertEquals(drain(inbox), ["3:1", "5:1", "9:1", "3:2", "9:2", "9:3"]);
  assertEquals(inbox.size, 0);
  assertEquals(inbox.shift(), undefined);
  assertEquals(inbox.peekPeer(), 0);
});

Deno.test("inbox: the turn continues after the last served peer, wrapping around", () => {
  const inbox = new Inbox(100);
  inbox.push(p(5, 1));
  assertEquals(inbox.shift()!.peerId, 5);
  inbox.push(p(2, 1));
  inbox.push(p(7, 1));
  inbox.push(p(5, 2));
  // Last served was 5: 7 comes next, then wrap to 2, then 5.
  assertEquals(drain(inbox), ["7:1", "2:1", "5:2"]);
});

Deno.test("inbox: per-peer bound drops and counts, other peers unaffected", () => {
  const inbox = new Inbox(3);
  for (let i = 0; i < 5; i++) inbox.push(p(1, i));
  inbox.push(p(2, 0));
  assertEquals(inbox.counters(1), { queued: 3, received: 5, dropped: 2 });
  assertEquals(inbox.counters(2), { queued: 1, received: 1, dropped: 0 });
  assertEquals(drain(inbox), ["1:0", "2:0", "1:1", "1:2"]);
  assertEquals(inbox.counters(1), { queued: 0, received: 5, dropped: 2 });
  inbox.clear();
  assertEquals(inbox.counters(1), { queued: 0, received: 0, dropped: 0 });
});

Deno.test("inbox: long single-peer queues stay FIFO across compaction", () => {
  const inbox = new Inbox(100000);
  const push = (i: number) =>
    inbox.push({ peerId: 4, data: new Uint8Array([i & 255, i >> 8]), channel: 0 });
  for (let i = 0; i < 5000; i++) push(i);
  const seen: number[] = [];
  const take = () => {
    const got = inbox.shift()!;
    seen.push(got.data[0] | (got.data[1] << 8));
  };
  for (let i = 0; i < 3000; i++) take();
  for (let i = 5000; i < 7000; i++) push(i);
  while (inbox.size > 0) take();
  assertEquals(seen, Array.from({ length: 7000 }, (_, i) => i));
});

Deno.test("inbox: a retired peer is forgotten once its packets are read; its counts stay in the totals", () => {
  const inbox = new Inbox(2);
  for (const n of [1, 2, 3]) inbox.push(p(4, n)); // the third is dropped
  inbox.push(p(9, 1));
  inbox.retire(9); // one packet queued: kept until read
  inbox.retire(4);
  assertEquals(inbox.peerIds().sort(), [4, 9], "departed peers with queued packets stay readable");
  assertEquals(drain(inbox), ["4:1", "9:1", "4:2"]);
  assertEquals(inbox.peerIds(), [], "then forgotten: no state per departed peer");
  assertEquals(inbox.counters(4), { queued: 0, received: 0, dropped: 0 });
  assertEquals(inbox.retiredCounters(), { received: 4, dropped: 1 });
  // An id added again is a live peer again.
  inbox.push(p(7, 1));
  inbox.shift();
  inbox.retire(7);
  assertEquals(inbox.peerIds(), []);
  inbox.push(p(5, 1));
  inbox.retire(5);
  inbox.push(p(5, 2)); // re-added before its old packet was read: not forgotten
  assertEquals(drain(inbox), ["5:1", "5:2"]);
  assertEquals(inbox.peerIds(), [5]);
});
