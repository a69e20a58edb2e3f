/**
 * Item 1 of issue 8: no loss under load. Peer 1 sends numbered, checksummed reliable packets of
 * random sizes (1 B to 16 KiB) to peer 2 while both broadcast unreliable traffic; every reliable
 * packet must arrive exactly once, in order, intact. The sender honours `ERR_BUSY` (a small
 * high-water mark makes it frequent) and retries; nothing it had accepted may be lost.
 *
 * CI runs 20,000 packets; `RELIABILITY_FULL=1` (or `RELIABILITY_PACKETS=n`) runs the issue's
 * 100,000.
 */
import { assert, assertEquals } from "@std/assert";
import { GodotError, TransferMode } from "../../core/constants.ts";
import { closeAll, cluster, fullMesh, until } from "../_mesh.ts";
import { STACK } from "../_stack.ts";
import { makePacket, verifyPacket } from "./_packets.ts";

const FULL = Deno.env.get("RELIABILITY_FULL") === "1";
const COUNT = Number(Deno.env.get("RELIABILITY_PACKETS") ?? (FULL ? 100_000 : 20_000));
const SEED = 0x5eed;
const HIGH_WATER_MARK = 1 << 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test(`load: ${COUNT} reliable packets arrive exactly once, in order, intact, beside unreliable traffic`, async () => {
  const c = cluster([1, 2], { options: { highWaterMark: HIGH_WATER_MARK } });
  const stop = new AbortController();
  try {
    await fullMesh(c);
    const a = c.meshes.get(1)!;
    const b = c.meshes.get(2)!;
    const problems: string[] = [];
    let next = 0;
    let extra = 0;
    const unreliableIn = { 1: 0, 2: 0 };
    const readB = (async () => {
      for await (const p of b.packets(stop.signal)) {
        if (p.channel !== TransferMode.RELIABLE) {
          unreliableIn[2]++;
          continue;
        }
        if (next >= COUNT) {
          extra++;
          continue;
        }
        const problem = verifyPacket(SEED, next, p.data);
        if (problem !== undefined && problems.length < 10) problems.push(problem);
        next++;
      }
    })();
    const readA = (async () => {
      for await (const p of a.packets(stop.signal)) {
        assertEquals(p.channel, TransferMode.UNRELIABLE);
        unreliableIn[1]++;
      }
    })();
    // Peer 2 broadcasts unreliable noise until the transfer is over.
    let sending = true;
    const noise = new Uint8Array(600).fill(0xee);
    let noiseOut2 = 0;
    const noiseB = (async () => {
      b.transferMode = TransferMode.UNRELIABLE;
      while (sending) {
        if (b.putPacket(noise) === GodotError.OK) noiseOut2++;
        await sleep(1);
      }
    })();

    const started = performance.now();
    let seq = 0;
    let busy = 0;
    let bytes = 0;
    let noiseOut1 = 0;
    while (seq < COUNT) {
      a.transferMode = TransferMode.RELIABLE;
      const packet = makePacket(SEED, seq);
      const result = a.putPacket(packet);
      if (result === GodotError.OK) {
        seq++;
        bytes += packet.length;
        if (seq % 8 === 0) {
          a.transferMode = TransferMode.UNRELIABLE;
          if (a.putPacket(noise) === GodotError.OK) noiseOut1++;
        }
        if (seq % 512 === 0) await sleep(0);
      } else if (result === GodotError.ERR_BUSY) {
        busy++;
        assert(a.lastError.message.includes("high-water mark"), a.lastError.message);
        await sleep(1);
      } else {
        throw new Error(`putPacket failed: ${a.lastError.message}`);
      }
    }
    const sentAt = performance.now();
    await until(() => next >= COUNT || problems.length > 0, 120_000, `${COUNT} packets at 2`);
    const seconds = (performance.now() - started) / 1000;
    sending = false;
    await noiseB;
    await sleep(200); // anything duplicated would show up now
    assertEquals(problems, []);
    assertEquals(next, COUNT);
    assertEquals(extra, 0, "no reliable packet arrives twice");
    // libwebrtc (wrtc) leaves its SCTP send buffer out of `bufferedAmount`: it read 0 through whole
    // runs of this test (4 of 4, sampled before every putPacket) and passes the mark only in runs
    // where that buffer fills (README, wrtc defects). node-datachannel counts what it queues.
    if (STACK !== "wrtc") {
      assert(busy > 0, "the high-water mark was reached at least once (ERR_BUSY honoured)");
    }
    assertEquals(b.stats().dropped, 0, "nothing dropped by the receiver's queue");
    assertEquals(a.stats().dropped, 0);
    assert(unreliableIn[1] > 0 && unreliableIn[2] > 0, "unreliable traffic flowed both ways");
    console.log(
      `load: ${COUNT} packets, ${(bytes / 1048576).toFixed(1)} MiB in ${seconds.toFixed(1)} s ` +
        `(${(bytes / 1048576 / seconds).toFixed(1)} MiB/s, sender done after ` +
        `${((sentAt - started) / 1000).toFixed(1)} s), ERR_BUSY ${busy}x; unreliable ` +
        `1->2 ${unreliableIn[2]}/${noiseOut1}, 2->1 ${unreliableIn[1]}/${noiseOut2}`,
    );
    stop.abort();
    await Promise.all([readA, readB]);
  } finally {
    stop.abort();
    await closeAll(c);
  }
});
