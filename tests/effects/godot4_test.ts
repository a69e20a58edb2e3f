/**
 * Godot 4's `WebRTCMultiplayerPeer` on real node-datachannel connections: a server with four
 * clients, a mesh of four with extra channels, a client whose server connection fails, and a Godot 3
 * and a Godot 4 peer object sharing one process and one adapter.
 */
import { assert, assertEquals } from "@std/assert";
import { createPeerConnection, type IceCandidateLike } from "../../adapters/node_datachannel.ts";
import { ConnectionStatus, GodotError, TransferMode } from "../../core/constants.ts";
import { WebRTCMultiplayer } from "../../effects/multiplayer.ts";
import { WebRTCMultiplayerPeer } from "../../effects/multiplayer_peer.ts";
import { closeAll, cluster4, drain, link, recordSignals, until } from "../_mesh.ts";

const { RELIABLE, UNRELIABLE_ORDERED, UNRELIABLE } = TransferMode;

Deno.test("Godot 4 server with 4 clients: each client holds only peer 1; the server relays nothing", async () => {
  const clients = [2, 3, 4, 5];
  const c = cluster4([
    [1, (p) => p.createServer()],
    ...clients.map((id) => [id, (p: WebRTCMultiplayerPeer) => p.createClient(id)] as const),
  ]);
  const server = c.meshes.get(1)!;
  try {
    for (const id of clients) {
      assertEquals(c.meshes.get(id)!.getConnectionStatus(), ConnectionStatus.CONNECTING);
    }
    await Promise.all(clients.map((id) => link(c, 1, id)));
    await until(
      () => clients.every((id) => c.meshes.get(id)!.getConnectionStatus() === 2),
      15000,
      "every client connected",
    );
    await until(() => c.signals.get(1)!.length === 4, 5000, "server sees 4 clients");
    assertEquals(c.signals.get(1)!.slice().sort(), clients.map((id) => `peer_connected(${id})`));
    for (const id of clients) {
      const client = c.meshes.get(id)!;
      assertEquals(c.signals.get(id), ["peer_connected(1)", "connected_to_server"]);
      assertEquals([...client.getPeers().keys()], [1], "a client holds only peer 1");
      assertEquals(client.isServer(), false);
      assert(client.isServerRelaySupported());
      // A client cannot add another client.
      assertEquals(client.addPeer(createPeerConnection(), 3), GodotError.ERR_INVALID_PARAMETER);
    }
    assertEquals([...server.getPeers().keys()].sort(), clients);
    assert(server.isServer() && server.isServerRelaySupported());

    // The server broadcasts: every client gets it, from peer 1.
    assertEquals(server.putPacket(new Uint8Array([1, 0])), GodotError.OK);
    for (const id of clients) {
      assertEquals(await drain(c.meshes.get(id)!, 1), [{ peer: 1, data: new Uint8Array([1, 0]) }]);
    }
    // A client broadcasts: only the server receives it; the server does not pass it on.
    const c2 = c.meshes.get(2)!;
    assertEquals(c2.putPacket(new Uint8Array([2, 0])), GodotError.OK);
    assertEquals(await drain(server, 1), [{ peer: 2, data: new Uint8Array([2, 0]) }]);
    // A client cannot address another client directly.
    c2.targetPeer = 3;
    assertEquals(c2.putPacket(new Uint8Array([2, 1])), GodotError.ERR_INVALID_PARAMETER);
    assert(c2.lastError.message.includes("3"));
    await new Promise((r) => setTimeout(r, 100));
    for (const id of [3, 4, 5]) assertEquals(c.meshes.get(id)!.getAvailablePacketCount(), 0);

    // disconnectPeer(3): the connection closes, the removal follows with peer_disconnected(3);
    // client 3 sees the server go.
    server.disconnectPeer(3);
    assert(server.hasPeer(3) || c.signals.get(1)!.includes("peer_disconnected(3)"));
    await until(() => !server.hasPeer(3), 5000, "server removes 3");
    assertEquals(c.signals.get(1)!.at(-1), "peer_disconnected(3)");
    const c3 = c.meshes.get(3)!;
    await until(
      () => c3.getConnectionStatus() === ConnectionStatus.DISCONNECTED,
      15000,
      "client 3 disconnected",
    );
    assertEquals(c.signals.get(3)!.slice(2), ["peer_disconnected(1)", "server_disconnected"]);
    assertEquals(c3.putPacket(new Uint8Array([3])), GodotError.ERR_UNCONFIGURED);
    assertEquals(c3.getUniqueId(), 1, "Godot reports 1 while disconnected");
    assertEquals(c3.lastError.error, GodotError.ERR_UNCONFIGURED);

    // disconnectPeer(4, true): gone at once, no signal on the server.
    const before = c.signals.get(1)!.length;
    server.disconnectPeer(4, true);
    assert(!server.hasPeer(4));
    assertEquals(c.signals.get(1)!.length, before);
    await until(
      () => c.meshes.get(4)!.getConnectionStatus() === ConnectionStatus.DISCONNECTED,
      15000,
      "client 4 disconnected",
    );
    assertEquals(c.signals.get(4)!.slice(2), ["peer_disconnected(1)", "server_disconnected"]);

    // A client forcing its server away: DISCONNECTED, no signal.
    const c5 = c.meshes.get(5)!;
    c5.disconnectPeer(1, true);
    assertEquals(c5.getConnectionStatus(), ConnectionStatus.DISCONNECTED);
    assertEquals(c.signals.get(5), ["peer_connected(1)", "connected_to_server"]);
    await until(() => !server.hasPeer(5), 15000, "server notices client 5 left");
    assertEquals(c.signals.get(1)!.at(-1), "peer_disconnected(5)");
    assertEquals([...server.getPeers().keys()], [2]);
  } finally {
    await closeAll(c);
  }
});

