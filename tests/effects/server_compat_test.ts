import { assertEquals } from "@std/assert";
import { ConnectionStatus, GodotError } from "../../core/constants.ts";
import { closeAll, cluster, link, until } from "../_mesh.ts";

Deno.test("server compatibility on real connections: gated until peer 1, then server drops", async () => {
  // Client 5 connects to 3 and 7 first, then to the server 1.
  const c = cluster([1, 3, 5, 7], { serverCompatibility: true });
  try {
    const client = c.meshes.get(5)!;
    assertEquals(client.getConnectionStatus(), ConnectionStatus.CONNECTING);
    assertEquals(c.meshes.get(1)!.getConnectionStatus(), ConnectionStatus.CONNECTED);
    await link(c, 5, 3);
    await link(c, 5, 7);
    await until(
      () => client.getPeer(3)?.connected === true && client.getPeer(7)?.connected === true,
      10000,
      "5 connected to 3 and 7",
    );
    // Connected, but nothing announced: peer 1 is not there yet.
    await new Promise((r) => setTimeout(r, 50));
    assertEquals(c.signals.get(5), []);
    assertEquals(client.getConnectionStatus(), ConnectionStatus.CONNECTING);

    await link(c, 5, 1);
    await until(() => c.signals.get(5)!.length === 4, 10000, "announcements");
    assertEquals(c.signals.get(5), [
      "peer_connected(1)",
      "connection_succeeded",
      "peer_connected(3)",
      "peer_connected(7)",
    ]);
    assertEquals(client.getConnectionStatus(), ConnectionStatus.CONNECTED);
    // The server itself is never gated and never emits connection_succeeded.
    await until(() => c.signals.get(1)!.length === 1, 5000, "server sees 5");
    assertEquals(c.signals.get(1), ["peer_connected(5)"]);

    // The server closes its connection to 5: 5 loses the server.
    c.connections.get(1)!.get(5)!.close();
    await until(() => c.signals.get(5)!.length === 6, 15000, "server_disconnected");
    assertEquals(c.signals.get(5)!.slice(4), ["peer_disconnected(1)", "server_disconnected"]);
    assertEquals(client.getConnectionStatus(), ConnectionStatus.DISCONNECTED);
    assertEquals(client.hasPeer(1), false);
    assertEquals(client.putPacket(new Uint8Array([1])), GodotError.ERR_UNCONFIGURED);
  } finally {
    await closeAll(c);
  }
});
