/**
 * One demo peer: joins a lobby through the signaling server, and once connected sends numbered
 * packets on all three channels to every other peer, plus pings for round-trip times.
 *
 * ```sh
 * deno task peer --url ws://127.0.0.1:9080 [--lobby NAME] [--duration 10]
 *   [--stun stun:HOST:PORT] [--turn turn:USER:PASSWORD@HOST:PORT] [--relay-only]
 * deno task peer --help     # every flag with its default
 * ```
 *
 * Without `--lobby` it creates a lobby (and prints its name for the others). `--godot4` speaks
 * Godot 4's protocol and drives a `WebRTCMultiplayerPeer` (`joinLobbyGodot4`); with
 * `--client-server` the lobby it creates is a client/server one (the host is the server, the
 * others connect to it alone). Godot 3 and Godot 4 peers can share a mesh lobby. `--json` (used by
 * `deno task demo`) prints one JSON object per line instead of text, waits for `--expect N` peers
 * in total before sending, sends for `--duration` seconds, then exchanges `fin` packets and
 * reports a verdict; it exits when its standard input says `quit` (or closes).
 *
 * @module
 */
import { TransferMode } from "../core/constants.ts";
import { STACKS } from "../adapters/stack.ts";
import { joinLobby, LobbyClient } from "../signaling/client.ts";
import { type Godot4LobbyClient, joinLobbyGodot4 } from "../signaling/client_godot4.ts";
import {
  boolean,
  integer,
  number,
  oneOf,
  readFlags,
  string,
  webSocketUrl,
} from "../signaling/_flags.ts";
import { checkIceFlags, ICE_FLAGS, iceFlags, type IceFlagValues } from "../signaling/_ice_flags.ts";
import { iceOptionsFromFlags } from "../signaling/ice.ts";
import { pairTypes } from "../effects/candidate_pair.ts";
import { type ChannelTally, decode, encode, judge, newTally, record } from "./_wire.ts";

/** One status report, as printed in `--json` mode. */
export interface PeerStatus {
  type: "status";
  id: number;
  lobby: string;
  /** Connected peer ids. */
  peers: number[];
  /** Data packets received / sent, by transfer mode [unreliable, ordered, reliable]. */
  in: [number, number, number];
  out: [number, number, number];
  /** Mean round-trip time over the last pings, ms (-1 before any). */
  rtt: number;
  /** How many peers it connects to: all the others, or in a client/server lobby 1 (clients). */
  wants: number;
  phase: "joining" | "connecting" | "sending" | "finishing" | "done" | "failed";
}

/** The final verdict, as printed in `--json` mode. */
export interface PeerResult {
  type: "result";
  id: number;
  ok: boolean;
  problems: string[];
  /** Per sender: [received, sent] per channel [unreliable, ordered, reliable]. */
  from: Record<string, [number, number][]>;
  in: [number, number, number];
  out: [number, number, number];
  rtt: number;
  /** Per peer: the selected ICE candidate pair's types, ours first (`"srflx↔relay"`). */
  pairs?: Record<string, string>;
  /** How many peers it was to connect to (see {@link PeerStatus.wants}). */
  wants: number;
}

/** `deno task peer`'s command line. */
export const PEER_COMMAND = {
  name: "deno task peer",
  summary: "One demo peer: joins (or creates) a lobby and sends numbered packets on all three\n" +
    "channels to every other peer, printing what arrives, until Ctrl-C.",
  flags: {
    url: string("the signaling server (required)", undefined, "URL", webSocketUrl),
    lobby: string("lobby to join; empty creates one", "", "NAME"),
    duration: number("seconds of sending; 0 sends until stopped", {
      default: 0,
      min: 0,
      max: 86400,
      valueName: "SECONDS",
    }),
    interval: integer("milliseconds between packets", {
      default: 20,
      min: 1,
      max: 60000,
      valueName: "MS",
    }),
    stack: oneOf("WebRTC stack: node-datachannel or @roamhq/wrtc (libwebrtc)", STACKS, "ndc"),
    json: boolean("print JSON lines and quit on 'quit' from stdin (as deno task demo runs it)"),
    godot4: boolean("speak Godot 4's protocol and drive a WebRTCMultiplayerPeer"),
    "client-server": boolean(
      "with --godot4, when creating a lobby: a client/server one (the host is the server)",
    ),
    expect: integer("peers in total to wait for before sending, then report a verdict", {
      min: 1,
      max: 256,
    }),
    "connect-timeout": number("seconds to wait for --expect peers", {
      default: 20,
      min: 0,
      max: 600,
      aboveMin: true,
      valueName: "SECONDS",
    }),
    ...ICE_FLAGS,
  },
  check: (
    values: { url: string | undefined; godot4: boolean; "client-server": boolean } & IceFlagValues,
  ) =>
    values.url === undefined
      ? "--url is required"
      : values["client-server"] && !values.godot4
      ? "--client-server needs --godot4 (Godot 3's protocol has no client/server lobbies)"
      : checkIceFlags(values),
};

