/**
 * Reconnect by replacement on a real stack, in one process (core/reconnect.ts, R1-R5): two meshes
 * with `reconnect`, reliable traffic both ways, then both replace their connection while messages
 * are in flight (what the signaling client does when a peer is interrupted and its stack cannot
 * restart ICE). Every packet must arrive exactly once and in order, `peer_resumed` on both sides,
 * no `peer_disconnected`. Runs on the stack of `MESH_STACK` (tests/_stack.ts).
 */
import { assert, assertEquals } from "@std/assert";
import { GodotError, TransferMode } from "../../core/constants.ts";
import type { WebRTCMultiplayer } from "../../effects/multiplayer.ts";
import type { WebRTCMultiplayerPeer } from "../../effects/multiplayer_peer.ts";
import { connectPair, createPeerConnection } from "../_stack.ts";
import { closeAll, type Cluster, cluster, cluster4, link, recordSignals, until } from "../_mesh.ts";

const COUNT = 20_000;

function counter(mesh: WebRTCMultiplayer) {
  const seen = { count: 0, inOrder: true };
  (async () => {
    for await (const p of mesh.packets()) {
      const seq = new DataView(p.data.buffer, p.data.byteOffset).getUint32(0);
      if (seq !== seen.count) seen.inOrder = false;
      seen.count++;
    }
  })();
  return seen;
}

async function sendAll(mesh: WebRTCMultiplayer, stop: () => boolean) {
  for (let seq = 0; seq < COUNT && !stop();) {
    const packet = new Uint8Array(1024);
    new DataView(packet.buffer).setUint32(0, seq);
    const r = mesh.putPacket(packet);
    if (r === GodotError.OK) seq++;
    else if (r === GodotError.ERR_BUSY) await new Promise((res) => setTimeout(res, 2));
    else throw new Error(`putPacket: ${mesh.lastError.message}`);
    if (seq % 500 === 0) await new Promise((res) => setTimeout(res, 0));
  }
}

/**
 * Both meshes of `c` (ids 1 and 2) replace their connection to each other with fresh ones, which
 * are then connected: what two signaling clients do for an interrupted peer.
 */
async function replaceBoth(c: Cluster<WebRTCMultiplayer | WebRTCMultiplayerPeer>) {
  const [a, b] = [c.meshes.get(1)!, c.meshes.get(2)!];
  const pa = createPeerConnection();
  const pb = createPeerConnection();
  assertEquals(a.replacePeer(pa, 2), GodotError.OK, a.lastError.message);
  assertEquals(b.replacePeer(pb, 1), GodotError.OK, b.lastError.message);
  c.connections.get(1)!.set(2, pa);
  c.connections.get(2)!.set(1, pb);
  await connectPair(pa, pb);
}

Deno.test("replacePeer under reliable load both ways: resumed, every packet once and in order", async () => {
  const c = cluster([1, 2], { options: { reconnect: true, highWaterMark: 1 << 20 } });
  const [a, b] = [c.meshes.get(1)!, c.meshes.get(2)!];
  const events = [recordSignals(a), recordSignals(b)];
  for (const [i, m] of [a, b].entries()) {
    m.addEventListener("peer_interrupted", () => events[i].push("peer_interrupted"));
    m.addEventListener("peer_resumed", () => events[i].push("peer_resumed"));
  }
  let failed = false;
  try {
    await link(c, 1, 2);
    await until(() => a.getPeer(2)?.connected === true && b.getPeer(1)?.connected === true);
    // Both sides proven (beacons with counts) before the replacement.
    await until(
      () =>
        a.stats().peers.get(2)?.departure === "beacons" &&
        b.stats().peers.get(1)?.departure === "beacons",
      5000,
      "beacons",
    );
    const [atA, atB] = [counter(a), counter(b)];
    let done = false;
    const sending = [sendAll(a, () => done), sendAll(b, () => done)];
    // Replace mid-stream, with data buffered in the old connections.
    await until(() => atA.count > COUNT / 4 && atB.count > COUNT / 4, 20000, "traffic");
    await replaceBoth(c);
    await Promise.all(sending);
    await until(() => atA.count >= COUNT && atB.count >= COUNT, 30000, "every packet");
    // Nothing more arrives (no duplicates) after a few beats.
    await new Promise((r) => setTimeout(r, 1000));
    assertEquals([atA.count, atA.inOrder, atB.count, atB.inOrder], [COUNT, true, COUNT, true]);
    for (const log of events) {
      assert(log.includes("peer_interrupted") && log.includes("peer_resumed"), `${log}`);
      assert(!log.some((s) => s.startsWith("peer_disconnected")), `${log}`);
    }
    done = true;
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    if (failed) console.error(events);
    await closeAll(c);
  }
});

Deno.test("Godot 4: replacePeer keeps the reserved and an extra RELIABLE channel exact, each in order", async () => {
  const c = cluster4([
    [1, (p) => p.createMesh(1, [TransferMode.UNRELIABLE, TransferMode.RELIABLE])],
    [2, (p) => p.createMesh(2, [TransferMode.UNRELIABLE, TransferMode.RELIABLE])],
  ], { reconnect: true, highWaterMark: 1 << 20 });
  const [a, b] = [c.meshes.get(1)!, c.meshes.get(2)!];
  try {
    await link(c, 1, 2);
    await until(
      () =>
        a.stats().peers.get(2)?.departure === "beacons" &&
        b.stats().peers.get(1)?.departure === "beacons",
      10000,
      "beacons",
    );
    // Channel 0 (reserved reliable) and channel 2 (the extra RELIABLE one), per channel in order.
    const seen = new Map<number, number[]>([[0, []], [2, []]]);
    (async () => {
      for await (const p of b.packets()) {
        seen.get(p.channel)?.push(new DataView(p.data.buffer, p.data.byteOffset).getUint32(0));
      }
    })();
    const N = 6000;
    const sending = (async () => {
      for (let seq = 0; seq < N;) {
        const packet = new Uint8Array(1024);
        new DataView(packet.buffer).setUint32(0, seq >> 1);
        a.transferChannel = seq % 2 === 0 ? 0 : 2;
        const r = a.putPacket(packet);
        if (r === GodotError.OK) seq++;
        else if (r === GodotError.ERR_BUSY) await new Promise((res) => setTimeout(res, 2));
        else throw new Error(`putPacket: ${a.lastError.message}`);
        if (seq % 500 === 0) await new Promise((res) => setTimeout(res, 0));
      }
    })();
    await until(() => seen.get(0)!.length > N / 8, 20000, "traffic");
    await replaceBoth(c);
    await sending;
    await until(
      () => seen.get(0)!.length >= N / 2 && seen.get(2)!.length >= N / 2,
      30000,
      "every packet",
    );
    await new Promise((r) => setTimeout(r, 1000));
    const expected = Array.from({ length: N / 2 }, (_, i) => i);
    assertEquals(seen.get(0), expected);
    assertEquals(seen.get(2), expected);
  } finally {
    await closeAll(c);
  }
});
