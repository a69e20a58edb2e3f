/**
 * `WebRTCMultiplayerPeer`: Godot 4's `WebRTCMultiplayerPeer` API (SPEC-GODOT4.md) over the same
 * interpreter and reducer as Godot 3's `WebRTCMultiplayer`. This file holds only the calls Godot 4
 * has and Godot 3 lacks; every rule is the reducer's.
 *
 * @module
 */
import { ConnectionStatus, GodotError, TransferMode } from "../core/constants.ts";
import { godotChannelOf } from "../core/route.ts";
import { initialGodot4State } from "../core/state.ts";
import { type MeshOptions, MultiplayerInterpreter } from "./multiplayer.ts";

/** A packet received by a {@link WebRTCMultiplayerPeer}. */
export interface ChannelPacket {
  /** The sender's peer id. */
  readonly peerId: number;
  /** The payload, exactly as sent (text messages as their UTF-8 bytes). */
  readonly data: Uint8Array;
  /** Godot 4's channel: 0 for the reserved channels, `i + 1` for extra channel `channelsConfig[i]`. */
  readonly channel: number;
  /** The transfer mode of the channel it arrived on. */
  readonly mode: TransferMode;
}

/** The signals of a {@link WebRTCMultiplayerPeer} and their event types. */
export interface WebRTCMultiplayerPeerEventMap {
  /** A peer is connected (every channel open); `detail` is its id. */
  peer_connected: CustomEvent<number>;
  /** A connected peer left; `detail` is its id. */
  peer_disconnected: CustomEvent<number>;
  /** Reconnect on: a peer went silent (or its connection "disconnected"); `detail` is its id. */
  peer_interrupted: CustomEvent<number>;
  /** Reconnect on: an interrupted peer is heard from again; `detail` is its id. */
  peer_resumed: CustomEvent<number>;
  /** Client: peer 1 connected and the status became `CONNECTED` (after `peer_connected(1)`). */
  connected_to_server: CustomEvent<undefined>;
  /** Client: peer 1 was removed before it ever connected; the status is `DISCONNECTED`. */
  connection_failed: CustomEvent<undefined>;
  /** Client: the connected peer 1 left (after `peer_disconnected(1)`); status `DISCONNECTED`. */
  server_disconnected: CustomEvent<undefined>;
}

/** The size Godot 4's `get_max_packet_size()` reports. */
export const GODOT_MAX_PACKET_SIZE = 1200;

/**
 * Godot 4's `WebRTCMultiplayerPeer`: a mesh, a server or a client of WebRTC peer connections, with
 * optional extra channels.
 *
 * `createMesh(id)` connects to anyone; `createServer()` is peer 1 and adds clients;
 * `createClient(id)` adds only peer 1 and is `CONNECTING` until peer 1 is connected. Every peer
 * gets the reserved channels (reliable, ordered, unreliable; negotiated ids 1-3) plus one
 * negotiated channel per `channelsConfig` entry (ids 4, 5, ...). Both ends must use the same
 * config. A server relays nothing itself: relaying between clients is the job of the layer above
 * (Godot's SceneMultiplayer).
 *
 * @example A server and a client over real node-datachannel connections, with an extra channel
 * ```ts
 * import { TransferMode, WebRTCMultiplayerPeer } from "./multiplayer_peer.ts";
 * import { connectPair, createPeerConnection } from "../adapters/node_datachannel.ts";
 *
 * const server = new WebRTCMultiplayerPeer();
 * const client = new WebRTCMultiplayerPeer();
 * server.createServer([TransferMode.UNRELIABLE, TransferMode.RELIABLE]);
 * client.createClient(2, [TransferMode.UNRELIABLE, TransferMode.RELIABLE]);
 * const a = createPeerConnection();
 * const b = createPeerConnection();
 * server.addPeer(a, 2);
 * client.addPeer(b, 1);
 * // Both ends must see the connection: a broadcast skips a peer whose channel is not open yet.
 * const joined = Promise.all([
 *   new Promise((r) => client.addEventListener("connected_to_server", r)),
 *   new Promise((r) => server.addEventListener("peer_connected", r)),
 * ]);
 * await connectPair(a, b);
 * await joined;
 *
 * server.transferChannel = 2; // the second extra channel: reliable, label "5"
 * server.putPacket(new TextEncoder().encode("state"));
 * for await (const p of client.packets()) {
 *   console.log(p.peerId, p.channel, p.mode, new TextDecoder().decode(p.data)); // 1 2 2 state
 *   break;
 * }
 * server.close();
 * client.close();
 * await Promise.all([server.whenClosed(), client.whenClosed()]);
 * ```
 */
