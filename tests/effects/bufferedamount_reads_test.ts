/**
 * The back-pressure check's native reads on real stacks (effects/_buffered.ts): a reliable
 * broadcast well below the high-water mark reads no `bufferedAmount`; the application's own sends
 * on `getPeer(id).channels[0]` count towards the mark; and the stack's number never rises by more
 * than what was sent since it was read (the fact the bound rests on).
 */
import { assert, assertEquals } from "@std/assert";
import { GodotError } from "../../core/constants.ts";
import type { RTCDataChannelLike } from "../../effects/w3c.ts";
import { closeAll, cluster, drain, fullMesh } from "../_mesh.ts";

/** The stack's own `bufferedAmount` getter (on the channel's prototype chain). */
function nativeGetter(channel: RTCDataChannelLike): (this: unknown) => number {
  for (let o = channel; o !== null; o = Object.getPrototypeOf(o)) {
    const d = Object.getOwnPropertyDescriptor(o, "bufferedAmount");
    if (d?.get !== undefined) return d.get;
  }
  throw new Error("no bufferedAmount getter on the channel");
}

/** Counts the reads of `channel.bufferedAmount` from now on. */
function countReads(
  channel: RTCDataChannelLike,
): { reads: number; last: number; native: () => number } {
  const get = nativeGetter(channel);
  const counter = { reads: 0, last: -1, native: () => get.call(channel) };
  Object.defineProperty(channel, "bufferedAmount", {
    configurable: true,
    get() {
      counter.reads++;
      return counter.last = get.call(channel);
    },
  });
  return counter;
}

Deno.test("a reliable broadcast below the high-water mark reads no bufferedAmount", async () => {
  const ids = [1, 2, 3, 4, 5];
  const c = cluster(ids);
  try {
    await fullMesh(c);
    const a = c.meshes.get(1)!;
    const counters = ids.slice(1).map((id) => countReads(a.getPeer(id)!.channels[0]));
    const packets = 300;
    const payload = new Uint8Array(200);
    for (let i = 0; i < packets; i++) {
      payload[0] = i & 0xff;
      assertEquals(a.putPacket(payload), GodotError.OK);
    }
    const sends = packets * counters.length;
    assertEquals(a.stats().sent, sends);
    const reads = counters.reduce((n, k) => n + k.reads, 0);
    // 60 KB per channel against the default 16 MiB mark: the bound never comes near it.
    assertEquals(reads, 0, `${reads} native reads for ${sends} sends`);
    for (const id of ids.slice(1)) {
      const got = await drain(c.meshes.get(id)!, packets, 10000);
      assertEquals(got.map((p) => p.data[0]), Array.from({ length: packets }, (_, i) => i & 0xff));
    }
  } finally {
    await closeAll(c);
  }
});

Deno.test("the application's sends on getPeer(id).channels[0] count: over the mark, putPacket is refused", async () => {
  const HWM = 64 * 1024;
  const c = cluster([1, 2], { options: { highWaterMark: HWM } });
  try {
    await fullMesh(c);
    const [a, b] = [c.meshes.get(1)!, c.meshes.get(2)!];
    const channel = a.getPeer(2)!.channels[0];
    const counter = countReads(channel);
    a.targetPeer = 2;
    // One packet through the mesh: admitted on the bound alone (nothing buffered yet).
    assertEquals(a.putPacket(new Uint8Array(100)), GodotError.OK);
    assertEquals(counter.reads, 0);
    // The application fills the channel itself, well past the mark (the stack drains meanwhile),
    // checking at each send that the stack's number rose by at most what was sent since it was
    // read (the bound's premise).
    const chunk = new Uint8Array(16 * 1024);
    const FILL = HWM + (1 << 20);
    let sent = 1;
    let before = counter.native();
    while (before <= FILL && sent < 4000) {
      channel.send(chunk);
      sent++;
      const after = counter.native();
      assert(after <= before + chunk.byteLength, `bufferedAmount ${before} -> ${after}`);
      before = after;
    }
    assert(before > FILL, `the stack buffered only ${before} bytes after ${sent} sends`);
    // Without the application's sends counted the bound would be 100 bytes: admitted, no read.
    // Counted, the bound is over the mark: the stack's number is read, and decides.
    const refused = a.putPacket(new Uint8Array(100));
    assertEquals(counter.reads, 1);
    assert(counter.last > HWM, `the stack drained to ${counter.last} bytes within one call`);
    assertEquals(refused, GodotError.ERR_BUSY);
    assert(a.lastError.message.includes("high-water"), a.lastError.message);
    // It drains; the next packet is read for (the bound is still over) and admitted.
    const got = await drain(b, sent, 30000);
    assertEquals(got.length, sent);
    assertEquals(a.putPacket(new Uint8Array(100)), GodotError.OK);
    assertEquals(counter.reads, 2);
    assertEquals(a.putPacket(new Uint8Array(100)), GodotError.OK); // and from the bound again
    assertEquals(counter.reads, 2);
    assertEquals((await drain(b, 2, 10000)).length, 2);
  } finally {
    await closeAll(c);
  }
});
