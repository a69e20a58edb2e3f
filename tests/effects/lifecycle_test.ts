import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import { createPeerConnection } from "../_stack.ts";
import { ConnectionStatus, GodotError } from "../../core/constants.ts";
import { WebRTCMultiplayer } from "../../effects/multiplayer.ts";
import { closeAll, cluster, fullMesh, recordSignals, until } from "../_mesh.ts";
import { FakeConnection } from "./_fake.ts";

Deno.test("remote closes its connection: peer_disconnected, peer gone, its channels closed", async () => {
  const c = cluster([1, 2, 3]);
  try {
    await fullMesh(c);
    const m1 = c.meshes.get(1)!;
    const channels = m1.getPeer(2)!.channels;
    c.connections.get(2)!.get(1)!.close();
    await until(() => !m1.hasPeer(2), 15000, "peer 2 removed at 1");
    assertEquals(c.signals.get(1)!.filter((s) => s.startsWith("peer_disconnected")), [
      "peer_disconnected(2)",
    ]);
    assertEquals([...m1.getPeers().keys()], [3]);
    assertEquals(m1.getPeer(2), undefined);
    await m1.whenClosed();
    assertEquals(channels.map((ch) => ch.readyState), ["closed", "closed", "closed"]);
    assertEquals(c.connections.get(1)!.get(2)!.connectionState, "closed");
    // Peer 3 is unaffected.
    assert(m1.getPeer(3)!.connected);
  } finally {
    await closeAll(c);
  }
});

Deno.test("remote closes one data channel only: the peer is removed (SPEC rule 5)", async () => {
  const c = cluster([1, 2]);
  try {
    await fullMesh(c);
    const m1 = c.meshes.get(1)!;
    c.meshes.get(2)!.getPeer(1)!.channels[2].close();
    await until(() => !m1.hasPeer(2), 15000, "peer 2 removed at 1");
    assertEquals(c.signals.get(1), ["peer_connected(2)", "peer_disconnected(2)"]);
  } finally {
    await closeAll(c);
  }
});

Deno.test("close() closes every native connection and channel; no signals; safe twice; re-initialize", async () => {
  const c = cluster([1, 2, 3, 4]);
  try {
    await fullMesh(c);
    const m1 = c.meshes.get(1)!;
    const infos = [...m1.getPeers().values()];
    const before = c.signals.get(1)!.length;
    m1.close();
    assertEquals(c.signals.get(1)!.length, before, "close() emits no signals");
    await m1.whenClosed();
    for (const info of infos) {
      assertEquals(info.channels.map((ch) => ch.readyState), ["closed", "closed", "closed"]);
      assertEquals(info.connection.connectionState, "closed");
    }
    assertEquals(m1.getPeers().size, 0);
    assertEquals(m1.getUniqueId(), 0);
    assertEquals(m1.targetPeer, 0);
    assertEquals(m1.getConnectionStatus(), ConnectionStatus.DISCONNECTED);
    m1.close();
    assertEquals(m1.lastError.error, GodotError.OK);
    assertEquals(m1.initialize(1), GodotError.OK);
    // The others see 1 leave.
    for (const id of [2, 3, 4]) {
      await until(() => !c.meshes.get(id)!.hasPeer(1), 15000, `peer 1 gone at ${id}`);
      assert(c.signals.get(id)!.includes("peer_disconnected(1)"));
    }
  } finally {
    await closeAll(c);
  }
});

Deno.test("queued packets of a removed peer stay readable; close() drops them and ends packets()", async () => {
  const c = cluster([1, 2]);
  try {
    await fullMesh(c);
    const [m1, m2] = [c.meshes.get(1)!, c.meshes.get(2)!];
    m2.putPacket(new Uint8Array([7]));
    await until(() => m1.getAvailablePacketCount() === 1, 5000, "packet");
    m1.removePeer(2);
    assertEquals(m1.hasPeer(2), false);
    assertEquals(m1.getPacketPeer(), 2);
    assertEquals([...m1.getPacket()!], [7]);

    m1.close();
    const reader = m1.packets();
    const pending = reader.next();
    m1.initialize(1);
    m1.close();
    assertEquals(await pending, { done: true, value: undefined });
  } finally {
    await closeAll(c);
  }
});

