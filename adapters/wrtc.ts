/**
 * The libwebrtc adapter: W3C `RTCPeerConnection`s backed by Google's libwebrtc (the WebRTC stack
 * inside Chromium) through `@roamhq/wrtc`, for Deno and Node.
 *
 * `@roamhq/wrtc` ships prebuilt binaries in its npm package and is an optional dependency of
 * webrtc-mesh: install it (`npm install @roamhq/wrtc`) to use this entry point. Only this module
 * loads it; the main entry point and the node-datachannel adapter never do.
 *
 * Its `RTCPeerConnection` is W3C's own, so the connections are handed out as they are; the
 * differences from the node-datachannel adapter are in its documentation and README's "Which
 * stack".
 *
 * @module
 */
import wrtc from "@roamhq/wrtc";
import type {
  DataChannelInitLike,
  Listener,
  RTCDataChannelLike,
  RTCPeerConnectionLike,
} from "../effects/w3c.ts";
import type {
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

/** A libwebrtc connection: usable by the mesh and by signaling. */
export type WrtcPeerConnection = RTCPeerConnectionLike & SignalingPeerConnection;

const Native = (wrtc as unknown as {
  RTCPeerConnection: new (config: PeerConnectionConfig) => WrtcPeerConnection;
}).RTCPeerConnection;

/**
 * Creates a W3C `RTCPeerConnection` backed by libwebrtc (`@roamhq/wrtc`).
 *
 * @example
 * ```ts
 * import { createPeerConnection } from "./wrtc.ts";
 * const pc = createPeerConnection({ iceServers: [] });
 * console.log(pc.connectionState); // new
 * pc.close();
 * ```
 */
export function createPeerConnection(config: PeerConnectionConfig = {}): WrtcPeerConnection {
  const pc = new Native({
    iceServers: config.iceServers ?? [],
    iceTransportPolicy: config.iceTransportPolicy ?? "all",
  });
  const create = pc.createDataChannel.bind(pc);
  pc.createDataChannel = (label: string, init: DataChannelInitLike = {}) =>
    withW3cLimits(create(label, init), init);
  const setLocal = pc.setLocalDescription.bind(pc);
  pc.setLocalDescription = async (description?: SessionDescriptionLike) => {
    // The binding throws "Expected an object" for W3C's implicit form (no argument): make the
    // description it would make.
    if (description === undefined) {
      const state = (pc as unknown as { signalingState: string }).signalingState;
      description = state === "have-remote-offer"
        ? await pc.createAnswer()
        : await pc.createOffer();
    }
    await gatheringTurn(pc);
    return setLocal(description);
  };
  return withCachedSctp(withSettledConnectionState(pc));
}

/** When `connectionState` is read again after a native `connectionstatechange` (ms). */
const CONNECTION_STATE_RECHECK_MS: readonly number[] = [0, 20, 100];

/**
 * `connectionstatechange` only when `connectionState` changed, and then with the new state.
 *
 * `@roamhq/wrtc` 0.10 fires `connectionstatechange` for every ICE connection state change (its
 * binding has no `OnConnectionChange`: `OnIceConnectionChange` calls both handlers), and libwebrtc
 * updates the connection's aggregate state just after its ICE state, on its own thread: a listener
 * may read the previous state. Measured in the network lab during a partition: the mesh read
 * "connected" when ICE went disconnected (6.3 s after the cut) and "disconnected" when it came back
 * (8.6 s), while a second listener of the same events 1 ms later read the true states; the mesh
 * took the stale "connected" for a return and reported `peer_resumed` during the partition. So
 * each native event makes us read the state again, at once and a little later, and listeners
 * hear one event per real change.
 */
function withSettledConnectionState(pc: WrtcPeerConnection): WrtcPeerConnection {
  const listeners = new Set<Listener>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let last = pc.connectionState;
  let closed = false;
  const check = () => {
    if (closed) return;
    const now = pc.connectionState;
    if (now === last) return;
    last = now;
    const event = new Event("connectionstatechange");
    for (const listener of [...listeners]) {
      try {
        listener.call(pc, event);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  };
  pc.addEventListener("connectionstatechange", () => {
    check();
    // A closed connection stays closed: nothing to read again, and no timer may outlive it.
    if (closed || last === "closed") return;
    for (const ms of CONNECTION_STATE_RECHECK_MS) {
      if (ms === 0) continue;
      const timer = setTimeout(() => {
        timers.delete(timer);
        check();
      }, ms);
      timers.add(timer);
    }
  });
  // A native read of a closed connection's state shortly before the process exits is the kind of
  // call that segfaults in the binding's teardown (see README): after our own close(), no more.
  const close = pc.close.bind(pc);
  pc.close = () => {
    closed = true;
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    close();
  };
  const add = pc.addEventListener.bind(pc);
  const remove = pc.removeEventListener.bind(pc);
  pc.addEventListener = (type: string, listener: Listener) => {
    if (type === "connectionstatechange") listeners.add(listener);
    else add(type, listener);
  };
  pc.removeEventListener = (type: string, listener: Listener) => {
    if (type === "connectionstatechange") listeners.delete(listener);
    else remove(type, listener);
  };
  return pc;
}

/**
 * The connection behind a proxy that answers `sctp` from a cache once it is known. Every attribute
 * read of `@roamhq/wrtc` is a blocking call into libwebrtc's threads: `pc.sctp.maxMessageSize`
 * cost 44 µs here (`connectionState` 10 µs), and the mesh reads it for every `putPacket` (it bounds
 * a packet's size). The maximum message size cannot change once the transport exists. The
 * attribute is non-configurable on the instance, hence the proxy; everything else passes through.
 */
function withCachedSctp(pc: WrtcPeerConnection): WrtcPeerConnection {
  let cached: { readonly maxMessageSize: number } | undefined;
  return new Proxy(pc, {
    get(target, key) {
      if (key !== "sctp") return Reflect.get(target, key, target);
      if (cached !== undefined) return cached;
      const sctp = target.sctp;
      const size = sctp?.maxMessageSize;
      if (typeof size === "number" && size > 0) cached = { maxMessageSize: size };
      return sctp;
    },
  });
}

/** How many connections of a process may gather ICE candidates at once. */
export const GATHERING_SLOTS = 6;
/** How long a connection holds its gathering slot at most, ms. */
export const GATHERING_SLOT_MAX_MS = 250;

let gathering = 0;
const waiting: Array<() => void> = [];

/**
 * Waits for one of {@link GATHERING_SLOTS} gathering slots and holds it until `pc` has finished
 * gathering (at most {@link GATHERING_SLOT_MAX_MS}).
 *
 * In `@roamhq/wrtc` every connection that starts gathering makes every connection of the process
 * that is still gathering gather again on all interfaces (new sockets, new candidates): K
 * connections gathering at once open O(K²) sockets. 40 at once gave 3,344 candidates instead of
 * 320 and 6,800 file descriptors, and 42 at once ran out of 20,000 descriptors and stalled
 * (tests/stack/wrtc_raw_test.ts reproduces it). A few at once cost little; strict turns cost about
 * 100 ms per connection (libwebrtc takes that long to finish gathering), hence a few slots.
 */
async function gatheringTurn(pc: WrtcPeerConnection): Promise<void> {
  if (gathering >= GATHERING_SLOTS) await new Promise<void>((resolve) => waiting.push(resolve));
  else gathering++;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    pc.removeEventListener("icegatheringstatechange", check);
    clearTimeout(timer);
    const next = waiting.shift();
    if (next !== undefined) next(); // the slot passes on
    else gathering--;
  };
  const check = () => {
    const state = (pc as unknown as { iceGatheringState: string }).iceGatheringState;
    if (state === "complete" || pc.connectionState === "closed") release();
  };
  pc.addEventListener("icegatheringstatechange", check);
  const timer = setTimeout(release, GATHERING_SLOT_MAX_MS);
  queueMicrotask(check);
}

/**
 * A channel without a retransmission limit reports `maxPacketLifeTime` and `maxRetransmits` as
 * 65535 in `@roamhq/wrtc` (the binding reads libwebrtc's deprecated `maxRetransmitTime()` and
 * `maxRetransmits()`, which return 0xFFFF for "unset"); W3C says `null`. 65535 is also a valid
 * limit, so the channel's own options decide: a limit it was not given reads `null`.
 */
function withW3cLimits(channel: RTCDataChannelLike, init: DataChannelInitLike): RTCDataChannelLike {
  for (const key of ["maxPacketLifeTime", "maxRetransmits"] as const) {
    if (init[key] === undefined) {
      Object.defineProperty(channel, key, { value: null, enumerable: true });
    }
  }
  return channel;
}
