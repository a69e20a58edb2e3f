/**
 * A Godot 4 client (`createClient`) in a process of its own, for tests that stop it (SIGSTOP) or
 * kill it. Not a test file.
 *
 * ```sh
 * deno run -A tests/reliability/_star_client.ts <signaling url> <lobby>
 * ```
 *
 * Joins the client/server lobby, prints `{"connected":<id>}` once the server is connected, then
 * reads and counts every packet; closes and exits 0 when its standard input closes.
 *
 * @module
 */
import { joinLobbyGodot4 } from "../../signaling/client_godot4.ts";

const [url, lobby] = Deno.args;
const client = await joinLobbyGodot4(url, lobby);
const peer = client.peer;
if (peer.getConnectionStatus() !== 2) {
  await new Promise((r) => peer.addEventListener("connected_to_server", r, { once: true }));
}
console.log(JSON.stringify({ connected: client.id }));
(async () => {
  for await (const _ of peer.packets()) { /* read, as a healthy client does */ }
})();
for await (const _ of Deno.stdin.readable) { /* until the parent closes our input */ }
await client.close();
await peer.whenClosed();
Deno.exit(0);