const args = readFlags(PEER_COMMAND, Deno.args, { exit: Deno.exit });
const url = args.url!;
const json = args.json;
const expect = args.expect;
const durationMs = args.duration * 1000;
const intervalMs = args.interval;
const connectTimeoutMs = args["connect-timeout"] * 1000;

function out(value: unknown): void {
  if (json) console.log(JSON.stringify(value));
}
function say(text: string): void {
  if (json) out({ type: "log", text });
  else console.log(text);
}

let client: LobbyClient | Godot4LobbyClient;
try {
  // The ICE options (--stun/--turn/--relay-only) apply to both protocols alike.
  const ice = iceOptionsFromFlags(iceFlags(args));
  client = args.godot4
    ? await joinLobbyGodot4(url, args.lobby, {
      stack: args.stack,
      clientServer: args["client-server"],
      ...ice,
    })
    : await joinLobby(url, args.lobby, { stack: args.stack, ...ice });
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  out({
    type: "result",
    id: 0,
    ok: false,
    problems: [message],
    from: {},
    in: [0, 0, 0],
    out: [0, 0, 0],
    rtt: -1,
    wants: 0,
  });
  if (!json) console.error(message);
  Deno.exit(1);
}
// The Godot 3 mesh and the Godot 4 peer share what this demo uses; a Godot 4 packet's transfer
// mode is `mode` (its `channel` is Godot 4's channel number, 0 for the three reserved ones).
const mesh = client instanceof LobbyClient ? client.mesh : client.peer;
const events = mesh as unknown as EventTarget;
const modeOf = (packet: { channel: number; mode?: TransferMode }) => packet.mode ?? packet.channel;
const id = client.id;
// A Godot 4 server or client (not a mesh peer) is in a client/server lobby: clients connect to the
// host alone.
const clientServer = !(client instanceof LobbyClient) && client.peer.isServerRelaySupported();
const wants = expect === undefined ? 0 : clientServer && id !== 1 ? 1 : expect - 1;
out({ type: "joined", id, lobby: client.lobby });
if (!json) {
  console.log(`joined lobby ${client.lobby} as peer ${id}`);
  if (id === 1) {
    console.log(`others join with: deno task peer --url ${url} --lobby ${client.lobby}`);
  }
}

const connected = new Set<number>();
const everConnected = new Set<number>();
const tallies = new Map<number, ChannelTally[]>();
const fins = new Map<number, [number, number, number]>();
const sent: [number, number, number] = [0, 0, 0]; // broadcasts (= sequence numbers) per channel
const delivered: [number, number, number] = [0, 0, 0]; // packets handed to the mesh, per destination
const received: [number, number, number] = [0, 0, 0];
const rtts: number[] = [];
const problems: string[] = [];
let phase: PeerStatus["phase"] = "connecting";

const peerOf = (e: Event) => (e as CustomEvent<number>).detail;
events.addEventListener("peer_connected", (e) => {
  connected.add(peerOf(e));
  everConnected.add(peerOf(e));
  say(`peer ${peerOf(e)} connected`);
});
events.addEventListener("peer_disconnected", (e) => {
  connected.delete(peerOf(e));
  say(`peer ${peerOf(e)} disconnected`);
});
events.addEventListener("server_disconnected", () => say("server (peer 1) disconnected"));
client.addEventListener("signaling_error", (e) => {
  say(`signaling error: ${e.detail.message}`);
});
client.addEventListener("disconnected", (e) => {
  if (phase !== "done") say(`signaling closed: ${e.detail.code} ${e.detail.reason}`);
});

function tallyOf(peer: number): ChannelTally[] {
  let t = tallies.get(peer);
  if (!t) tallies.set(peer, t = [newTally(), newTally(), newTally()]);
  return t;
}

function sendTo(target: number, mode: TransferMode, bytes: Uint8Array): boolean {
  mesh.targetPeer = target;
  mesh.transferMode = mode;
  return mesh.putPacket(bytes) === 0;
}

// Receive loop: event-driven through packets().
const stopReading = new AbortController();
const reading = (async () => {
  for await (const packet of mesh.packets(stopReading.signal)) {
    const p = decode(packet.data);
    if (!p) continue;
    const mode = modeOf(packet);
    switch (p.kind) {
      case "data":
        if (p.channel !== mode) problems.push(`packet for channel ${p.channel} on ${mode}`);
        received[mode]++;
        record(tallyOf(packet.peerId)[mode], p.seq);
        break;
      case "ping":
        sendTo(packet.peerId, TransferMode.RELIABLE, encode({ kind: "pong", time: p.time }));
        break;
      case "pong":
        rtts.push(performance.now() - p.time);
        if (rtts.length > 20) rtts.shift();
        break;
      case "fin":
        fins.set(packet.peerId, [...p.sent]);
        break;
    }
  }
})();

