/**
 * Benchmark plumbing: mesh pairs and the raw equivalent on the stack under test (`MESH_STACK`, as
 * the tests: same connections, same three negotiated channels), flow-controlled senders, and clean
 * shutdown.
 *
 * @module
 */
import { CHANNEL_SPECS } from "../core/reduce.ts";
import { WebRTCMultiplayer } from "../effects/multiplayer.ts";
import type { RTCDataChannelLike } from "../effects/w3c.ts";
import { connectPair, createPeerConnection, type StackPeerConnection } from "../tests/_stack.ts";

/** A raw channel as the polyfill exposes it (W3C shape plus the flow-control bits we use). */
export type RawChannel = RTCDataChannelLike & {
  bufferedAmountLowThreshold: number;
};

/** Two raw connections with the mesh's three negotiated channels on each side. */
export interface RawPair {
  readonly a: StackPeerConnection;
  readonly b: StackPeerConnection;
  /** `[reliable, ordered, unreliable]` on side a. */
  readonly ca: RawChannel[];
  /** `[reliable, ordered, unreliable]` on side b. */
  readonly cb: RawChannel[];
}

/** Two meshes (ids 1 and 2) connected to each other. */
export interface MeshPair {
  readonly a: WebRTCMultiplayer;
  readonly b: WebRTCMultiplayer;
}

/** Resolves on the first `type` event of `target`. */
export function once(target: EventTarget, type: string): Promise<Event> {
  return new Promise((resolve) => target.addEventListener(type, resolve, { once: true }));
}

/** Sleeps `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Creates the three channels of SPEC rule 3 on a raw connection (what `addPeer` creates). */
export function rawChannels(pc: StackPeerConnection): RawChannel[] {
  return CHANNEL_SPECS(1).map((spec) => {
    const c = pc.createDataChannel(spec.label, { ...spec.init }) as RawChannel;
    c.binaryType = "arraybuffer";
    return c;
  });
}

/** Waits until a raw connection is `connected` and all of its channels are open. */
export function rawReady(pc: StackPeerConnection, channels: RawChannel[]): Promise<void> {
  const opened = channels.map((c) =>
    c.readyState === "open" ? Promise.resolve() : once(c as unknown as EventTarget, "open")
  );
  const connected = new Promise<void>((resolve) => {
    const check = () => {
      if (pc.connectionState === "connected") {
        pc.removeEventListener("connectionstatechange", check);
        resolve();
      }
    };
    pc.addEventListener("connectionstatechange", check);
    check();
  });
  return Promise.all([...opened, connected]).then(() => undefined);
}

/** Connects a raw pair and waits until both sides are ready. */
export async function rawPair(): Promise<RawPair> {
  const a = createPeerConnection();
  const b = createPeerConnection();
  const ca = rawChannels(a);
  const cb = rawChannels(b);
  const ready = Promise.all([rawReady(a, ca), rawReady(b, cb)]);
  await connectPair(a, b);
  await ready;
  return { a, b, ca, cb };
}

/** Closes raw connections and waits for their channels to report `close`. */
export async function closeRaw(
  pcs: StackPeerConnection[],
  channels: RawChannel[],
): Promise<void> {
  // As the mesh does: close the connections and let their channels close with them (closing a
  // channel by itself can lose its native close; see the mesh's #closeLink), then wait for every
  // channel's close, so that no teardown overlaps the next measurement.
  const closed = channels.filter((c) => c.readyState !== "closed").map((c) =>
    Promise.race([once(c as unknown as EventTarget, "close"), sleep(3000)])
  );
  for (const pc of pcs) pc.close();
  await Promise.all(closed);
  await sleep(20);
}

/** Waits until `mesh` has announced every id in `ids` (counting from now). */
export function meshConnected(mesh: WebRTCMultiplayer, ids: number[]): Promise<number> {
  const missing = new Set(ids);
  return new Promise((resolve) => {
    const on = (e: Event) => {
      missing.delete((e as CustomEvent<number>).detail);
      if (missing.size === 0) {
        mesh.removeEventListener("peer_connected", on);
        resolve(performance.now());
      }
    };
    mesh.addEventListener("peer_connected", on);
  });
}

/** Two meshes (1 and 2) over a real node-datachannel pair, both sides announced. */
export async function meshPair(): Promise<MeshPair> {
  const a = new WebRTCMultiplayer();
  const b = new WebRTCMultiplayer();
  a.initialize(1);
  b.initialize(2);
  const pa = createPeerConnection();
  const pb = createPeerConnection();
  const ready = Promise.all([meshConnected(a, [2]), meshConnected(b, [1])]);
  a.addPeer(pa, 2);
  b.addPeer(pb, 1);
  await connectPair(pa, pb);
  await ready;
  return { a, b };
}

/** Closes meshes and waits for their channels. */
export async function closeMeshes(meshes: WebRTCMultiplayer[]): Promise<void> {
  for (const m of meshes) m.close();
  await Promise.all(meshes.map((m) => m.whenClosed()));
  await sleep(20);
}

/** Flow-control window shared by raw and mesh senders (bytes buffered per channel). */
export const HIGH_WATER = 1 << 20;
/** The longest a sender keeps the event loop before letting receivers run, ms. */
export const YIELD_MS = 5;
/** `bufferedamountlow` threshold of that window. */
export const LOW_WATER = 256 << 10;

/**
 * Sends with `send()` until `until` (a `performance.now()` time), never letting any of
 * `channels` buffer more than {@link HIGH_WATER} bytes; waits for `bufferedamountlow` in between.
 * Returns the number of `send()` calls.
 */
export async function pump(
  channels: RawChannel[],
  send: () => void,
  until: number,
): Promise<number> {
  for (const c of channels) c.bufferedAmountLowThreshold = LOW_WATER;
  let sent = 0;
  const fullest = () => {
    let max = channels[0];
    for (const c of channels) if (c.bufferedAmount > max.bufferedAmount) max = c;
    return max;
  };
  let yielded = performance.now();
  while (performance.now() < until) {
    for (let i = 0; i < 64; i++) {
      if (fullest().bufferedAmount >= HIGH_WATER) break;
      send();
      sent++;
    }
    const f = fullest();
    if (f.bufferedAmount >= HIGH_WATER) {
      await Promise.race([once(f as unknown as EventTarget, "bufferedamountlow"), sleep(50)]);
      yielded = performance.now();
    } else if ((sent & 1023) === 0 || performance.now() - yielded > YIELD_MS) {
      // Let the receivers in this process run. In @roamhq/wrtc send() is a blocking call into
      // libwebrtc's network thread (about 60 µs) and bufferedAmount stays 0, so without the time
      // rule the sender would hold the event loop for hundreds of milliseconds.
      await sleep(0);
      yielded = performance.now();
    }
  }
  return sent;
}

/** Waits until `done()` holds or `ms` pass. */
export async function until(done: () => boolean, ms = 5000): Promise<boolean> {
  const end = performance.now() + ms;
  while (!done()) {
    if (performance.now() > end) return false;
    await sleep(5);
  }
  return true;
}
