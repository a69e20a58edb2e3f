/**
 * The node-datachannel adapter: W3C `RTCPeerConnection`s backed by libdatachannel, for Deno and
 * Node.
 *
 * The connections are node-datachannel's W3C polyfill over a native connection made with
 * libdatachannel's automatic negotiation turned off. With it on (the polyfill's default) the first
 * `createDataChannel` makes an offer at once, so the side that is to answer starts as an offerer
 * too: its ICE agent takes the controlling role and its description is rolled back when the real
 * offer arrives. That usually recovers through ICE role-conflict resolution, but a share of
 * loopback pairs then stalls for about a second in the DTLS handshake, and about one in a
 * thousand fails outright ("certificate verify failed", then "Got a remote candidate without ICE
 * transport"). The mesh creates its channels before any signaling, so it hits exactly that case;
 * here descriptions are made only when the application asks, as W3C says.
 *
 * @module
 */
import { PeerConnection } from "node-datachannel";
import { RTCPeerConnection } from "node-datachannel/polyfill";
import type { RTCPeerConnectionLike } from "../effects/w3c.ts";
import type {
  IceServer,
  PeerConnectionConfig,
  SessionDescriptionLike,
  SignalingPeerConnection,
} from "./loopback.ts";

export {
  CandidateQueue,
  connectPair,
  type IceCandidateLike,
  type IceServer,
  type PeerConnectionConfig,
  type SessionDescriptionLike,
  type SignalingPeerConnection,
} from "./loopback.ts";

/**
 * libdatachannel's own settings of a connection, beyond W3C's: for a server that holds many.
 */
export interface NodePeerConnectionConfig extends PeerConnectionConfig {
  /**
   * One UDP socket for every connection that sets it (libjuice's mux mode: one thread reads the
   * socket and routes each datagram to its connection by source address) instead of a socket per
   * connection, all polled by one thread. With `portRange`, the socket's port is in that range.
   * Default false.
   */
  readonly iceUdpMux?: boolean;
  /** Local UDP ports for ICE host candidates, inclusive (`[begin, end]`). Default: any. */
  readonly portRange?: readonly [number, number];
}

/** A node-datachannel connection: usable by the mesh and by signaling. */
export type NodePeerConnection = RTCPeerConnectionLike & SignalingPeerConnection;

/** libdatachannel's form of an ICE server: `stun:host:port` or `turn:user:password@host:port`. */
function nativeIceServers(servers: readonly IceServer[] = []): string[] {
  return servers.flatMap((server) => {
    const urls = Array.isArray(server.urls) ? server.urls : [server.urls];
    return urls.map((url) => {
      if (server.username === undefined || server.credential === undefined) return url;
      const colon = url.indexOf(":");
      return `${url.slice(0, colon)}:${encodeURIComponent(server.username)}:${
        encodeURIComponent(server.credential)
      }@${url.slice(colon + 1)}`;
    });
  });
}

let connectionCount = 0;

/**
 * How long after `close()` the native connection is closed, ms. Long enough for libdatachannel to
 * finish a close it started on its own threads.
 */
export const NATIVE_CLOSE_DELAY_MS = 250;

/**
 * The polyfill with W3C offer/answer semantics on a connection without automatic negotiation:
 * `createOffer`/`createAnswer` ask libdatachannel for the description, which libdatachannel applies
 * as it makes it; the following `setLocalDescription` of that same description then has nothing
 * left to do.
 */
class NodeRTCPeerConnection extends RTCPeerConnection {
  /**
   * libdatachannel 0.24 cannot restart ICE: libjuice refuses a remote description with new ICE
   * credentials ("ICE restart is not supported"; docs/liveness.md). Reconnect replaces the
   * connection instead.
   */
  readonly canRestartIce = false;
  #native: PeerConnection;
  #closed = false;
  #nativeClosed: Promise<void> | undefined;

  constructor(config: NodePeerConnectionConfig) {
    const { iceUdpMux, portRange, ...w3c } = config;
    const native = new PeerConnection(`webrtc-mesh-${++connectionCount}`, {
      iceServers: nativeIceServers(config.iceServers),
      iceTransportPolicy: config.iceTransportPolicy ?? "all",
      disableAutoNegotiation: true,
      ...(iceUdpMux ? { enableIceUdpMux: true } : {}),
      ...(portRange ? { portRangeBegin: portRange[0], portRangeEnd: portRange[1] } : {}),
    });
    // deno-lint-ignore no-explicit-any
    super({ ...w3c, peerConnection: native } as any);
    this.#native = native;
  }

  #make(type: "offer" | "answer"): SessionDescriptionLike {
    const state = this.#native.signalingState();
    if (type === "offer" ? state !== "have-local-offer" : state === "have-remote-offer") {
      this.#native.setLocalDescription(type);
    }
    const made = this.#native.localDescription();
    if (made?.type !== type) {
      throw new DOMException(
        `no ${type} in signaling state ${this.signalingState}`,
        "InvalidStateError",
      );
    }
    return { type: made.type, sdp: made.sdp };
  }

  override createOffer(): Promise<SessionDescriptionLike> {
    return Promise.resolve().then(() => this.#make("offer"));
  }

  override createAnswer(): Promise<SessionDescriptionLike> {
    return Promise.resolve().then(() => this.#make("answer"));
  }

  /** `"closed"` from the moment {@link close} is called, as W3C says. */
  override get connectionState(): RTCPeerConnection["connectionState"] {
    return this.#closed ? "closed" : super.connectionState;
  }

  /**
   * Closes the connection. Once it has left `"new"`, the native close follows
   * {@link NATIVE_CLOSE_DELAY_MS} later: when the stack is already closing the connection itself (a
   * remote close, a failure), libdatachannel is still delivering that on its own threads, and the
   * binding's close releases the callbacks those threads are calling (a use after free that
   * crashes the process). The application closes exactly in that moment, reacting to the event,
   * and the stack's state does not yet show it, so the delay is always taken. A connection still
   * `"new"` cannot be closing on its own and closes at once.
   */
  override close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#native.state() === "new") {
      super.close();
      return;
    }
    this.#nativeClosed = new Promise((resolve) => {
      setTimeout(() => {
        try {
          super.close();
        } finally {
          resolve();
        }
      }, NATIVE_CLOSE_DELAY_MS);
    });
  }

  /**
   * Resolves once the native connection is closed: at once before `close()` or for a connection
   * closed while `"new"`, else when the delayed native close has run. The mesh's `whenClosed()`
   * waits for it.
   */
  whenNativeClosed(): Promise<void> {
    return this.#nativeClosed ?? Promise.resolve();
  }

  override setLocalDescription(description?: SessionDescriptionLike): Promise<void> {
    return Promise.resolve().then(() => {
      const type = description?.type ??
        (this.signalingState === "have-remote-offer" ? "answer" : "offer");
      if (type !== "offer" && type !== "answer") {
        throw new DOMException(`unsupported local description type ${type}`, "NotSupportedError");
      }
      this.#make(type);
    });
  }
}

/**
 * Creates a W3C `RTCPeerConnection` backed by node-datachannel.
 *
 * @example
 * ```ts
 * import { createPeerConnection } from "./node_datachannel.ts";
 * const pc = createPeerConnection({ iceServers: [] });
 * console.log(pc.connectionState); // new
 * pc.close();
 * ```
 */
export function createPeerConnection(config: NodePeerConnectionConfig = {}): NodePeerConnection {
  return new NodeRTCPeerConnection(config) as unknown as NodePeerConnection;
}
