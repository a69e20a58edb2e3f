/**
 * `deno task demo --godot4 --scene`: a TypeScript authoritative server for Godot 4 games, and TS
 * bot clients showing it working. A Godot-4-compatible signaling server runs on `--port`; the TS
 * server creates a client/server lobby (it is peer 1) and speaks Godot's SceneMultiplayer
 * protocol: password authentication, relay between clients, RPCs on the node `/root/Game`, raw
 * bytes. `--peers` bots join, authenticate, move, chat and greet each other through the relay;
 * the demo exits 0 only if every bot saw everything it should have.
 *
 * A Godot 4 project can join the same lobby while it runs (README: "Host Godot 4 games"): the node
 * `/root/Game` with the same four `@rpc` functions, `multiplayer.auth_callback` sending the
 * password, and the signaling URL and lobby the demo prints.
 *
 * @module
 */
import { createPeerConnection } from "../adapters/node_datachannel.ts";
import { TransferMode } from "../core/constants.ts";
import { type Godot4LobbyClient, joinLobbyGodot4 } from "../signaling/client_godot4.ts";
import { serveSignalingDeno } from "../signaling/server_deno.ts";
import { SceneMultiplayer } from "../scene/multiplayer.ts";
import { RpcMode } from "../scene/rpc.ts";
import type { Variant } from "../scene/variant.ts";
import { Vector2 } from "../scene/variant.ts";

/** The RPC node every side registers: `/root/Game`, whose path relative to `/root` is "Game". */
export const GAME_PATH = "Game";
/** The password the server's auth callback expects; it answers "welcome". */
export const PASSWORD = "godot";

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

/** What one bot saw. */
interface Bot {
  readonly session: Godot4LobbyClient;
  readonly mp: SceneMultiplayer;
  id: number;
  admitted: boolean;
  welcome?: string;
  states: number;
  lastState: ReadonlyMap<Variant, Variant>;
  readonly chats: Set<number>;
  readonly greetings: Set<number>;
}

/** Options of {@link runSceneDemo}. */
export interface SceneDemoOptions {
  /** Number of bot clients. */
  bots: number;
  /** Seconds of play after every bot joined. */
  duration: number;
  /** Signaling port (0 picks a free one). */
  port: number;
  /** Interface the signaling server binds. */
  hostname: string;
  /** Where to print. */
  log?: (line: string) => void;
}

