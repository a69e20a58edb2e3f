import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import { GodotError, TransferMode } from "../../core/constants.ts";
import { bytes, closeAll, cluster, drain, fullMesh, nextPacket, text, until } from "../_mesh.ts";

Deno.test("two real peers: signals, channels as SPEC rule 3, binary both ways on every channel", async () => {
  const c = cluster([1, 2]);
  try {
    await fullMesh(c);
    const [a, b] = [c.meshes.get(1)!, c.meshes.get(2)!];
    assertEquals(c.signals.get(1), ["peer_connected(2)"]);
    assertEquals(c.signals.get(2), ["peer_connected(1)"]);
    assert(a.getPeer(2)!.connected);
    assert(b.getPeer(1)!.connected);
    assertStrictEquals(a.getPeer(2)!.connection, c.connections.get(1)!.get(2));

    // Read the options back from the native channel objects: a misspelled option would show here.
    for (const mesh of [a, b]) {
      const [reliable, ordered, unreliable] = [...mesh.getPeers().values()][0].channels;
      assertEquals(
        [reliable.label, reliable.id, reliable.ordered, reliable.maxPacketLifeTime],
        ["reliable", 1, true, null],
      );
      assertEquals(
        [ordered.label, ordered.id, ordered.ordered, ordered.maxPacketLifeTime],
        ["ordered", 2, true, 1],
      );
      assertEquals(
        [unreliable.label, unreliable.id, unreliable.ordered, unreliable.maxPacketLifeTime],
        ["unreliable", 3, false, 1],
      );
      for (const ch of [reliable, ordered, unreliable]) {
        assertEquals(ch.binaryType, "arraybuffer");
        assertEquals(ch.readyState, "open");
        assertEquals((ch as unknown as { negotiated: boolean }).negotiated, true);
      }
    }

    // Every transfer mode, both directions; payload on the wire exactly as given (no header).
    for (
      const mode of [
        TransferMode.RELIABLE,
        TransferMode.UNRELIABLE_ORDERED,
        TransferMode.UNRELIABLE,
      ]
    ) {
      for (const [from, to, fromId] of [[a, b, 1], [b, a, 2]] as const) {
        from.transferMode = mode;
        const payload = new Uint8Array([mode, fromId, 0, 255, 128]);
        assertEquals(from.putPacket(payload), GodotError.OK);
        const got = await nextPacket(to);
        assertEquals(got.peerId, fromId);
        assertEquals(got.channel, mode);
        assertEquals([...got.data], [...payload]);
      }
    }
    // The channel a mode maps to, seen from the receiving side's native channel.
    const seen: string[] = [];
    for (const ch of b.getPeer(1)!.channels) {
      ch.addEventListener("message", () => seen.push(ch.label));
    }
    for (
      const mode of [
        TransferMode.UNRELIABLE,
        TransferMode.UNRELIABLE_ORDERED,
        TransferMode.RELIABLE,
      ]
    ) {
      a.transferMode = mode;
      a.putPacket(bytes("x"));
    }
    await until(() => seen.length === 3, 5000, "three messages");
    assertEquals(seen.sort(), ["ordered", "reliable", "unreliable"]);
    await drain(b, 3);
  } finally {
    await closeAll(c);
  }
});

Deno.test("two real peers: text messages arrive as UTF-8 bytes; getPacket/getPacketPeer/count", async () => {
  const c = cluster([1, 2]);
  try {
    await fullMesh(c);
    const [a, b] = [c.meshes.get(1)!, c.meshes.get(2)!];
    // A browser peer may send strings: send one on the native channel directly.
    const native = c.meshes.get(2)!.getPeer(1)!.channels[0] as unknown as { send(s: string): void };
    native.send("héllo ✓");
    await until(() => a.getAvailablePacketCount() === 1, 5000, "text message");
    assertEquals(a.getPacketPeer(), 2);
    const data = a.getPacket()!;
    assert(data instanceof Uint8Array);
    assertEquals(text(data), "héllo ✓");
    assertEquals(a.getPacketPeer(), 0);
    assertEquals(a.getPacket(), undefined);
    // Several packets keep their order (reliable channel, one sender).
    for (let i = 0; i < 50; i++) b.putPacket(new Uint8Array([i]));
    const got = await drain(a, 50);
    assertEquals(got.map((p) => p.data[0]), Array.from({ length: 50 }, (_, i) => i));
    assert(got.every((p) => p.peer === 2));
    const stats = a.stats();
    assertEquals(stats.received, 51);
    assertEquals(stats.queued, 0);
    assertEquals(stats.dropped, 0);
    assertEquals(b.stats().sent, 50);
  } finally {
    await closeAll(c);
  }
});

Deno.test("putPacket: max message size, ERR_BUSY high-water mark, unicast errors; nothing sent on failure", async () => {
  const c = cluster([1, 2], { options: { highWaterMark: 64 * 1024 } });
  try {
    await fullMesh(c);
    const [a, b] = [c.meshes.get(1)!, c.meshes.get(2)!];
    const max = (a.getPeer(2)!.connection.sctp?.maxMessageSize) ?? 262144;
    assertEquals(a.putPacket(new Uint8Array(max + 1)), GodotError.ERR_INVALID_PARAMETER);
    assert(a.lastError.message.includes("max message size"), a.lastError.message);
    assertEquals(a.stats().sent, 0);
    a.targetPeer = 9;
    assertEquals(a.putPacket(bytes("x")), GodotError.ERR_INVALID_PARAMETER);
    assert(a.lastError.message.includes("9"));
    a.targetPeer = 0;
    // Bad data types from JavaScript callers.
    assertEquals(a.putPacket("text" as unknown as Uint8Array), GodotError.ERR_INVALID_PARAMETER);
    assertEquals(a.putPacket(null as unknown as Uint8Array), GodotError.ERR_INVALID_PARAMETER);

    // Fill the reliable channel past the high-water mark: ERR_BUSY, and every accepted packet arrives.
    let accepted = 0;
    let busy = false;
    const chunk = new Uint8Array(16 * 1024);
    for (let i = 0; i < 10000 && !busy; i++) {
      chunk[0] = i & 0xff;
      const err = a.putPacket(chunk);
      if (err === GodotError.ERR_BUSY) busy = true;
      else {
        assertEquals(err, GodotError.OK);
        accepted++;
      }
    }
    assert(busy, "expected ERR_BUSY once the reliable channel buffered more than 64 KiB");
    assert(a.lastError.message.includes("high-water"), a.lastError.message);
    const got = await drain(b, accepted, 10000);
    assertEquals(got.length, accepted);
    assertEquals(got.map((p) => p.data[0]), Array.from({ length: accepted }, (_, i) => i & 0xff));
    // The unreliable channel has no high-water mark.
    a.transferMode = TransferMode.UNRELIABLE;
    assertEquals(a.putPacket(bytes("u")), GodotError.OK);
  } finally {
    await closeAll(c);
  }
});
