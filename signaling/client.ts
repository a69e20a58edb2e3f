/**
 * The Godot 3 signaling client: joins a lobby of a Godot-demo-compatible signaling server and wires
 * a {@link WebRTCMultiplayer} to it, the way the demo's `multiplayer_client.gd` (Godot 3) does.
 *
 * - `I: id` initializes the mesh with `initialize(id, true)` (server compatibility).
 * - Every `N: id` makes one `RTCPeerConnection` and adds it with `addPeer(connection, id)`; the
 *   side with the lower id makes the offer.
 * - Offers, answers and candidates, setup retries, departures and the end of the signaling
 *   connection are handled as `_session.ts` describes (shared with the Godot 4 client,
 *   `client_godot4.ts`).
 *
 * Free of Deno-only APIs: give it a WebSocket constructor and a peer connection factory in Node
 * (`ws`, the node-datachannel adapter) or let it use the browser's globals.
 *
 * @module
 */
import { WebRTCMultiplayer } from "../effects/multiplayer.ts";
import type { MeshOptions } from "../effects/multiplayer.ts";
import { formatClientMessage, parseServerMessage } from "./protocol.ts";
import { LobbySession } from "./_session.ts";
import type { Dialect, SessionOptions } from "./_session.ts";
import { openSession, ownOrNew } from "./_open.ts";

export type {
  IceCandidateLike,
  IceServer,
  PeerConnectionConfig,
  SessionDescriptionLike,
  SignalingPeerConnection,
} from "../adapters/loopback.ts";
export type {
  ClientPeerConnection,
  CloseEventLike,
  DisconnectDetail,
  LobbyClientEventMap,
  PeerTarget,
  SessionOptions,
  SignalingErrorDetail,
  WebSocketConstructor,
  WebSocketLike,
} from "./_session.ts";
export { LobbySession } from "./_session.ts";

/** Options of {@link joinLobby}. */
export interface JoinOptions extends SessionOptions {
  /** A mesh to wire (it is initialized by the client), or options for a new one. */
  mesh?: WebRTCMultiplayer | MeshOptions;
}

/** Godot 3's rules: `initialize(id, true)`, the lower id offers. */
const GODOT3: Dialect<WebRTCMultiplayer> = {
  encode: formatClientMessage,
  decode: parseServerMessage,
  offersTo: (own, peer) => peer > own,
  start: (mesh, id) => mesh.initialize(id, true),
};

/**
 * A joined lobby: the mesh it drives, and the signaling connection's state and events.
 * Made by {@link joinLobby}.
 */
export class LobbyClient extends LobbySession<WebRTCMultiplayer> {
  /** The mesh wired to the lobby (server compatibility; the host is peer 1). */
  get mesh(): WebRTCMultiplayer {
    return this.target;
  }
}

/**
 * Connects to a signaling server and joins a lobby (`""`: create one and be its host, id 1).
 * Resolves once the server confirmed the join (`J:`), with the mesh initialized and the peers
 * already in the lobby being negotiated. Rejects if the connection fails or is closed first (for
 * example 4000 "Lobby does not exists"). A malformed ICE configuration (`iceServers`,
 * `iceTransportPolicy`) rejects with an `IceConfigError` before anything connects.
 *
 * @example
 * ```ts
 * import { joinLobby } from "./client.ts";
 * import { serveSignalingDeno } from "./server_deno.ts";
 * const server = await serveSignalingDeno({ port: 0 });
 * const host = await joinLobby(server.url);
 * console.log(host.id, host.lobby.length); // 1 16
 * await host.close();
 * await server.shutdown();
 * ```
 */
export async function joinLobby(
  url: string,
  lobby = "",
  options: JoinOptions = {},
): Promise<LobbyClient> {
  const mesh = ownOrNew(WebRTCMultiplayer, options.mesh);
  return await openSession(LobbyClient, mesh, GODOT3, { url, lobby, mesh: true }, options);
}
