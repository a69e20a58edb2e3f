/**
 * The Godot 4 client end to end on real connections (node-datachannel): a client/server lobby
 * with one server and three clients, a Godot 4 mesh, and a mixed lobby where Godot 3 and Godot 4
 * clients form one mesh and trade packets.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "@std/assert";
import { createPeerConnection } from "../../adapters/node_datachannel.ts";
import { ConnectionStatus, TransferMode } from "../../core/constants.ts";
import { joinLobby, LobbyClient } from "../../signaling/client.ts";
import { type Godot4LobbyClient, joinLobbyGodot4 } from "../../signaling/client_godot4.ts";
import { GODOT4_FIRST_ID } from "../../signaling/lobby.ts";
import { Reasons } from "../../signaling/protocol.ts";
import { serveSignalingDeno } from "../../signaling/server_deno.ts";
import { until } from "./_raw.ts";

const options = { createPeerConnection };
/**
 * One extra channel, reliable: a packet the test waits for must not be one that partial
 * reliability may drop (an unreliable channel abandons a message not sent within 1 ms, which a
 * loaded machine does now and then).
 */
const EXTRA = [TransferMode.RELIABLE];
const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

/** Every packet waiting on a Godot 4 peer, as `from:text`. */
function drain4(c: Godot4LobbyClient, into: string[]): void {
  while (c.peer.getAvailablePacketCount() > 0) {
    const from = c.peer.getPacketPeer();
    into.push(`${from}:${str(c.peer.getPacket()!)}`);
  }
}

function drain3(c: LobbyClient, into: string[]): void {
  while (c.mesh.getAvailablePacketCount() > 0) {
    const from = c.mesh.getPacketPeer();
    into.push(`${from}:${str(c.mesh.getPacket()!)}`);
  }
}

/** Closes every client, waits for their connections to close, stops the server. */
async function closeAll(
  clients: (LobbyClient | Godot4LobbyClient)[],
  server: { shutdown(): Promise<void> },
): Promise<void> {
  for (const c of clients) await c.close();
  await Promise.all(
    clients.map((c) => (c instanceof LobbyClient ? c.mesh : c.peer).whenClosed()),
  );
  await server.shutdown();
}

const connected = (peers: Map<number, { connected: boolean }>) =>
  [...peers.values()].filter((p) => p.connected).length;

Deno.test("godot4 client/server lobby: 1 server + 3 clients on real connections", async () => {
  const server = await serveSignalingDeno({ port: 0 });
  const clients: Godot4LobbyClient[] = [];
  try {
    const host = await joinLobbyGodot4(server.url, "", {
      ...options,
      clientServer: true,
      channelsConfig: EXTRA,
    });
    clients.push(host);
    assertEquals([host.id, host.peer.isServer(), host.peer.isServerRelaySupported()], [
      1,
      true,
      true,
    ]);
    const joinedServer: number[] = [];
    host.peer.addEventListener("peer_connected", (e) => joinedServer.push(e.detail));
    for (let i = 0; i < 3; i++) {
      const c = await joinLobbyGodot4(server.url, host.lobby, {
        ...options,
        channelsConfig: EXTRA,
      });
      clients.push(c);
      assert(c.id >= GODOT4_FIRST_ID, `client id ${c.id}`);
      assertEquals(c.peer.getConnectionStatus(), ConnectionStatus.CONNECTING);
    }
    const [, ...members] = clients;
    await Promise.all(
      members.map((c) =>
        c.peer.getConnectionStatus() === ConnectionStatus.CONNECTED ||
        new Promise((r) => c.peer.addEventListener("connected_to_server", r, { once: true }))
      ),
    );
    await until(() => joinedServer.length === 3, 10000, "server sees 3 clients");
    assertEquals(new Set(joinedServer), new Set(members.map((c) => c.id)));
    // Clients know the server alone.
    for (const c of members) assertEquals([...c.peer.getPeers().keys()], [1]);
    // The server broadcasts on the extra channel; every client answers on the reliable one.
    host.peer.transferChannel = 1;
    assertEquals(host.peer.putPacket(text("hello")), 0);
    const got: string[][] = members.map(() => []);
    await until(
      () => {
        members.forEach((c, i) => drain4(c, got[i]));
        return got.every((g) => g.length === 1);
      },
      5000,
      "broadcast",
    );
    for (const g of got) assertEquals(g, ["1:hello"]);
    for (const c of members) {
      c.peer.targetPeer = 1;
      assertEquals(c.peer.putPacket(text(`from ${c.id}`)), 0);
    }
    const atServer: string[] = [];
    await until(() => (drain4(host, atServer), atServer.length === 3), 5000, "replies");
    assertEquals(new Set(atServer), new Set(members.map((c) => `${c.id}:from ${c.id}`)));
    // A Godot 3 client is refused with a clear reason.
    const refused = await assertRejects(() => joinLobby(server.url, host.lobby, options));
    assertMatch(String(refused), new RegExp(`4000 ${Reasons.CLIENT_SERVER_NEEDS_GODOT4}`));
    // The host leaves: every client loses the server.
    const lost = members.map((c) =>
      new Promise((r) => c.peer.addEventListener("server_disconnected", r, { once: true }))
    );
    await host.close();
    await Promise.all(lost);
    for (const c of members) {
      assertEquals(c.peer.getConnectionStatus(), ConnectionStatus.DISCONNECTED);
      assertEquals((await c.closed).reason, Reasons.HOST_DISCONNECTED);
    }
  } finally {
    await closeAll(clients, server);
  }
});

