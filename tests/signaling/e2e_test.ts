import { assert, assertEquals, assertMatch, assertRejects } from "@std/assert";
import { createPeerConnection } from "../../adapters/node_datachannel.ts";
import { TransferMode } from "../../core/constants.ts";
import { joinLobby, type LobbyClient } from "../../signaling/client.ts";
import { Reasons } from "../../signaling/protocol.ts";
import { serveSignalingDeno } from "../../signaling/server_deno.ts";
import { raw, until } from "./_raw.ts";

Deno.test("e2e: 4 clients form a full mesh through the server and exchange packets", async () => {
  const server = await serveSignalingDeno({ port: 0 });
  const clients: LobbyClient[] = [];
  try {
    const options = { createPeerConnection };
    clients.push(await joinLobby(server.url, "", options));
    const lobby = clients[0].lobby;
    for (let i = 0; i < 3; i++) clients.push(await joinLobby(server.url, lobby, options));
    assertEquals(clients[0].id, 1);
    assertEquals(new Set(clients.map((c) => c.id)).size, 4);
    const errors: string[] = [];
    for (const c of clients) {
      c.addEventListener("signaling_error", (e) => errors.push(e.detail.message));
    }
    await until(
      () =>
        clients.every((c) =>
          [...c.mesh.getPeers().values()].filter((p) => p.connected).length === 3
        ),
      10000,
      "full mesh",
    );
    // Every client broadcasts one packet per channel; every other client receives all three.
    for (const c of clients) {
      for (
        const mode of [
          TransferMode.RELIABLE,
          TransferMode.UNRELIABLE_ORDERED,
          TransferMode.UNRELIABLE,
        ]
      ) {
        c.mesh.transferMode = mode;
        assertEquals(
          c.mesh.putPacket(new Uint8Array([c.id % 256, mode])),
          0,
          c.mesh.lastError.message,
        );
      }
    }
    await until(
      () => clients.every((c) => c.mesh.getAvailablePacketCount() === 9),
      5000,
      "packets",
    );
    for (const c of clients) {
      const from = new Set<number>();
      while (c.mesh.getAvailablePacketCount() > 0) {
        from.add(c.mesh.getPacketPeer());
        c.mesh.getPacket();
      }
      assertEquals([...from].sort(), clients.filter((o) => o !== c).map((o) => o.id).sort());
    }
    assertEquals(errors, []);
  } finally {
    for (const c of clients) await c.close();
    await server.shutdown();
  }
});

Deno.test("e2e: host leaves -> every member gets server_disconnected and the host reason", async () => {
  const server = await serveSignalingDeno({ port: 0 });
  const clients: LobbyClient[] = [];
  try {
    const options = { createPeerConnection };
    clients.push(await joinLobby(server.url, "", options));
    for (let i = 0; i < 2; i++) {
      clients.push(await joinLobby(server.url, clients[0].lobby, options));
    }
    const members = clients.slice(1);
    const connected = members.map((c) =>
      new Promise((r) => c.mesh.addEventListener("connection_succeeded", r))
    );
    await Promise.all(connected);
    const lost = members.map((c) =>
      new Promise((r) => c.mesh.addEventListener("server_disconnected", r))
    );
    await clients[0].close();
    await Promise.all(lost);
    const reasons = await Promise.all(members.map((c) => c.closed));
    for (const r of reasons) assertEquals(r, { code: 4000, reason: Reasons.HOST_DISCONNECTED });
    assertEquals(server.server.state.lobbies.size, 0);
  } finally {
    for (const c of clients) await c.close();
    await server.shutdown();
  }
});

Deno.test("e2e: protocol violations close only the offender; other lobbies keep working", async () => {
  const server = await serveSignalingDeno({ port: 0 });
  const bystander = raw(server.url);
  const others: ReturnType<typeof raw>[] = [];
  try {
    await bystander.opened;
    bystander.ws.send("J: \n");
    await until(() => bystander.frames.length === 2, 2000, "bystander join");
    const lobby = bystander.frames[1].slice(3, -1);
    const cases: [string[], number, string][] = [
      [["hello"], 4000, Reasons.INVALID_FORMAT],
      [["Z: 1\n"], 4000, Reasons.INVALID_CMD],
      [["J: nosuchlobby\n"], 4000, Reasons.LOBBY_DOES_NOT_EXISTS],
      [["J: \n", "O: 12345\nsdp"], 4000, Reasons.INVALID_DEST],
      [["O: 1\nsdp"], 4000, Reasons.NEED_LOBBY],
      [["J: \n", "O: 1\n" + "x".repeat(65536)], 4000, Reasons.MESSAGE_TOO_BIG],
      [[`J: ${lobby}\n`, "S: \n"], 4000, Reasons.ONLY_HOST_CAN_SEAL],
    ];
    for (const [frames, code, reason] of cases) {
      const c = raw(server.url);
      others.push(c);
      await c.opened;
      for (const f of frames) c.ws.send(f);
      assertEquals(await c.closed, { code, reason }, frames[frames.length - 1].slice(0, 20));
    }
    const bin = raw(server.url);
    others.push(bin);
    await bin.opened;
    bin.ws.send(new Uint8Array([1, 2]));
    assertEquals(await bin.closed, { code: 4000, reason: Reasons.INVALID_TRANSFER_MODE });
    // The bystander's lobby still works: a member joins, gets the host, relays reach the host.
    const member = raw(server.url);
    others.push(member);
    await member.opened;
    member.ws.send(`J: ${lobby}\n`);
    await until(() => member.frames.length === 3, 2000, "member join");
    assertEquals(member.frames[1], "N: 1\n");
    const memberId = Number(member.frames[0].slice(3, -1));
    member.ws.send("O: 1\nv=0");
    await until(() => bystander.frames.includes(`O: ${memberId}\nv=0`), 2000, "relay");
    // Sealed lobby: joining is refused with "Lobby is sealed".
    bystander.ws.send("S: \n");
    await until(() => member.frames.includes("S: \n"), 2000, "seal");
    const late = raw(server.url);
    others.push(late);
    await late.opened;
    late.ws.send(`J: ${lobby}\n`);
    assertEquals(await late.closed, { code: 4000, reason: Reasons.LOBBY_IS_SEALED });
    // A client that never joins is closed after the join timeout (1 s by default).
    const idle = raw(server.url);
    others.push(idle);
    assertEquals(await idle.closed, { code: 4000, reason: Reasons.NO_LOBBY });
    assert(bystander.ws.readyState === WebSocket.OPEN);
  } finally {
    for (const c of [bystander, ...others]) if (c.ws.readyState <= 1) c.ws.close();
    await server.shutdown();
    await Promise.all([bystander, ...others].map((c) => c.closed));
  }
});

Deno.test("e2e: joinLobby rejects with the server's reason for an unknown lobby", async () => {
  const server = await serveSignalingDeno({ port: 0 });
  try {
    const error = await assertRejects(() =>
      joinLobby(server.url, "missing", { createPeerConnection })
    );
    assertMatch(String(error), /4000 Lobby does not exists/);
  } finally {
    await server.shutdown();
  }
});
