/**
 * Item 3 of issue 8: under server compatibility, the host (peer 1) dies: every client gets
 * `server_disconnected`, status `DISCONNECTED`, packets are refused with `ERR_UNCONFIGURED`; then
 * re-initializing (a new lobby, the same mesh objects) works. The host is a separate process
 * killed with SIGKILL; the signaling server notices first. (When only WebRTC can notice, see
 * peer_faults_test.ts.)
 */
import { assert, assertEquals } from "@std/assert";
import { createPeerConnection } from "../_stack.ts";
import { ConnectionStatus, GodotError } from "../../core/constants.ts";
import { joinLobby, type LobbyClient } from "../../signaling/client.ts";
import { Reasons } from "../../signaling/protocol.ts";
import { serveSignalingDeno } from "../../signaling/server_deno.ts";
import { recordSignals, until } from "../_mesh.ts";

const connectedTo = (c: LobbyClient, n: number) =>
  [...c.mesh.getPeers().values()].filter((p) => p.connected).length === n;

Deno.test("host process killed: server_disconnected on every client, DISCONNECTED, ERR_UNCONFIGURED; re-join works", async () => {
  const server = await serveSignalingDeno({ port: 0 });
  const host = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./_lobby_host.ts", import.meta.url).pathname, server.url],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = host.stdout.getReader();
  const clients: LobbyClient[] = [];
  try {
    const line = new TextDecoder().decode((await stdout.read()).value);
    const lobby = line.trim();
    assertEquals(lobby.length, 16, line);
    const options = { createPeerConnection };
    for (let i = 0; i < 3; i++) clients.push(await joinLobby(server.url, lobby, options));
    const logs = clients.map((c) => recordSignals(c.mesh));
    await until(() => clients.every((c) => connectedTo(c, 3)), 15000, "full mesh");
    for (const c of clients) assertEquals(c.mesh.getConnectionStatus(), ConnectionStatus.CONNECTED);
    const lost = clients.map((c) =>
      new Promise((r) => c.mesh.addEventListener("server_disconnected", r, { once: true }))
    );
    host.kill("SIGKILL");
    assertEquals((await host.status).signal, "SIGKILL");
    await Promise.all(lost);
    for (const [i, c] of clients.entries()) {
      assertEquals(await c.closed, { code: 4000, reason: Reasons.HOST_DISCONNECTED });
      assertEquals(logs[i].slice(-2), ["peer_disconnected(1)", "server_disconnected"]);
      assertEquals(c.mesh.getConnectionStatus(), ConnectionStatus.DISCONNECTED);
      assertEquals(c.mesh.putPacket(new Uint8Array([1])), GodotError.ERR_UNCONFIGURED);
      assert(c.mesh.lastError.message.includes("initialize"), c.mesh.lastError.message);
      assertEquals(c.mesh.getPeers().size, 0, "the lobby was not sealed: the mesh is closed");
      await c.mesh.whenClosed();
    }
    assertEquals(server.server.state.lobbies.size, 0);

    // Re-initialize and re-join: the first client hosts a new lobby, the others join it, with
    // the same mesh objects.
    const meshes = clients.map((c) => c.mesh);
    clients.length = 0;
    clients.push(await joinLobby(server.url, "", { createPeerConnection, mesh: meshes[0] }));
    for (const m of meshes.slice(1)) {
      clients.push(
        await joinLobby(server.url, clients[0].lobby, { createPeerConnection, mesh: m }),
      );
    }
    await until(() => clients.every((c) => connectedTo(c, 2)), 15000, "new full mesh");
    for (const c of clients) assertEquals(c.mesh.getConnectionStatus(), ConnectionStatus.CONNECTED);
    assertEquals(clients[0].mesh.getUniqueId(), 1);
    assertEquals(clients[1].mesh.putPacket(new Uint8Array([7])), GodotError.OK);
    await until(() => clients[0].mesh.getAvailablePacketCount() === 1, 5000, "packet");
    assertEquals([...clients[0].mesh.getPacket()!], [7]);
    const again = logs[1].slice(logs[1].indexOf("server_disconnected") + 1);
    assertEquals(again.slice(0, 2), ["peer_connected(1)", "connection_succeeded"]);
  } finally {
    try {
      host.kill("SIGKILL");
    } catch {
      // already gone
    }
    await host.status;
    stdout.releaseLock();
    await host.stdout.cancel();
    await host.stderr.cancel();
    for (const c of clients) await c.close();
    await Promise.all(clients.map((c) => c.mesh.whenClosed()));
    await server.shutdown();
  }
});
