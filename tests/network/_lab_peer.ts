/**
 * A peer for the lab scenarios, run inside a lab namespace: joins a lobby with the ICE options it
 * is given and reports, one JSON object per line on stdout, what happened:
 *
 * - `{"type":"joined","id","lobby"}`
 * - `{"type":"connected","peer","ms","pair"}`: `ms` since the join, `pair` the selected candidate
 *   pair from `mesh.stats()` (types host/srflx/prflx/relay).
 * - `{"type":"error","message","ms"}`: the client's `signaling_error` events (retries, giving up).
 * - `{"type":"interrupted"|"resumed","peer","ms","at","pair"?}`: reconnect's `peer_interrupted` and
 *   `peer_resumed` (`at`: `Date.now()`; `pair`: the selected pair after the resume).
 * - `{"type":"sent",...}`, `{"type":"tally",...}`, `{"type":"closed"}` in answer to commands.
 *
 * Commands, one JSON object per line on stdin: `{"cmd":"send","count","mode":0|2,"size"?}`
 * sends `count` numbered data packets of `size` bytes (default 6, the demo's header; more is
 * padding; `spreadMs`: spread over about that long) to every peer (reliable: waits out
 * `ERR_BUSY`), then a reliable `fin` with the totals
 * of every send so far (one send per mode); `{"cmd":"tally"}` reports what arrived from each peer,
 * judged by the demo's rules once its `fin` arrived; `{"cmd":"quit"}` closes everything and exits.
 *
 * Usage: `_lab_peer.ts '<JSON {url, lobby?, options, iceFromServer?, godot4?}>'` (options as
 * `joinLobby` takes them; `iceFromServer` fetches `iceServers` from the signaling server's
 * `/ice-servers`; `godot4` joins with `joinLobbyGodot4`, the same options, and drives a
 * `WebRTCMultiplayerPeer` mesh).
 *
 * @module
 */
import { joinLobby, LobbyClient, type SessionOptions } from "../../signaling/client.ts";
import { joinLobbyGodot4 } from "../../signaling/client_godot4.ts";
import { fetchIceServers } from "../../signaling/ice.ts";
import { createPeerConnection } from "../../adapters/node_datachannel.ts";
import { lines } from "../../demo/_lines.ts";
import { labAgent, type LabCommand } from "./_lab_agent.ts";

/** The origin of every `ms` this peer reports, events and stack log lines alike. */
const started = performance.now();
const ms = () => Math.round(performance.now() - started);

// LAB_LOG=Debug (or Verbose, Info...) prints libdatachannel's and libjuice's log on stderr, each
// line led by `ms()`.
const logLevel = Deno.env.get("LAB_LOG");
if (logLevel) {
  const { initLogger } = await import("node-datachannel");
  initLogger(
    logLevel as Parameters<typeof initLogger>[0],
    (level: string, message: string) => console.error(`${ms()} ${level} ${message}`),
  );
}

const config = JSON.parse(Deno.args[0]) as {
  url: string;
  lobby?: string;
  options?: SessionOptions;
  /** Ask the signaling server for ICE servers (time-limited TURN credentials) first. */
  iceFromServer?: boolean;
  /** Speak Godot 4's protocol (`joinLobbyGodot4`, a mesh lobby). */
  godot4?: boolean;
};
if (config.iceFromServer) {
  config.options = { ...config.options, iceServers: await fetchIceServers(config.url) };
}
const out = (value: Record<string, unknown>) => console.log(JSON.stringify(value));

let client;
try {
  // node-datachannel unless the options name a stack.
  const options = config.options?.stack
    ? config.options
    : { createPeerConnection, ...config.options };
  client = config.godot4
    ? await joinLobbyGodot4(config.url, config.lobby ?? "", options)
    : await joinLobby(config.url, config.lobby ?? "", options);
} catch (error) {
  out({ type: "join_failed", message: String(error), code: (error as { code?: number }).code });
  Deno.exit(1);
}
out({ type: "joined", id: client.id, lobby: client.lobby });
const mesh = client instanceof LobbyClient ? client.mesh : client.peer;
const agent = labAgent(client, out, started, Boolean(Deno.env.get("LAB_TRACE")));

for await (const line of lines(Deno.stdin.readable)) {
  const command = JSON.parse(line) as LabCommand;
  if (command.cmd === "quit") break;
  await agent.run(command);
}

await client.close();
await mesh.whenClosed();
out({ type: "closed", ms: ms() });
await Promise.race([agent.reading, new Promise((r) => setTimeout(r, 500))]);
Deno.exit(0);
