/**
 * A lobby host in a process of its own, for fault tests that kill it: creates a lobby on the
 * server given as the first argument, prints its name, and stays until its standard input closes.
 * Not a test file.
 *
 * @module
 */
import { createPeerConnection } from "../_stack.ts";
import { joinLobby } from "../../signaling/client.ts";

const host = await joinLobby(Deno.args[0], "", { createPeerConnection });
console.log(host.lobby);
for await (const _ of Deno.stdin.readable) {
  // wait for the end of the input
}
await host.close();
await host.mesh.whenClosed();
