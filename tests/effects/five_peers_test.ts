import { assert, assertEquals } from "@std/assert";
import { GodotError } from "../../core/constants.ts";
import { closeAll, cluster, drain, fullMesh, until } from "../_mesh.ts";

Deno.test("5-peer full mesh: everyone sees 4 others; broadcast, exclude and unicast targeting", async () => {
  const ids = [1, 2, 3, 4, 5];
  const c = cluster(ids);
  try {
    await fullMesh(c);
    for (const id of ids) {
      const mesh = c.meshes.get(id)!;
      assertEquals([...mesh.getPeers().keys()].sort(), ids.filter((x) => x !== id));
      assertEquals(
        c.signals.get(id)!.slice().sort(),
        ids.filter((x) => x !== id).map((x) => `peer_connected(${x})`).sort(),
      );
    }
    const m3 = c.meshes.get(3)!;

    // Broadcast from 3 reaches all four others.
    m3.targetPeer = 0;
    assertEquals(m3.putPacket(new Uint8Array([30])), GodotError.OK);
    for (const id of [1, 2, 4, 5]) {
      const got = await drain(c.meshes.get(id)!, 1);
      assertEquals(got, [{ peer: 3, data: new Uint8Array([30]) }]);
    }

    // Exclude 4: everyone but 4 receives.
    m3.targetPeer = -4;
    assertEquals(m3.putPacket(new Uint8Array([31])), GodotError.OK);
    for (const id of [1, 2, 5]) {
      assertEquals(await drain(c.meshes.get(id)!, 1), [{ peer: 3, data: new Uint8Array([31]) }]);
    }
    // Unicast to 4: only 4 receives (and it did not get the excluded packet).
    m3.targetPeer = 4;
    assertEquals(m3.putPacket(new Uint8Array([32])), GodotError.OK);
    assertEquals(await drain(c.meshes.get(4)!, 1), [{ peer: 3, data: new Uint8Array([32]) }]);
    await new Promise((r) => setTimeout(r, 100));
    for (const id of [1, 2, 5]) assertEquals(c.meshes.get(id)!.getAvailablePacketCount(), 0);

    // Everyone sends to 1: getPacketPeer names each sender; round-robin serves one per peer per turn.
    for (const id of [2, 3, 4, 5]) {
      const m = c.meshes.get(id)!;
      m.targetPeer = 1;
      for (let k = 0; k < 3; k++) assertEquals(m.putPacket(new Uint8Array([id, k])), GodotError.OK);
    }
    const m1 = c.meshes.get(1)!;
    await until(() => m1.getAvailablePacketCount() === 12, 5000, "12 packets at peer 1");
    const order: string[] = [];
    while (m1.getAvailablePacketCount() > 0) {
      const peer = m1.getPacketPeer();
      const data = m1.getPacket()!;
      assertEquals(data[0], peer, "getPacketPeer names the sender of the next packet");
      order.push(`${peer}:${data[1]}`);
    }
    // The last packet peer 1 read came from 3, so the turn continues with 4 (Godot's order).
    assertEquals(order, [
      ...["4:0", "5:0", "2:0", "3:0"],
      ...["4:1", "5:1", "2:1", "3:1"],
      ...["4:2", "5:2", "2:2", "3:2"],
    ]);
    assert(m1.stats().peers.get(5)!.received >= 3);
  } finally {
    await closeAll(c);
  }
});
