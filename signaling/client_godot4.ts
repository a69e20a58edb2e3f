/**
 * The Godot 4 signaling client: joins a lobby over Godot 4's JSON protocol and wires a
 * {@link WebRTCMultiplayerPeer} to it, the way Godot 4's `multiplayer_client.gd` does.
 *
 * - ID `{id, data}`: `createMesh(id)` when data is `"true"` (a mesh lobby), else `createServer()`
 *   for id 1 (the host) and `createClient(id)` for the others, with the `channelsConfig` option.
 * - Every PEER_CONNECT makes one `RTCPeerConnection` and adds it with `addPeer(connection, id)`;
 *   the side with the HIGHER id makes the offer (Godot 3's rule is the opposite). In a
 *   client/server lobby the server announces only the host to a client and every client to the
 *   host.
 * - Offers, answers and candidates, setup retries, departures and the end of the signaling
 *   connection are handled as `_session.ts` describes (shared with the Godot 3 client): the same
 *   options, the same events.
 *
 * @example A client/server lobby: the host is the server (peer 1), a client joins
 * ```ts
 * import { joinLobbyGodot4 } from "./client_godot4.ts";
 * import { serveSignalingDeno } from "./server_deno.ts";
 * const server = await serveSignalingDeno({ port: 0 });
 * const host = await joinLobbyGodot4(server.url, "", { clientServer: true });
 * const client = await joinLobbyGodot4(server.url, host.lobby);
 * await new Promise((r) => client.peer.addEventListener("connected_to_server", r, { once: true }));
 * console.log(host.peer.isServer(), client.peer.getUniqueId() > 1); // true true
 * for (const c of [client, host]) {
 *   await c.close();
 *   await c.peer.whenClosed();
 * }
 * await server.shutdown();
 * ```
 *
 * @module
 */
import type { TransferMode } from "../core/constants.ts";
import type { MeshOptions } from "../effects/multiplayer.ts";
import { WebRTCMultiplayerPeer } from "../effects/multiplayer_peer.ts";
import { formatClientMessage4, parseServerMessage4 } from "./protocol_godot4.ts";
import { LobbySession } from "./_session.ts";
import type { Dialect, SessionOptions } from "./_session.ts";
import { openSession, ownOrNew } from "./_open.ts";

/** Options of {@link joinLobbyGodot4}. */
export interface Godot4JoinOptions extends SessionOptions {
  /** A peer to wire (the client calls its `create*`), or options for a new one. */
  peer?: WebRTCMultiplayerPeer | MeshOptions;
  /**
   * When creating a lobby: a client/server lobby (Godot's `mesh = false`: JOIN with id 1), where
   * the host is the server and every other member a client. Default false (a mesh lobby). A
   * joiner's choice is ignored: the lobby's creator decided.
   */
  clientServer?: boolean;
  /** Extra channels, passed to `createMesh`/`createServer`/`createClient`. Default none. */
  channelsConfig?: readonly TransferMode[];
}

function godot4(channels: readonly TransferMode[]): Dialect<WebRTCMultiplayerPeer> {
  return {
    encode: formatClientMessage4,
    decode: parseServerMessage4,
    offersTo: (own, peer) => peer < own,
    start: (target, id, mesh) =>
      mesh
        ? target.createMesh(id, channels)
        : id === 1
        ? target.createServer(channels)
        : target.createClient(id, channels),
  };
}

/**
 * A joined Godot 4 lobby: the {@link WebRTCMultiplayerPeer} it drives, and the signaling
 * connection's state and events. Made by {@link joinLobbyGodot4}.
 */
export class Godot4LobbyClient extends LobbySession<WebRTCMultiplayerPeer> {
  /** The peer wired to the lobby: a mesh peer, the server (the host) or a client. */
  get peer(): WebRTCMultiplayerPeer {
    return this.target;
  }

  /**
   * Whether the lobby is a client/server one (the peer is then the server, id 1, or a client),
   * as the server said in ID; false until then.
   */
  get clientServer(): boolean {
    const peer = this.target;
    return this.id !== 0 && peer.isServerRelaySupported();
  }
}

/**
 * Connects to a signaling server over Godot 4's protocol and joins a lobby (`""`: create one and
 * be its host, id 1; `clientServer: true` makes it a client/server lobby). Resolves once the
 * server confirmed the join, with the peer created and the members already in the lobby being
 * negotiated. Rejects if the connection fails or is closed first (for example 4000 "Lobby does not
 * exists"). A malformed ICE configuration (`iceServers`, `iceTransportPolicy`) rejects
 * with an `IceConfigError` before anything connects.
 *
 * @example
 * ```ts
 * import { joinLobbyGodot4 } from "./client_godot4.ts";
 * import { serveSignalingNode } from "./server_node.ts";
 * const running = await serveSignalingNode({ port: 0 });
 * const creator = await joinLobbyGodot4(running.url); // a mesh lobby: createMesh(1)
 * console.log(creator.peer.getUniqueId(), creator.peer.isServerRelaySupported()); // 1 false
 * await Promise.all([creator.close(), creator.peer.whenClosed()]);
 * await running.shutdown();
 * ```
 */
export async function joinLobbyGodot4(
  url: string,
  lobby = "",
  options: Godot4JoinOptions = {},
): Promise<Godot4LobbyClient> {
  const peer = ownOrNew(WebRTCMultiplayerPeer, options.peer);
  const dialect = godot4(options.channelsConfig ?? []);
  const join = { url, lobby, mesh: !options.clientServer };
  return await openSession(Godot4LobbyClient, peer, dialect, join, options);
}