Deno.test("autoPoll: false queues observations until poll(); signals fire inside poll()", async () => {
  const c = cluster([1, 2], { options: { autoPoll: false } });
  try {
    const ids = [1, 2];
    const { link } = await import("../_mesh.ts");
    await link(c, 1, 2);
    const m1 = c.meshes.get(1)!;
    // Give the connection plenty of time to open without polling: nothing is applied.
    await until(
      () => m1.getPeer(2)!.channels.every((ch) => ch.readyState === "open"),
      10000,
      "native channels open",
    );
    await new Promise((r) => setTimeout(r, 50));
    assertEquals(c.signals.get(1), []);
    assertEquals(m1.getPeer(2)!.connected, false);
    for (const id of ids) c.meshes.get(id)!.poll();
    assertEquals(c.signals.get(1), ["peer_connected(2)"]);
    assertEquals(c.signals.get(2), ["peer_connected(1)"]);
    assert(m1.getPeer(2)!.connected);
    // Packets are queued as they arrive, polling or not.
    c.meshes.get(2)!.putPacket(new Uint8Array([1]));
    await until(() => m1.getAvailablePacketCount() === 1, 5000, "packet without poll");
    // A removal observed by the stack is applied at the next poll only.
    c.connections.get(2)!.get(1)!.close();
    await until(
      () => m1.getPeer(2)!.connection.connectionState !== "connected",
      15000,
      "native close",
    );
    await new Promise((r) => setTimeout(r, 50));
    assert(m1.hasPeer(2));
    m1.poll();
    assertEquals(m1.hasPeer(2), false);
    assertEquals(c.signals.get(1), ["peer_connected(2)", "peer_disconnected(2)"]);
  } finally {
    await closeAll(c);
  }
});

Deno.test("autoPoll: false drops stale observations of a connection that was removed and re-added", () => {
  const mesh = new WebRTCMultiplayer({ autoPoll: false });
  const log = recordSignals(mesh);
  mesh.initialize(1);
  const old = new FakeConnection();
  assertEquals(mesh.addPeer(old, 2), GodotError.OK);
  old.connectAll();
  mesh.removePeer(2);
  const fresh = new FakeConnection();
  assertEquals(mesh.addPeer(fresh, 2), GodotError.OK);
  old.become("failed"); // late event of the old connection
  mesh.poll();
  assert(mesh.hasPeer(2), "a stale observation must not remove the new peer 2");
  assertStrictEquals(mesh.getPeer(2)!.connection, fresh);
  fresh.connectAll();
  mesh.poll();
  assertEquals(log, ["peer_connected(2)"]);
  mesh.close();
});

Deno.test("createDataChannel throwing: FAILED, channels already made are closed, nothing added", async () => {
  const mesh = new WebRTCMultiplayer();
  mesh.initialize(1);
  const conn = new FakeConnection(2); // the third channel fails
  const before = mesh.state;
  assertEquals(mesh.addPeer(conn, 2), GodotError.FAILED);
  assert(mesh.lastError.message.includes("SCTP stream limit reached"), mesh.lastError.message);
  assertEquals(conn.channels.length, 2);
  assert(conn.channels.every((ch) => ch.closed), "channels made before the failure are closed");
  assertEquals(conn.closed, false, "the caller's connection is left open");
  assertEquals(mesh.hasPeer(2), false);
  assertEquals(mesh.state, before);
  // The same id can be added afterwards.
  const ok = new FakeConnection();
  assertEquals(mesh.addPeer(ok, 2), GodotError.OK);
  assertEquals(ok.channels.map((ch) => [ch.label, ch.id, ch.ordered, ch.maxPacketLifeTime]), [
    ["reliable", 1, true, null],
    ["ordered", 2, true, 1],
    ["unreliable", 3, false, 1],
    // The library's own liveness channel (SPEC rule 3's amendment), never one of getPeer().channels.
    ["webrtc-mesh-liveness", 1023, false, null],
  ]);
  assertEquals(mesh.getPeer(2)!.channels.map((ch) => ch.id), [1, 2, 3]);
  assert(ok.channels.every((ch) => ch.binaryType === "arraybuffer"));
  mesh.close();
  assert(ok.closed && ok.channels.every((ch) => ch.readyState === "closed"));
  // A live connection is closed as a whole: the mesh never closes its channels one by one (in
  // node-datachannel that races with a remote close of the same stream; see #closeLink).
  assert(ok.channels.every((ch) => !ch.closed), "no channel.close() on a live connection");
  // Nothing left to wait for: W3C closes them without an event (else this waits 5 s).
  const t0 = performance.now();
  await mesh.whenClosed();
  assert(performance.now() - t0 < 1000, "whenClosed() waited for events that never come");
});

Deno.test("a connection added and never signaled stays connecting and is removable", async () => {
  const mesh = new WebRTCMultiplayer();
  const log = recordSignals(mesh);
  mesh.initialize(1);
  const pc = createPeerConnection();
  assertEquals(mesh.addPeer(pc, 2), GodotError.OK);
  await new Promise((r) => setTimeout(r, 100));
  assertEquals(mesh.getPeer(2)!.connected, false);
  // Nothing negotiates it (the adapter turns libdatachannel's automatic offer off): it stays "new".
  assertEquals(mesh.state.peers.get(2)!.connectionState, "new");
  assertEquals(mesh.state.peers.get(2)!.channels, ["connecting", "connecting", "connecting"]);
  mesh.removePeer(2);
  assertEquals(mesh.lastError.error, GodotError.OK);
  assertEquals(log, [], "never announced, so no peer_disconnected");
  assertEquals(pc.connectionState, "closed");
  await mesh.whenClosed();
});
