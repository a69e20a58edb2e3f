/**
 * The client sets up again a connection that fails before it ever connected (fault injection: a
 * spoiled fingerprint makes the stack's own DTLS handshake fail, like libdatachannel's rare setup
 * failures).
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import {
  createPeerConnection,
  type NodePeerConnection,
  type PeerConnectionConfig,
} from "../../adapters/node_datachannel.ts";
import { GodotError, TransferMode } from "../../core/constants.ts";
import { joinLobby, type LobbyClient } from "../../signaling/client.ts";
import { type Godot4LobbyClient, joinLobbyGodot4 } from "../../signaling/client_godot4.ts";
import { serveSignalingDeno } from "../../signaling/server_deno.ts";
import { until } from "./_raw.ts";

/**
 * A factory whose first `failing` connections fail in the stack itself: the answer they are given
 * carries a wrong DTLS fingerprint, so libdatachannel's handshake fails ("certificate verify
 * failed") and the connection goes to `"failed"`, as in the rare race where the handshake
 * overtakes the remote description.
 */
function sabotaged(failing: number) {
  const made: NodePeerConnection[] = [];
  const factory = (config: PeerConnectionConfig) => {
    const pc = createPeerConnection(config);
    made.push(pc);
    if (made.length <= failing) {
      const setRemote = pc.setRemoteDescription.bind(pc);
      pc.setRemoteDescription = (description) => {
        if (description.type !== "answer") return setRemote(description);
        const sdp = description.sdp!.replace(
          /(a=fingerprint:\S+ )([0-9A-F])/,
          (_: string, head: string, digit: string) => head + (digit === "0" ? "1" : "0"),
        );
        if (sdp === description.sdp) throw new Error("no fingerprint to spoil");
        return setRemote({ type: "answer", sdp });
      };
    }
    return pc;
  };
  return { made, factory };
}

function record(c: LobbyClient) {
  const signals: string[] = [];
  const errors: string[] = [];
  for (const name of ["peer_connected", "peer_disconnected"] as const) {
    c.mesh.addEventListener(name, (e) => signals.push(`${name}:${e.detail}`));
  }
  c.addEventListener("signaling_error", (e) => errors.push(e.detail.message));
  return { signals, errors };
}

async function leave(clients: LobbyClient[]) {
  for (const c of clients) {
    await c.close();
    await c.mesh.whenClosed();
  }
}

Deno.test("a connection that fails during setup is set up again; the mesh forms", async () => {
  const server = await serveSignalingDeno({ port: 0 });
  const host = sabotaged(2); // the host (id 1) offers to everyone: its first two attempts die
  const clients: LobbyClient[] = [];
  try {
    clients.push(await joinLobby(server.url, "", { createPeerConnection: host.factory }));
    const hostLog = record(clients[0]);
    const joined = await joinLobby(server.url, clients[0].lobby, { createPeerConnection });
    clients.push(joined);
    const joinerLog = record(joined);
    await until(
      () =>
        clients.every((c) =>
          c.mesh.getPeers().size === 1 &&
          c.mesh.getPeer(c === joined ? 1 : joined.id)?.connected === true
        ),
      15000,
      () =>
        `the pair connected (host: ${hostLog.errors.join("; ")}; ${
          host.made.map((pc) => pc.connectionState)
        }; joiner: ${joinerLog.errors.join("; ")})`,
    );
    // Three connections on each side: two failed setups, then the one that works.
    assertEquals(host.made.length, 3);
    assert(host.made.slice(0, 2).every((pc) => ["failed", "closed"].includes(pc.connectionState)));
    assertEquals(host.made[2].connectionState, "connected");
    assertEquals(hostLog.errors.length, 2, hostLog.errors.join("; "));
    assert(hostLog.errors.every((e) => e.includes("setting it up again")), hostLog.errors[0]);
    // Failed setups were never announced: one peer_connected each, no peer_disconnected.
    assertEquals(hostLog.signals, [`peer_connected:${joined.id}`]);
    assertEquals(joinerLog.signals, ["peer_connected:1"]);
    // And the link works.
    clients[0].mesh.transferMode = TransferMode.RELIABLE;
    assertEquals(clients[0].mesh.putPacket(new Uint8Array([7])), GodotError.OK);
    await until(() => joined.mesh.getAvailablePacketCount() === 1, 5000, "the packet");
    assertEquals([...joined.mesh.getPacket()!], [7]);
  } finally {
    await leave(clients);
    await server.shutdown();
  }
});