Deno.test("Godot 4 mesh of 4 with channelsConfig [RELIABLE, UNRELIABLE]: extra channels on the wire, channel and mode per packet, insertion order", async () => {
  const config = [RELIABLE, UNRELIABLE];
  const ids = [1, 2, 3, 4];
  const c = cluster4(ids.map((id) => [id, (p) => p.createMesh(id, config)] as const));
  try {
    // Peer 1 adds 4, then 2, then 3: Godot 4 reads peers in the order they were added. Unreliable
    // channels get 500 ms (not 1 ms) to deliver: on a loaded machine a 1 ms lifetime can expire
    // before the first transmission, and this test counts every packet.
    const LIFE = 500;
    await link(c, 1, 4, LIFE);
    await link(c, 1, 2, LIFE);
    await link(c, 1, 3, LIFE);
    await Promise.all([link(c, 2, 3, LIFE), link(c, 2, 4, LIFE), link(c, 3, 4, LIFE)]);
    await until(
      () =>
        [...c.meshes.values()].every((m) =>
          [...m.getPeers().values()].filter((p) => p.connected).length === 3
        ),
      15000,
      "full mesh",
    );
    assertEquals([...c.meshes.get(1)!.getPeers().keys()], [4, 2, 3]);

    // The extra channels, read back from node-datachannel's channel objects.
    for (const id of ids) {
      for (const [, info] of c.meshes.get(id)!.getPeers()) {
        const ch = info.channels;
        assertEquals(ch.length, 5);
        assertEquals(
          ch.map((x) => [x.label, x.id, x.ordered, x.maxPacketLifeTime, x.readyState]),
          [
            ["reliable", 1, true, null, "open"],
            ["ordered", 2, true, LIFE, "open"],
            ["unreliable", 3, false, LIFE, "open"],
            ["4", 4, true, null, "open"],
            ["5", 5, false, LIFE, "open"],
          ],
        );
      }
      assertEquals(c.meshes.get(id)!.isServerRelaySupported(), false);
    }

    // Peers 2, 3, 4 each send to 1: on extra channel 2 (UNRELIABLE), extra channel 1 (RELIABLE),
    // then the reserved channels by mode. Payload: [sender, channel, mode].
    const sends: Array<[number, TransferMode]> = [
      [2, RELIABLE],
      [1, RELIABLE],
      [0, UNRELIABLE],
      [0, UNRELIABLE_ORDERED],
      [0, RELIABLE],
    ];
    for (const id of [2, 3, 4]) {
      const m = c.meshes.get(id)!;
      m.targetPeer = 1;
      for (const [channel, mode] of sends) {
        m.transferChannel = channel;
        m.transferMode = mode;
        const expected = channel === 0 ? mode : config[channel - 1];
        assertEquals(m.putPacket(new Uint8Array([id, channel, expected])), GodotError.OK);
      }
    }
    const m1 = c.meshes.get(1)!;
    await until(() => m1.getAvailablePacketCount() === 15, 5000, "15 packets at peer 1");
    const order: string[] = [];
    while (m1.getAvailablePacketCount() > 0) {
      const peer = m1.getPacketPeer();
      const channel = m1.getPacketChannel();
      const mode = m1.getPacketMode();
      const data = m1.getPacket()!;
      assertEquals([data[0], data[1], data[2]], [peer, channel, mode], "peek getters describe it");
      order.push(`${peer}:${channel}:${TransferMode[mode]}`);
    }
    // Round-robin in insertion order (4, 2, 3); within a peer the lowest channel first:
    // reliable, ordered, unreliable, then extra 1, extra 2.
    const perPeer = [
      "0:RELIABLE",
      "0:UNRELIABLE_ORDERED",
      "0:UNRELIABLE",
      "1:RELIABLE",
      "2:UNRELIABLE",
    ];
    assertEquals(order, perPeer.flatMap((x) => [4, 2, 3].map((id) => `${id}:${x}`)));

    // packets() yields channel and mode too.
    const m4 = c.meshes.get(4)!;
    m1.targetPeer = 4;
    m1.transferChannel = 2;
    assertEquals(m1.putPacket(new Uint8Array([9])), GodotError.OK);
    for await (const p of m4.packets(AbortSignal.timeout(5000))) {
      assertEquals({ ...p, data: [...p.data] }, {
        peerId: 1,
        data: [9],
        channel: 2,
        mode: UNRELIABLE,
      });
      break;
    }
    // A channel the mesh does not have is refused; nothing is sent.
    m1.transferChannel = 3;
    assertEquals(m1.putPacket(new Uint8Array([10])), GodotError.ERR_INVALID_PARAMETER);
    assert(m1.lastError.message.includes("no channel 3"));
  } finally {
    await closeAll(c);
  }
});

