/**
 * Connects two peer connections that live in the same process by handing offer, answer and ICE
 * candidates straight from one to the other: signaling without a server, for tests, benchmarks
 * and single-process demos. Works with any W3C `RTCPeerConnection`.
 *
 * @module
 */

/** An ICE server as `RTCConfiguration.iceServers` lists it. */
export interface IceServer {
  /** One or more `stun:`/`turn:` URLs. */
  urls: string | string[];
  /** TURN user name. */
  username?: string;
  /** TURN password. */
  credential?: string;
}

/** The parts of `RTCConfiguration` the adapters pass on. */
export interface PeerConnectionConfig {
  /** STUN/TURN servers. Default none (host candidates only, enough on a LAN or loopback). */
  iceServers?: IceServer[];
  /** `"relay"`: TURN-relayed candidates only. Default `"all"`. */
  iceTransportPolicy?: "all" | "relay";
}

/** A session description as `RTCPeerConnection` produces and consumes it. */
export interface SessionDescriptionLike {
  /** `"offer"`, `"answer"`, `"pranswer"` or `"rollback"`. */
  readonly type: string;
  /** The SDP text. */
  readonly sdp?: string;
}

/** An ICE candidate as `RTCPeerConnection` produces and consumes it. */
export interface IceCandidateLike {
  /** The `candidate:` attribute line. */
  readonly candidate: string;
  /** The media stream identification tag it belongs to. */
  readonly sdpMid?: string | null;
  /** The index of the media description it belongs to. */
  readonly sdpMLineIndex?: number | null;
}

/** The signaling half of the W3C `RTCPeerConnection` shape. */
export interface SignalingPeerConnection {
  /** Creates an offer (a session description). */
  // deno-lint-ignore no-explicit-any
  createOffer(): Promise<any>;
  /** Creates an answer to the remote offer. */
  // deno-lint-ignore no-explicit-any
  createAnswer(): Promise<any>;
  /** Sets the local description (the offer or answer just made). */
  // deno-lint-ignore no-explicit-any
  setLocalDescription(description?: any): Promise<void>;
  /** Sets the other side's description. */
  // deno-lint-ignore no-explicit-any
  setRemoteDescription(description: any): Promise<void>;
  /** Adds one of the other side's ICE candidates. */
  // deno-lint-ignore no-explicit-any
  addIceCandidate(candidate: any): Promise<void>;
  /** The local description once set, else null. */
  readonly localDescription: SessionDescriptionLike | null;
  /** The remote description once set, else null (absent in minimal fakes). */
  readonly remoteDescription?: SessionDescriptionLike | null;
  /**
   * `false` when the stack cannot restart ICE (node-datachannel: libdatachannel 0.24 refuses new
   * ICE credentials); absent or `true` where it can (libwebrtc, browsers). Reconnect replaces the
   * connection instead (signaling/_reconnect.ts).
   */
  readonly canRestartIce?: boolean;
  /** Listens for `icecandidate` (and the connection's other events). */
  addEventListener(type: string, listener: (event: Event) => void): void;
  /** Removes a listener added with `addEventListener`. */
  removeEventListener(type: string, listener: (event: Event) => void): void;
}

/**
 * Holds remote ICE candidates until the remote description is set, then applies them in order.
 * Candidates can arrive before the description (they travel separately); adding one too early
 * fails in every stack.
 *
 * @example
 * ```ts
 * import { CandidateQueue } from "./loopback.ts";
 * const added: string[] = [];
 * const queue = new CandidateQueue(async (c) => { added.push(c.candidate); });
 * await queue.add({ candidate: "a=candidate:1", sdpMid: "0" });
 * console.log(added.length); // 0: no remote description yet
 * await queue.ready();
 * console.log(added); // [ "a=candidate:1" ]
 * ```
 */
export class CandidateQueue {
  #held: IceCandidateLike[] | undefined = [];
  #apply: (candidate: IceCandidateLike) => Promise<void>;

