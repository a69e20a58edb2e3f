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
import { GodotError, TransferMode } from "../../core/constants.ts";
import { joinLobby, LobbyClient, type SessionOptions } from "../../signaling/client.ts";
import { joinLobbyGodot4 } from "../../signaling/client_godot4.ts";
import { fetchIceServers } from "../../signaling/ice.ts";
import { createPeerConnection } from "../../adapters/node_datachannel.ts";
import { type ChannelTally, decode, encode, judge, newTally, record } from "../../demo/_wire.ts";
import { lines } from "../../demo/_lines.ts";

// LAB_LOG=Debug (or Verbose, Info...) prints libdatachannel's and libjuice's log on stderr.
const logLevel = Deno.env.get("LAB_LOG");
if (logLevel) {
  const { initLogger } = await import("node-datachannel");
  initLogger(
    logLevel as Parameters<typeof initLogger>[0],
    (level: string, message: string) => console.error(`${level} ${message}`),
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
const out = (value: unknown) => console.log(JSON.stringify(value));
const started = performance.now();
const ms = () => Math.round(performance.now() - started);

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
// The Godot 3 mesh and the Godot 4 peer share everything this peer uses.
const mesh = client instanceof LobbyClient ? client.mesh : client.peer;
const events = mesh as unknown as EventTarget;
out({ type: "joined", id: client.id, lobby: client.lobby });

const tallies = new Map<number, ChannelTally[]>();
const fins = new Map<number, readonly [number, number, number]>();
const tallyOf = (peer: number) => {
  let t = tallies.get(peer);
  if (!t) tallies.set(peer, t = [newTally(), newTally(), newTally()]);
  return t;
};

events.addEventListener("peer_connected", async (e) => {
  const peer = (e as CustomEvent<number>).detail;
  // The selected pair is read from the stack's stats as the connection connects.
  let pair = mesh.stats().peers.get(peer)?.candidatePair;
  for (let i = 0; !pair && i < 50; i++) {
    await new Promise((r) => setTimeout(r, 20));
    pair = mesh.stats().peers.get(peer)?.candidatePair;
  }
  out({ type: "connected", peer, ms: ms(), pair });
  if (Deno.env.get("LAB_TRACE")) {
    const pc = mesh.getPeer(peer)?.connection;
    pc?.addEventListener("connectionstatechange", () => {
      out({ type: "pcstate", state: pc.connectionState, at: Date.now() });
    });
  }
});
events.addEventListener(
  "peer_disconnected",
  (e) =>
    out({
      type: "disconnected",
      peer: (e as CustomEvent<number>).detail,
      ms: ms(),
      at: Date.now(),
    }),
);
events.addEventListener("peer_interrupted", (e) => {
  out({ type: "interrupted", peer: (e as CustomEvent<number>).detail, ms: ms(), at: Date.now() });
});
events.addEventListener("peer_resumed", async (e) => {
  const peer = (e as CustomEvent<number>).detail;
  const at = Date.now();
  await sleep(300); // the new connection's selected pair is read as it connects
  out({ type: "resumed", peer, ms: ms(), at, pair: mesh.stats().peers.get(peer)?.candidatePair });
});
client.addEventListener("signaling_error", (e) => {
  out({ type: "error", message: e.detail.message, peer: e.detail.peerId, ms: ms() });
});

const reading = (async () => {
  for await (const packet of mesh.packets()) {
    // Data packets may carry padding after the demo's 6-byte header (see `size`).
    const p = decode(packet.data[0] === 0 ? packet.data.subarray(0, 6) : packet.data);
    if (p?.kind === "data") record(tallyOf(packet.peerId)[p.channel], p.seq);
    else if (p?.kind === "fin") fins.set(packet.peerId, p.sent);
  }
})();

const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

const totals: [number, number, number] = [0, 0, 0];

async function send(count: number, mode: number, size = 6, spreadMs = 0): Promise<void> {
  const t0 = performance.now();
  let busy = 0;
  mesh.targetPeer = 0;
  for (let seq = 0; seq < count; seq++) {
    mesh.transferMode = mode;
    const bytes = new Uint8Array(Math.max(6, size));
    bytes.set(encode({ kind: "data", channel: mode, seq }));
    while (mesh.putPacket(bytes) === GodotError.ERR_BUSY) {
      busy++;
      await sleep(5);
    }
    if (spreadMs > 0 && seq % 50 === 49) {
      await sleep(Math.max(0, t0 + (spreadMs * (seq + 1)) / count - performance.now()));
    } else if (seq % 200 === 199) await sleep(mode === TransferMode.UNRELIABLE ? 5 : 0);
  }
  // Sequence numbers restart with each send; the fin carries the totals (one send per mode).
  totals[mode] = count;
  mesh.transferMode = TransferMode.RELIABLE;
  mesh.putPacket(encode({ kind: "fin", sent: [...totals] }));
  out({ type: "sent", count, mode, busy, ms: Math.round(performance.now() - t0) });
}

for await (const line of lines(Deno.stdin.readable)) {
  const command = JSON.parse(line) as {
    cmd: string;
    count?: number;
    mode?: number;
    size?: number;
    spreadMs?: number;
  };
  if (command.cmd === "send") {
    await send(command.count ?? 0, command.mode ?? 2, command.size, command.spreadMs);
  } else if (command.cmd === "tally") {
    const from: Record<string, unknown> = {};
    for (const [peer, t] of tallies) {
      const fin = fins.get(peer);
      from[peer] = {
        received: t.map((c) => c.received),
        reordered: t.map((c) => c.reordered),
        fin: fin ?? null,
        problems: fin ? judge(peer, t, fin) : ["no fin yet"],
      };
    }
    out({ type: "tally", from, stats: Object.fromEntries(mesh.stats().peers) });
  } else if (command.cmd === "quit") break;
}

await client.close();
await mesh.whenClosed();
out({ type: "closed", ms: ms() });
await Promise.race([reading, sleep(500)]);
Deno.exit(0);
