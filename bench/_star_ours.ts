/**
 * The star benchmark's processes for this library: `server URL MODE [raw]` is peer 1 of a Godot 4
 * client/server lobby (`createServer` through `joinLobbyGodot4`), `client URL LOBBY MODE FIRST COUNT`
 * holds COUNT clients (`createClient`) numbered FIRST.. in one process. Protocol: `_star_proto.ts`.
 *
 * @module
 */
import { ConnectionStatus, GodotError, TransferMode } from "../core/constants.ts";
import { joinLobbyGodot4 } from "../signaling/client_godot4.ts";
import {
  applySctpSettings,
  ARGS,
  clientStackOf,
  commands,
  decodeTick,
  echoes,
  exit,
  rttSummary,
  runClients,
  say,
  STACK_SETTINGS,
  type StarMode,
  tickFor,
  timeout,
} from "./_star_proto.ts";

const [role, url, ...rest] = ARGS;
// setSctpSettings is node-datachannel's: only for a process that makes its connections with it.
const clientStack = clientStackOf("ours", STACK_SETTINGS.clientStack);
if (role === "server" ? STACK_SETTINGS.stack === "ndc" : clientStack === "ndc") {
  await applySctpSettings();
}

/** Without liveness (`STAR_NO_LIVENESS`): no beacon channel, no beats, as geckos.io has none. */
const meshOptions = STACK_SETTINGS.noLiveness ? { peer: { liveness: false as const } } : {};

function modeOf(mode: string): TransferMode {
  return mode === "reliable" ? TransferMode.RELIABLE : TransferMode.UNRELIABLE;
}

/**
 * `raw` sends each tick with `channel.send` on every client's channel directly (the same
 * connections, lobby and receive path, without `putPacket`): the floor of the send path.
 */
async function server(mode: StarMode, raw: boolean): Promise<void> {
  // The adapter by a literal import (a Node bundle has no other way to it); the other stack's
  // native code is not even loaded.
  const { stack, iceMux } = STACK_SETTINGS;
  const wrtc = stack === "wrtc" ? await import("../adapters/wrtc.ts") : null;
  const ndc = stack === "ndc" ? await import("../adapters/node_datachannel.ts") : null;
  const host = await joinLobbyGodot4(url, "", {
    clientServer: true,
    ...meshOptions,
    createPeerConnection: (config) =>
      wrtc ? wrtc.createPeerConnection(config) : ndc!.createPeerConnection({
        ...config,
        iceUdpMux: iceMux,
      }),
  });
  const peer = host.peer;
  let connected = 0;
  peer.addEventListener("peer_connected", () => connected++);
  peer.addEventListener("peer_disconnected", () => connected--);
  let rtts: number[] = [];
  (async () => {
    for await (const p of peer.packets()) rtts.push(performance.now() - decodeTick(p.data).at);
  })();
  peer.transferMode = modeOf(mode);
  peer.targetPeer = 0;
  say({ ready: true, lobby: host.lobby });
  for await (const line of commands()) {
    const [cmd, arg] = line.split(" ");
    if (cmd === "connected") say({ connected });
    else if (cmd === "go") {
      rtts = [];
      let inPut = 0;
      const index = modeOf(mode) === TransferMode.RELIABLE ? 0 : 2;
      const channels = [...peer.getPeers().values()].map((p) => p.channels[index]);
      const r = await tickFor(Number(arg), (_seq, bytes) => {
        const t = performance.now();
        let ok = true;
        if (raw) { for (const c of channels) c.send(bytes); }
        else ok = peer.putPacket(bytes) === GodotError.OK;
        inPut += performance.now() - t;
        return ok;
      });
      await new Promise((res) => setTimeout(res, 500)); // the last echoes
      // Wall time inside putPacket per peer reached: our JS plus the native send it calls.
      const putUs = (inPut * 1000) / Math.max(1, r.sent * connected);
      say({ done: true, ...r, connected, rtt: rttSummary(rtts), putUs });
    } else if (cmd === "quit") break;
  }
  await host.close();
  await peer.whenClosed();
  exit(0);
}

async function client(lobby: string, mode: StarMode, first: number, count: number): Promise<void> {
  const received = new Array<number>(count).fill(0);
  const closers: (() => Promise<void>)[] = [];
  await runClients(count, received, async (i) => {
    const c = await joinLobbyGodot4(url, lobby, { stack: clientStack, ...meshOptions });
    closers.push(async () => void (await c.close()));
    const peer = c.peer;
    if (peer.getConnectionStatus() !== ConnectionStatus.CONNECTED) {
      await Promise.race([
        new Promise<void>((resolve, reject) => {
          peer.addEventListener("connected_to_server", () => resolve(), { once: true });
          peer.addEventListener("connection_failed", () => reject(new Error("failed")), {
            once: true,
          });
        }),
        timeout(60_000),
      ]);
    }
    peer.transferMode = modeOf(mode);
    peer.targetPeer = 1;
    (async () => {
      for await (const p of peer.packets()) {
        received[i]++;
        if (echoes(decodeTick(p.data).seq, first + i)) peer.putPacket(p.data);
      }
    })();
  }, async () => void (await Promise.all(closers.map((c) => c().catch(() => {})))));
}

if (role === "server") await server(rest[0] as StarMode, rest[1] === "raw");
else await client(rest[0], rest[1] as StarMode, Number(rest[2]), Number(rest[3]));