/** Runs the demo; resolves to the exit code. */
export async function runSceneDemo(o: SceneDemoOptions): Promise<number> {
  const log = o.log ?? ((l: string) => console.log(l));
  const signaling = await serveSignalingDeno({ port: o.port, hostname: o.hostname });
  const bots: Bot[] = [];
  let host: Godot4LobbyClient | undefined;
  let server: SceneMultiplayer | undefined;
  const problems: string[] = [];
  try {
    // --- The authoritative server: peer 1 of a client/server lobby. ---
    host = await joinLobbyGodot4(signaling.url, "", { createPeerConnection, clientServer: true });
    const positions = new Map<number, Vector2>();
    const moves = new Map<number, number>();
    const mp = new SceneMultiplayer(host.peer, {
      authCallback: (id, data) => {
        if (str(data) !== PASSWORD) return log(`server: peer ${id} gave a wrong password`);
        mp.sendAuth(id, text("welcome"));
        mp.completeAuth(id);
      },
      log: (m) => log(`server: ${m}`),
    });
    server = mp;
    mp.registerRpc(GAME_PATH, {
      chat: {
        mode: RpcMode.ANY_PEER,
        handler: ([msg], from) => log(`server: chat from ${from}: ${msg}`),
      },
      move: {
        mode: RpcMode.ANY_PEER,
        transferMode: TransferMode.UNRELIABLE_ORDERED,
        handler: ([pos], from) => {
          if (!(pos instanceof Vector2)) return;
          positions.set(from, pos);
          moves.set(from, (moves.get(from) ?? 0) + 1);
        },
      },
      state: { transferMode: TransferMode.UNRELIABLE_ORDERED },
      welcome: {},
    });
    mp.addEventListener("peer_connected", (e) => {
      log(`server: peer ${e.detail} admitted`);
      mp.rpcId(e.detail, GAME_PATH, "welcome", [e.detail, "Welcome to a TypeScript server"]);
    });
    mp.addEventListener("peer_disconnected", (e) => {
      positions.delete(e.detail);
      log(`server: peer ${e.detail} left`);
    });
    mp.addEventListener("peer_authentication_failed", (e) => {
      log(`server: peer ${e.detail} failed authentication`);
    });
    const tick = setInterval(() => {
      if (positions.size > 0) mp.rpc(GAME_PATH, "state", [new Map<Variant, Variant>(positions)]);
    }, 100);
    log(`signaling ${signaling.url}, lobby "${host.lobby}", RPC node /root/${GAME_PATH}`);
    log(`password "${PASSWORD}"; ${o.bots} bots joining`);

    // --- The bots: TS clients of the same lobby. ---
    for (let i = 0; i < o.bots; i++) bots.push(await joinBot(signaling.url, host.lobby, log));
    const deadline = performance.now() + 20000;
    while (
      bots.some((b) => !b.admitted || b.mp.getPeers().length < o.bots) &&
      performance.now() < deadline
    ) await new Promise((r) => setTimeout(r, 50));
    for (const b of bots) {
      b.id = b.mp.getUniqueId();
      b.mp.rpc(GAME_PATH, "chat", [`hello from bot ${b.id}`]);
      b.mp.sendBytes(text(`greetings from ${b.id}`));
    }
    const play = setInterval(() => {
      for (const [n, b] of bots.entries()) {
        const t = performance.now() / 1000;
        b.mp.rpcId(1, GAME_PATH, "move", [
          new Vector2(Math.cos(t + n) * 100, Math.sin(t + n) * 100),
        ]);
      }
    }, 50);
    await new Promise((r) => setTimeout(r, o.duration * 1000));
    clearInterval(play);
    clearInterval(tick);

    // --- The verdict. ---
    const ids = bots.map((b) => b.id);
    for (const b of bots) {
      const others = ids.filter((x) => x !== b.id);
      if (!b.admitted) problems.push(`bot ${b.id}: never admitted`);
      if (b.welcome === undefined) problems.push(`bot ${b.id}: no welcome RPC`);
      const peers = b.mp.getPeers();
      for (const x of others) {
        if (!peers.includes(x)) problems.push(`bot ${b.id}: does not see bot ${x} (relay)`);
        if (!b.chats.has(x)) problems.push(`bot ${b.id}: no chat RPC from bot ${x}`);
        if (!b.greetings.has(x)) problems.push(`bot ${b.id}: no relayed bytes from bot ${x}`);
      }
      if (b.states === 0) problems.push(`bot ${b.id}: no state RPC`);
      else if (!ids.every((x) => b.lastState.get(x) instanceof Vector2)) {
        problems.push(`bot ${b.id}: last state lacks some bots' positions`);
      }
      if (!moves.get(b.id)) problems.push(`server: no move RPC from bot ${b.id}`);
      log(
        `bot ${b.id}: admitted, sees ${peers.length - 1} bots through relay, ${b.states} state` +
          ` updates, chats from [${[...b.chats]}], relayed bytes from [${[...b.greetings]}];` +
          ` server got ${moves.get(b.id) ?? 0} moves`,
      );
    }
    const rejected = Object.entries(mp.stats().rejected);
    if (rejected.length > 0) problems.push(`server refused packets: ${JSON.stringify(rejected)}`);
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  } finally {
    for (const b of bots) {
      b.mp.close();
      await b.session.close();
    }
    server?.close();
    await host?.close();
    await Promise.all(
      [...bots.map((b) => b.session.peer), ...(host ? [host.peer] : [])].map((p) => p.whenClosed()),
    );
    await signaling.shutdown();
  }
  if (problems.length > 0) {
    log("FAILED:");
    for (const p of problems) log(`  - ${p}`);
    return 1;
  }
  log(`OK: a TS SceneMultiplayer server hosted ${o.bots} bots for ${o.duration} s`);
  return 0;
}

async function joinBot(url: string, lobby: string, log: (l: string) => void): Promise<Bot> {
  const session = await joinLobbyGodot4(url, lobby, { createPeerConnection });
  const mp = new SceneMultiplayer(session.peer, {
    // The server authenticates us; we authenticate it by its answer.
    authCallback: (_id, data) => {
      if (str(data) === "welcome") mp.completeAuth(1);
    },
    log: (m) => log(`bot ${session.id}: ${m}`),
  });
  const bot: Bot = {
    session,
    mp,
    id: session.id,
    admitted: false,
    states: 0,
    lastState: new Map(),
    chats: new Set(),
    greetings: new Set(),
  };
  mp.addEventListener("peer_authenticating", (e) => {
    if (e.detail === 1) mp.sendAuth(1, text(PASSWORD));
  });
  mp.addEventListener("connected_to_server", () => bot.admitted = true);
  mp.addEventListener("peer_packet", (e) => {
    if (str(e.detail.data).startsWith("greetings")) bot.greetings.add(e.detail.from);
  });
  mp.registerRpc(GAME_PATH, {
    chat: { mode: RpcMode.ANY_PEER, handler: (_args, from) => bot.chats.add(from) },
    move: { mode: RpcMode.ANY_PEER, transferMode: TransferMode.UNRELIABLE_ORDERED },
    state: {
      transferMode: TransferMode.UNRELIABLE_ORDERED,
      handler: ([s]) => {
        bot.states++;
        if (s instanceof Map) bot.lastState = s;
      },
    },
    welcome: { handler: ([, motd]) => bot.welcome = String(motd) },
  });
  return bot;
}