Deno.test("godot4 mesh lobby: 3 peers form a full mesh", async () => {
  const server = await serveSignalingDeno({ port: 0 });
  const clients: Godot4LobbyClient[] = [];
  try {
    clients.push(await joinLobbyGodot4(server.url, "", options));
    for (let i = 0; i < 2; i++) {
      clients.push(await joinLobbyGodot4(server.url, clients[0].lobby, options));
    }
    await until(() => clients.every((c) => connected(c.peer.getPeers()) === 2), 10000, "mesh");
    for (const c of clients) assertEquals(c.peer.isServerRelaySupported(), false);
    clients[2].peer.putPacket(text("x"));
    const got: string[][] = [[], []];
    await until(
      () => {
        drain4(clients[0], got[0]);
        drain4(clients[1], got[1]);
        return got[0].length + got[1].length === 2;
      },
      5000,
      "broadcast",
    );
    assertEquals(got, [[`${clients[2].id}:x`], [`${clients[2].id}:x`]]);
  } finally {
    await closeAll(clients, server);
  }
});

Deno.test("mixed lobby: Godot 3 and Godot 4 clients form one mesh through one server", async () => {
  const server = await serveSignalingDeno({ port: 0 });
  const g3: LobbyClient[] = [];
  const g4: Godot4LobbyClient[] = [];
  const errors: string[] = [];
  try {
    g3.push(await joinLobby(server.url, "", options)); // the host speaks Godot 3
    const lobby = g3[0].lobby;
    g4.push(await joinLobbyGodot4(server.url, lobby, options));
    g3.push(await joinLobby(server.url, lobby, options));
    g4.push(await joinLobbyGodot4(server.url, lobby, options));
    for (const c of [...g3, ...g4]) {
      c.addEventListener("signaling_error", (e) => errors.push(`${c.id}: ${e.detail.message}`));
    }
    await until(
      () =>
        g3.every((c) => connected(c.mesh.getPeers()) === 3) &&
        g4.every((c) => connected(c.peer.getPeers()) === 3),
      15000,
      () =>
        `full mesh: ${[...g3.map((c) => connected(c.mesh.getPeers()))]} ${[
          ...g4.map((c) => connected(c.peer.getPeers())),
        ]}`,
    );
    // Everyone broadcasts once; everyone receives the three others.
    for (const c of g3) c.mesh.putPacket(text(`g3 ${c.id}`));
    for (const c of g4) c.peer.putPacket(text(`g4 ${c.id}`));
    const got = new Map<number, string[]>([...g3, ...g4].map((c) => [c.id, []]));
    await until(
      () => {
        for (const c of g3) drain3(c, got.get(c.id)!);
        for (const c of g4) drain4(c, got.get(c.id)!);
        return [...got.values()].every((g) => g.length === 3);
      },
      5000,
      "packets",
    );
    const all = [...g3.map((c) => `${c.id}:g3 ${c.id}`), ...g4.map((c) => `${c.id}:g4 ${c.id}`)];
    for (const [id, g] of got) {
      assertEquals(new Set(g), new Set(all.filter((p) => !p.startsWith(`${id}:`))));
    }
    // Negotiation errors: none but the expected ones (none expected).
    assertEquals(errors, []);
  } finally {
    await closeAll([...g4, ...g3], server);
  }
});