Deno.test("Godot 4 client whose server connection fails before connecting: connection_failed, DISCONNECTED", async () => {
  // The "server" answers with a DTLS fingerprint that is not its own (an impostor): the DTLS
  // handshake fails and the connection ends before it ever connected.
  const client = new WebRTCMultiplayerPeer();
  client.createClient(7);
  const signals = recordSignals(client);
  const pc = createPeerConnection();
  const server = createPeerConnection();
  server.createDataChannel("reliable", { negotiated: true, id: 1 });
  try {
    assertEquals(client.addPeer(pc, 1), GodotError.OK);
    server.addEventListener("icecandidate", (e) => {
      const cand = (e as Event & { candidate?: IceCandidateLike | null }).candidate;
      if (cand?.candidate) pc.addIceCandidate(cand).catch(() => {});
    });
    pc.addEventListener("icecandidate", (e) => {
      const cand = (e as Event & { candidate?: IceCandidateLike | null }).candidate;
      if (cand?.candidate) server.addIceCandidate(cand).catch(() => {});
    });
    await pc.setLocalDescription(await pc.createOffer());
    await server.setRemoteDescription(pc.localDescription!);
    await server.setLocalDescription(await server.createAnswer());
    const sdp = server.localDescription!.sdp!.replace(
      /a=fingerprint:sha-256 ([0-9A-F]{2})/,
      (_, x) => `a=fingerprint:sha-256 ${x === "00" ? "11" : "00"}`,
    );
    await pc.setRemoteDescription({ type: "answer", sdp });
    assertEquals(client.getConnectionStatus(), ConnectionStatus.CONNECTING);
    await until(() => signals.length > 0, 15000, "a signal");
    assertEquals(signals, ["connection_failed"]);
    assertEquals(client.getConnectionStatus(), ConnectionStatus.DISCONNECTED);
    assert(!client.hasPeer(1));
    // It may be created again after a failure (no close() needed: it is DISCONNECTED).
    assertEquals(client.createClient(7), GodotError.OK);
  } finally {
    client.close();
    server.close();
    await client.whenClosed();
  }
});