export class WebRTCMultiplayerPeer
  extends MultiplayerInterpreter<WebRTCMultiplayerPeerEventMap, ChannelPacket> {
  /** Creates a peer in network mode none (call `createMesh`, `createServer` or `createClient`). */
  constructor(options: MeshOptions = {}) {
    super(options, initialGodot4State);
  }

  /**
   * Becomes peer `peerId` (1..2147483647) of a mesh: connects to any peer, status `CONNECTED`.
   * `channelsConfig` lists the transfer mode of each extra channel.
   *
   * @example
   * ```ts
   * import { WebRTCMultiplayerPeer } from "./multiplayer_peer.ts";
   * const peer = new WebRTCMultiplayerPeer();
   * console.log(peer.createMesh(3), peer.isServerRelaySupported()); // 0 false
   * ```
   */
  createMesh(peerId: number, channelsConfig: readonly TransferMode[] = []): GodotError {
    return this.#create("mesh", peerId, channelsConfig);
  }

  /**
   * Becomes the server, peer 1: adds any peer but 1, status `CONNECTED`.
   *
   * @example
   * ```ts
   * import { WebRTCMultiplayerPeer } from "./multiplayer_peer.ts";
   * const peer = new WebRTCMultiplayerPeer();
   * peer.createServer();
   * console.log(peer.getUniqueId(), peer.isServer()); // 1 true
   * ```
   */
  createServer(channelsConfig: readonly TransferMode[] = []): GodotError {
    return this.#create("server", 1, channelsConfig);
  }

  /**
   * Becomes client `peerId` (2..2147483647): adds only peer 1, status `CONNECTING` until peer 1 is
   * connected (then `connected_to_server`).
   *
   * @example
   * ```ts
   * import { ConnectionStatus, WebRTCMultiplayerPeer } from "./multiplayer_peer.ts";
   * const peer = new WebRTCMultiplayerPeer();
   * console.log(peer.createClient(1), peer.lastError.message); // 31 createClient: Clients cannot have ID 1.
   * peer.createClient(7);
   * console.log(peer.getConnectionStatus() === ConnectionStatus.CONNECTING); // true
   * ```
   */
  createClient(peerId: number, channelsConfig: readonly TransferMode[] = []): GodotError {
    return this.#create("client", peerId, channelsConfig);
  }

  /**
   * Disconnects a peer. `force`: removed at once and no signal is emitted (a client losing peer 1
   * becomes `DISCONNECTED`). Otherwise its connection is closed and the removal that follows emits
   * `peer_disconnected` if it was connected. Unknown ids: `lastError` `ERR_DOES_NOT_EXIST`.
   *
   * @example
   * ```ts
   * import { WebRTCMultiplayerPeer } from "./multiplayer_peer.ts";
   * const peer = new WebRTCMultiplayerPeer();
   * peer.createMesh(1);
   * peer.disconnectPeer(5);
   * console.log(peer.lastError.message); // disconnectPeer: peer 5 is not connected to this peer
   * ```
   */
  disconnectPeer(peerId: number, force = false): void {
    this.request({ type: "DisconnectPeerRequested", peerId, force });
  }

  /**
   * The channel `putPacket` uses: 0 the reserved channel of `transferMode`, n (1..255) the extra
   * channel `channelsConfig[n - 1]`, whose own mode applies. Invalid values are refused
   * (`lastError`).
   *
   * @example
   * ```ts
   * import { WebRTCMultiplayerPeer } from "./multiplayer_peer.ts";
   * const peer = new WebRTCMultiplayerPeer();
   * peer.transferChannel = 2;
   * console.log(peer.transferChannel); // 2
   * ```
   */
  get transferChannel(): number {
    return this.state.transferChannel;
  }
  set transferChannel(value: number) {
    this.request({ type: "TransferChannelSet", value });
  }

  /**
   * This peer's id. While `DISCONNECTED` it is 1, as in Godot, and `lastError` is
   * `ERR_UNCONFIGURED`.
   *
   * @example
   * ```ts
   * import { WebRTCMultiplayerPeer } from "./multiplayer_peer.ts";
   * const peer = new WebRTCMultiplayerPeer();
   * console.log(peer.getUniqueId(), peer.lastError.error); // 1 3
   * ```
   */
  override getUniqueId(): number {
    if (this.state.status === ConnectionStatus.DISCONNECTED) {
      this.fail(
        GodotError.ERR_UNCONFIGURED,
        "getUniqueId: the peer is disconnected; Godot reports 1",
      );
      return 1;
    }
    return this.state.uniqueId;
  }

  /**
   * Whether the layer above may relay through the server: true for servers and clients, false for
   * a mesh (and before `create*`).
   *
   * @example
   * ```ts
   * import { WebRTCMultiplayerPeer } from "./multiplayer_peer.ts";
   * const peer = new WebRTCMultiplayerPeer();
   * peer.createServer();
   * console.log(peer.isServerRelaySupported()); // true
   * ```
   */
  isServerRelaySupported(): boolean {
    return this.state.network === "server" || this.state.network === "client";
  }

  /**
   * Godot 4's channel of the packet the next `getPacket()` returns: 0 for the reserved channels,
   * `i + 1` for extra channel `i`; 0 when nothing is queued.
   *
   * @example
   * ```ts
   * import { WebRTCMultiplayerPeer } from "./multiplayer_peer.ts";
   * console.log(new WebRTCMultiplayerPeer().getPacketChannel()); // 0
   * ```
   */
  getPacketChannel(): number {
    return this.peekPacket()?.channel ?? 0;
  }

  /**
   * The transfer mode of the packet the next `getPacket()` returns; `RELIABLE` when nothing is
   * queued.
   *
   * @example
   * ```ts
   * import { WebRTCMultiplayerPeer } from "./multiplayer_peer.ts";
   * console.log(new WebRTCMultiplayerPeer().getPacketMode()); // 2
   * ```
   */
  getPacketMode(): TransferMode {
    return this.peekPacket()?.mode ?? TransferMode.RELIABLE;
  }

  /**
   * What Godot 4 reports: 1200. The real limit is each connection's SCTP max message size
   * (`putPacket` refuses more with `ERR_INVALID_PARAMETER`).
   *
   * @example
   * ```ts
   * import { WebRTCMultiplayerPeer } from "./multiplayer_peer.ts";
   * console.log(new WebRTCMultiplayerPeer().getMaxPacketSize()); // 1200
   * ```
   */
  getMaxPacketSize(): number {
    return GODOT_MAX_PACKET_SIZE;
  }

  /** Godot 4's packet: its channel number and transfer mode. */
  protected override packet(
    peerId: number,
    data: Uint8Array,
    index: number,
    mode: TransferMode,
  ): ChannelPacket {
    return { peerId, data, channel: godotChannelOf(index), mode };
  }

  #create(
    network: "mesh" | "server" | "client",
    peerId: number,
    channelsConfig: readonly TransferMode[],
  ): GodotError {
    return this.request({
      type: "CreateRequested",
      network,
      peerId,
      // A copy: the caller's array may change later; the state keeps what was passed.
      channelsConfig: Array.isArray(channelsConfig) ? [...channelsConfig] : channelsConfig,
    });
  }
}

export { ConnectionStatus, GodotError, TransferMode };