function rtt(): number {
  return rtts.length === 0 ? -1 : rtts.reduce((a, b) => a + b, 0) / rtts.length;
}

function status(): PeerStatus {
  return {
    type: "status",
    id,
    lobby: client.lobby,
    peers: [...connected].sort((a, b) => a - b),
    in: [...received],
    out: [...delivered],
    rtt: Math.round(rtt() * 100) / 100,
    wants,
    phase,
  };
}

const statusTimer = setInterval(() => {
  if (json) out(status());
  else {
    const s = status();
    console.log(
      `peers ${s.peers.length} [${s.peers.join(",")}] in u/o/r ${s.in.join("/")} ` +
        `out ${s.out.join("/")} rtt ${s.rtt < 0 ? "-" : s.rtt.toFixed(2) + " ms"}`,
    );
  }
}, json ? 200 : 1000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let quitting = false;

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const until = performance.now() + ms;
  while (!cond() && !quitting) {
    if (performance.now() > until) return false;
    await sleep(10);
  }
  return cond();
}

// Standalone: stop on Ctrl-C. Demo: stop on "quit" (or EOF) on stdin.
const quit = Promise.withResolvers<void>();
if (json) {
  (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of Deno.stdin.readable) {
      if (decoder.decode(chunk).includes("quit")) break;
    }
    quitting = true;
    quit.resolve();
  })();
} else {
  Deno.addSignalListener("SIGINT", () => {
    quitting = true;
    quit.resolve();
  });
}

async function sendLoop(): Promise<void> {
  const started = performance.now();
  let lastPing = 0;
  while (!quitting && (durationMs <= 0 || performance.now() - started < durationMs)) {
    if (connected.size > 0) {
      for (
        const mode of [
          TransferMode.UNRELIABLE,
          TransferMode.UNRELIABLE_ORDERED,
          TransferMode.RELIABLE,
        ]
      ) {
        if (sendTo(0, mode, encode({ kind: "data", channel: mode, seq: sent[mode] }))) {
          sent[mode]++;
          delivered[mode] += connected.size;
        }
      }
      if (performance.now() - lastPing > 100) {
        lastPing = performance.now();
        sendTo(0, TransferMode.RELIABLE, encode({ kind: "ping", time: performance.now() }));
      }
    }
    await sleep(intervalMs);
  }
}

if (expect === undefined) {
  // Standalone: send to whoever is there until stopped.
  phase = "sending";
  await Promise.race([sendLoop(), quit.promise]);
  quitting = true;
} else {
  const others = wants;
  if (!(await waitFor(() => connected.size >= others, connectTimeoutMs))) {
    problems.push(
      `only ${connected.size} of ${others} peers connected within ${connectTimeoutMs / 1000} s`,
    );
  } else {
    phase = "sending";
    await sendLoop();
    phase = "finishing";
    // Broadcast sends to every connected peer, so each one got the same counts.
    sendTo(0, TransferMode.RELIABLE, encode({ kind: "fin", sent: [...sent] }));
    const gotFins = await waitFor(() => [...everConnected].every((p) => fins.has(p)), 10000);
    if (!gotFins) {
      problems.push(`no fin from ${[...everConnected].filter((p) => !fins.has(p)).join(", ")}`);
    }
    await sleep(300); // lossy channels are not ordered with the reliable fin: let stragglers land
    for (const peer of everConnected) {
      const fin = fins.get(peer);
      if (fin) problems.push(...judge(peer, tallyOf(peer), fin));
    }
    if (everConnected.size < others) problems.push(`saw ${everConnected.size} of ${others} peers`);
  }
  phase = problems.length === 0 ? "done" : "failed";
  const from: Record<string, [number, number][]> = {};
  for (const peer of [...everConnected].sort((a, b) => a - b)) {
    const fin = fins.get(peer) ?? [0, 0, 0];
    from[peer] = tallyOf(peer).map((t, ch) => [t.received, fin[ch]]);
  }
  const result: PeerResult = {
    type: "result",
    id,
    ok: problems.length === 0,
    problems,
    from,
    in: [...received],
    out: [...delivered],
    rtt: Math.round(rtt() * 100) / 100,
    pairs: Object.fromEntries(
      [...mesh.stats().peers].map(([peer, s]) => [peer, pairTypes(s.candidatePair)]),
    ),
    wants,
  };
  out(status());
  out(result);
  await Promise.race([quit.promise, sleep(30000)]);
}

clearInterval(statusTimer);
stopReading.abort();
await client.close();
await reading;
if (!json) console.log("closed");
Deno.exit(problems.length === 0 ? 0 : 1);