Deno.test("a Godot 3 and a Godot 4 peer object share one process and one adapter, and talk", async () => {
  const g3 = new WebRTCMultiplayer();
  const g4 = new WebRTCMultiplayerPeer();
  assertEquals(g3.initialize(1), GodotError.OK);
  assertEquals(g4.createMesh(2), GodotError.OK);
  // Each refuses the other's API at the reducer (the classes do not even have the methods).
  const c = {
    meshes: new Map<number, WebRTCMultiplayer | WebRTCMultiplayerPeer>([[1, g3], [2, g4]]),
    connections: new Map([[1, new Map()], [2, new Map()]]),
    signals: new Map([[1, recordSignals(g3)], [2, recordSignals(g4)]]),
  };
  try {
    await link(c, 1, 2);
    await until(() => g3.getPeer(2)?.connected === true && g4.getPeer(1)?.connected === true);
    assertEquals(c.signals.get(1), ["peer_connected(2)"]);
    assertEquals(c.signals.get(2), ["peer_connected(1)"]);
    g3.transferMode = UNRELIABLE_ORDERED;
    assertEquals(g3.putPacket(new Uint8Array([3])), GodotError.OK);
    await until(() => g4.getAvailablePacketCount() === 1);
    assertEquals([g4.getPacketChannel(), g4.getPacketMode()], [0, UNRELIABLE_ORDERED]);
    assertEquals([...g4.getPacket()!], [3]);
    assertEquals(g4.putPacket(new Uint8Array([4])), GodotError.OK);
    const p = await (async () => {
      for await (const p of g3.packets(AbortSignal.timeout(5000))) return p;
    })();
    assertEquals(p && { ...p, data: [...p.data] }, { peerId: 2, data: [4], channel: RELIABLE });
  } finally {
    await closeAll(c);
  }
});

Deno.test("Godot 4 with autoPoll off: disconnectPeer's removal and its signal wait for poll(), as in Godot", async () => {
  const c = cluster4([
    [1, (p) => p.createMesh(1, [RELIABLE])],
    [2, (p) => p.createMesh(2, [RELIABLE])],
  ], { autoPoll: false });
  const [m1, m2] = [c.meshes.get(1)!, c.meshes.get(2)!];
  try {
    const linked = link(c, 1, 2);
    await until(
      () => {
        m1.poll();
        m2.poll();
        return m1.getPeer(2)?.connected === true && m2.getPeer(1)?.connected === true;
      },
      15000,
      "connected through poll()",
    );
    await linked;
    assertEquals(c.signals.get(1), ["peer_connected(2)"]);
    m1.disconnectPeer(2);
    assertEquals(m1.lastError.error, GodotError.OK);
    assert(m1.hasPeer(2), "still there until the next poll()");
    assertEquals(c.signals.get(1), ["peer_connected(2)"]);
    m1.poll();
    assert(!m1.hasPeer(2));
    assertEquals(c.signals.get(1), ["peer_connected(2)", "peer_disconnected(2)"]);
    await until(
      () => {
        m2.poll();
        return !m2.hasPeer(1);
      },
      15000,
      "peer 2 notices",
    );
    assertEquals(c.signals.get(2), ["peer_connected(1)", "peer_disconnected(1)"]);
  } finally {
    await closeAll(c);
  }
});