  /**
   * Creates an empty queue that holds candidates until {@link CandidateQueue.ready}.
   *
   * @param apply adds one candidate to the connection (usually `pc.addIceCandidate`).
   */
  constructor(apply: (candidate: IceCandidateLike) => Promise<void>) {
    this.#apply = apply;
  }

  /** Applies the candidate now if the remote description is set, else holds it. */
  async add(candidate: IceCandidateLike): Promise<void> {
    if (this.#held !== undefined) this.#held.push(candidate);
    else await this.#apply(candidate);
  }

  /** Marks the remote description as set and applies the held candidates. */
  async ready(): Promise<void> {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const candidate of held) await this.#apply(candidate);
  }
}

/**
 * The offer without its ICE candidate lines (`a=candidate:`, `a=end-of-candidates`); they travel
 * separately (trickle ICE).
 *
 * Handing the answerer the offerer's candidates only once the offerer has applied the answer keeps
 * the DTLS handshake from overtaking the answer: the answerer cannot start connectivity checks
 * before, and the offerer's own checks need the answer. libdatachannel passes the answer to ICE
 * before the connection stores it, so a handshake inside that window finds no fingerprint to check
 * the peer's certificate against and fails ("certificate verify failed").
 *
 * @example
 * ```ts
 * import { withoutCandidates } from "./loopback.ts";
 * const sdp = "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n" +
 *   "a=candidate:1 1 UDP 1 192.0.2.1 5000 typ host\r\na=end-of-candidates\r\na=mid:0\r\n";
 * console.log(JSON.stringify(withoutCandidates(sdp)));
 * // "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n"
 * ```
 */
export function withoutCandidates(sdp: string): string {
  return sdp.replace(/^a=(candidate:|end-of-candidates).*(\r?\n|$)/gm, "");
}

/**
 * Negotiates `offerer` and `answerer` with each other in-process. Resolves once both descriptions
 * are set; the connections then proceed to `"connected"` by themselves.
 *
 * @example
 * ```ts
 * import { connectPair } from "./loopback.ts";
 * import { createPeerConnection } from "./node_datachannel.ts";
 * const a = createPeerConnection();
 * const b = createPeerConnection();
 * const ca = a.createDataChannel("x", { negotiated: true, id: 0 });
 * const cb = b.createDataChannel("x", { negotiated: true, id: 0 });
 * const opened = Promise.all([ca, cb].map((c) => new Promise((r) => c.addEventListener("open", r))));
 * await connectPair(a, b);
 * await opened;
 * console.log(ca.label, cb.readyState); // x open
 * // Closing one end closes the other (a channel closed before its own end is open may not be).
 * const closed = new Promise((r) => cb.addEventListener("close", r));
 * ca.close();
 * await closed;
 * a.close();
 * b.close();
 * ```
 */
export async function connectPair(
  offerer: SignalingPeerConnection,
  answerer: SignalingPeerConnection,
): Promise<void> {
  const toAnswerer = new CandidateQueue((c) => answerer.addIceCandidate(c));
  const toOfferer = new CandidateQueue((c) => offerer.addIceCandidate(c));
  const forward = (queue: CandidateQueue) => (event: Event) => {
    const candidate = (event as Event & { candidate?: IceCandidateLike | null }).candidate;
    if (candidate && candidate.candidate) {
      queue.add(candidate).catch(() => {
        // The other side closed meanwhile; nothing to deliver to.
      });
    }
  };
  offerer.addEventListener("icecandidate", forward(toAnswerer));
  answerer.addEventListener("icecandidate", forward(toOfferer));
  await offerer.setLocalDescription(await offerer.createOffer());
  const offer = offerer.localDescription!;
  await answerer.setRemoteDescription({
    type: offer.type,
    sdp: withoutCandidates(offer.sdp ?? ""),
  });
  await answerer.setLocalDescription(await answerer.createAnswer());
  await offerer.setRemoteDescription(answerer.localDescription!);
  await toOfferer.ready();
  // Only now: see withoutCandidates.
  await toAnswerer.ready();
}
