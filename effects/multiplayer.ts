/**
 * `WebRTCMultiplayer`: Godot's `WebRTCMultiplayer` API over real W3C peer connections.
 *
 * This file is the Godot 3 facade over the interpreter of the pure core
 * ({@link MultiplayerInterpreter}, `./interpreter.ts`), and the one import for the mesh API: it
 * re-exports the interpreter, its options (`./options.ts`) and the shapes the API returns
 * (`./mesh_types.ts`). `WebRTCMultiplayerPeer` (Godot 4, `./multiplayer_peer.ts`) is the other
 * facade over the same interpreter.
 *
 * @module
 */
import { ConnectionStatus, GodotError, TransferMode } from "../core/constants.ts";
import { initialState } from "../core/state.ts";
import type { Packet } from "./inbox.ts";
import { MultiplayerInterpreter } from "./interpreter.ts";
import type { WebRTCMultiplayerEventMap } from "./mesh_types.ts";
import type { MeshOptions } from "./options.ts";

export { MultiplayerInterpreter } from "./interpreter.ts";
export type {
  LastError,
  MeshStats,
  PeerInfo,
  PeerStats,
  WebRTCMultiplayerEventMap,
} from "./mesh_types.ts";
export type { LivenessOptions, MeshOptions } from "./options.ts";

/**
 * A full mesh of WebRTC peer connections with Godot's `WebRTCMultiplayer` API.
 *
 * Add one `RTCPeerConnection` per remote peer (in state `"new"`); the mesh creates three
 * pre-negotiated data channels on each, tracks when each peer is really connected, emits Godot's
 * signals as DOM events, and moves packets with Godot's targeting and transfer-mode rules. It never
 * creates offers or sets descriptions: signaling is the application's job (see `./signaling`).
 *
 * @example Two meshes in one process over real node-datachannel connections
 * ```ts
 * import { TransferMode, WebRTCMultiplayer } from "./multiplayer.ts";
 * import { connectPair, createPeerConnection } from "../adapters/node_datachannel.ts";
 *
 * const a = new WebRTCMultiplayer();
 * const b = new WebRTCMultiplayer();
 * a.initialize(1);
 * b.initialize(2);
 * const pa = createPeerConnection();
 * const pb = createPeerConnection();
 * a.addPeer(pa, 2);
 * b.addPeer(pb, 1);
 * const connected = Promise.all([a, b].map((mesh) =>
 *   new Promise((r) => mesh.addEventListener("peer_connected", r, { once: true }))
 * ));
 * await connectPair(pa, pb);
 * await connected;
 *
 * a.transferMode = TransferMode.RELIABLE;
 * a.putPacket(new TextEncoder().encode("hello"));
 * for await (const packet of b.packets()) {
 *   console.log(packet.peerId, new TextDecoder().decode(packet.data)); // 1 hello
 *   break;
 * }
 * a.close();
 * b.close();
 * await Promise.all([a.whenClosed(), b.whenClosed()]);
 * ```
 */
export class WebRTCMultiplayer extends MultiplayerInterpreter<WebRTCMultiplayerEventMap, Packet> {
  /** Creates an empty, uninitialized mesh. */
  constructor(options: MeshOptions = {}) {
    super(options, initialState);
  }

  /**
   * Initializes the mesh as peer `peerId` (1..2147483647). With `serverCompatibility` and an id
   * other than 1, the mesh behaves as a client of peer 1: no `peer_connected` until peer 1 is
   * connected, then `connection_succeeded`.
   *
   * @example
   * ```ts
   * import { ConnectionStatus, WebRTCMultiplayer } from "./multiplayer.ts";
   * const mesh = new WebRTCMultiplayer();
   * console.log(mesh.initialize(5, true)); // 0 (OK)
   * console.log(mesh.getConnectionStatus() === ConnectionStatus.CONNECTING); // true
   * ```
   */
  initialize(peerId: number, serverCompatibility = false): GodotError {
    return this.request({ type: "InitializeRequested", peerId, serverCompatibility });
  }

  /** Godot 3's packet: the channel is named by its transfer mode. */
  protected override packet(
    peerId: number,
    data: Uint8Array,
    _index: number,
    mode: TransferMode,
  ): Packet {
    return { peerId, data, channel: mode };
  }
}

export { ConnectionStatus, GodotError, TransferMode };