Deno.test("setupAttempts bounds the retries; then the peer is given up with a reason", async () => {
  const server = await serveSignalingDeno({ port: 0 });
  const host = sabotaged(Infinity);
  const clients: LobbyClient[] = [];
  try {
    clients.push(
      await joinLobby(server.url, "", { createPeerConnection: host.factory, setupAttempts: 2 }),
    );
    const hostLog = record(clients[0]);
    clients.push(await joinLobby(server.url, clients[0].lobby, { createPeerConnection }));
    await until(
      () => hostLog.errors.some((e) => e.includes("giving up")),
      15000,
      () =>
        `giving up (${hostLog.errors.join("; ")}; ${host.made.map((pc) => pc.connectionState)})`,
    );
    assertEquals(host.made.length, 2);
    assertMatch(
      hostLog.errors.at(-1) ?? "",
      new RegExp(
        `^connection to peer ${
          clients[1].id
        } failed 2 times \\(last: \\w+ during setup\\); giving up$`,
      ),
    );
    assertEquals(clients[0].mesh.getPeers().size, 0);
    assertEquals(hostLog.signals, []);
    // Nothing more is tried.
    await new Promise((r) => setTimeout(r, 300));
    assertEquals(host.made.length, 2);
  } finally {
    await leave(clients);
    await server.shutdown();
  }
});

Deno.test("Godot 4 and mixed pairs: the offering side sets up again, the other answers", async () => {
  const server = await serveSignalingDeno({ port: 0 });
  const closing: (LobbyClient | Godot4LobbyClient)[] = [];
  try {
    // Godot 4 mesh: the member (the higher id) offers; its first two setups die.
    const member4 = sabotaged(2);
    const host4 = await joinLobbyGodot4(server.url, "", { createPeerConnection });
    closing.push(host4);
    const joined4 = await joinLobbyGodot4(server.url, host4.lobby, {
      createPeerConnection: member4.factory,
    });
    closing.push(joined4);
    // Mixed: a Godot 3 host offers to a Godot 4 member (whose own offer the server drops); the
    // host's first two setups die, and the member answers each new offer from a fresh connection.
    const host3 = sabotaged(2);
    const mixedHost = await joinLobby(server.url, "", { createPeerConnection: host3.factory });
    closing.push(mixedHost);
    const mixedMember = await joinLobbyGodot4(server.url, mixedHost.lobby, {
      createPeerConnection,
    });
    closing.push(mixedMember);
    await until(
      () =>
        joined4.peer.getPeer(1)?.connected === true &&
        host4.peer.getPeer(joined4.id)?.connected === true &&
        mixedHost.mesh.getPeer(mixedMember.id)?.connected === true &&
        mixedMember.peer.getPeer(1)?.connected === true,
      20000,
      () =>
        `both pairs connected (${member4.made.map((pc) => pc.connectionState)}; ${
          host3.made.map((pc) => pc.connectionState)
        })`,
    );
    assertEquals([member4.made.length, host3.made.length], [3, 3]);
    for (const c of [host4, joined4, mixedHost, mixedMember]) {
      assertEquals(c.sealed, false);
    }
  } finally {
    for (const c of closing.reverse()) {
      await c.close();
      await ("peer" in c ? c.peer : c.mesh).whenClosed();
    }
    await server.shutdown();
  }
});
