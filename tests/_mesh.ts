/**
 * Test helpers: real node-datachannel meshes in one process, Godot 3 (`WebRTCMultiplayer`) or
 * Godot 4 (`WebRTCMultiplayerPeer`).
 *
 * @module
 */
import { connectPair, createPeerConnection } from "./_stack.ts";
import type { StackPeerConnection } from "./_stack.ts";
import { type MeshOptions, WebRTCMultiplayer } from "../effects/multiplayer.ts";
import { WebRTCMultiplayerPeer } from "../effects/multiplayer_peer.ts";
import { GodotError } from "../core/constants.ts";

/** Either API's peer object. */
export type AnyMesh = WebRTCMultiplayer | WebRTCMultiplayerPeer;

/** Waits until `cond()` holds, polling every 5 ms; throws after `ms`. */
export async function until(cond: () => boolean, ms = 10000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Awaits `promise`, or throws after `ms` with `what` and, if given, `diagnose()`'s view of the
 * state: a wait that never ends fails with what it was waiting for instead of hanging the run.
 */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  diagnose: () => string = () => "",
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const view = diagnose();
      reject(new Error(`timed out after ${ms} ms waiting for ${what}${view ? `; ${view}` : ""}`));
    }, ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Records every signal a mesh emits (Godot 3's and Godot 4's), as `name(detail)` strings. */
export function recordSignals(mesh: AnyMesh): string[] {
  const log: string[] = [];
  for (
    const name of [
      "peer_connected",
      "peer_disconnected",
      "connection_succeeded",
      "server_disconnected",
      "connected_to_server",
      "connection_failed",
    ]
  ) {
    mesh.addEventListener(name, (e) => {
      const detail = (e as CustomEvent).detail;
      log.push(detail === undefined ? name : `${name}(${detail})`);
    });
  }
  return log;
}

/** A set of meshes plus the native connections between them. */
export interface Cluster<M extends AnyMesh = WebRTCMultiplayer> {
  meshes: Map<number, M>;
  /** `connections.get(a)!.get(b)` is a's connection to b. */
  connections: Map<number, Map<number, StackPeerConnection>>;
  signals: Map<number, string[]>;
}

/** Creates one initialized mesh per id (no connections yet). */
export function cluster(
  ids: number[],
  { serverCompatibility = false, options = {} }: {
    serverCompatibility?: boolean;
    options?: MeshOptions;
  } = {},
): Cluster {
  const c: Cluster = { meshes: new Map(), connections: new Map(), signals: new Map() };
  for (const id of ids) {
    const mesh = new WebRTCMultiplayer(options);
    if (mesh.initialize(id, serverCompatibility) !== GodotError.OK) {
      throw new Error(mesh.lastError.message);
    }
    c.meshes.set(id, mesh);
    c.connections.set(id, new Map());
    c.signals.set(id, recordSignals(mesh));
  }
  return c;
}

/**
 * Creates one Godot 4 peer per entry of `setup` (id -> a `create*` call on the peer), no
 * connections yet.
 */
export function cluster4(
  setup: ReadonlyArray<readonly [number, (peer: WebRTCMultiplayerPeer) => GodotError]>,
  options: MeshOptions = {},
): Cluster<WebRTCMultiplayerPeer> {
  const c: Cluster<WebRTCMultiplayerPeer> = {
    meshes: new Map(),
    connections: new Map(),
    signals: new Map(),
  };
  for (const [id, create] of setup) {
    const peer = new WebRTCMultiplayerPeer(options);
    if (create(peer) !== GodotError.OK) throw new Error(peer.lastError.message);
    c.meshes.set(id, peer);
    c.connections.set(id, new Map());
    c.signals.set(id, recordSignals(peer));
  }
  return c;
}

/**
 * Adds a connection between meshes `a` and `b` on both sides and negotiates it.
 *
 * libdatachannel sometimes refuses a well-formed answer with "Got a remote candidate without ICE
 * transport" when many connections handshake at once on a busy CPU (a known race in the stack,
 * reproduced elsewhere with two bare peers; the connection is unusable afterwards). Only that
 * error is retried, with fresh connections; anything else fails the test.
 */
export async function link<M extends AnyMesh>(
  c: Cluster<M>,
  a: number,
  b: number,
  lifetime = 1,
): Promise<void> {
  const ma = c.meshes.get(a)!;
  const mb = c.meshes.get(b)!;
  for (let attempt = 1;; attempt++) {
    const pa = createPeerConnection();
    const pb = createPeerConnection();
    c.connections.get(a)!.set(b, pa);
    c.connections.get(b)!.set(a, pb);
    if (ma.addPeer(pa, b, lifetime) !== GodotError.OK) throw new Error(ma.lastError.message);
    if (mb.addPeer(pb, a, lifetime) !== GodotError.OK) throw new Error(mb.lastError.message);
    try {
      await connectPair(pa, pb);
      return;
    } catch (error) {
      if (attempt >= 3 || !String(error).includes("without ICE transport")) throw error;
      ma.removePeer(b);
      mb.removePeer(a);
      await Promise.all([ma.whenClosed(), mb.whenClosed()]);
    }
  }
}

/** Links every pair of meshes and waits until every mesh sees every other one connected. */
export async function fullMesh<M extends AnyMesh>(c: Cluster<M>): Promise<void> {
  const ids = [...c.meshes.keys()];
  const links: Promise<void>[] = [];
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) links.push(link(c, ids[i], ids[j]));
  }
  await Promise.all(links);
  await until(
    () =>
      [...c.meshes.values()].every((m) =>
        [...m.getPeers().values()].filter((p) => p.connected).length === ids.length - 1
      ),
    15000,
    "full mesh",
  );
}

/** Closes every mesh and waits for their native channels to finish closing. */
export async function closeAll<M extends AnyMesh>(c: Cluster<M>): Promise<void> {
  for (const m of c.meshes.values()) m.close();
  for (const peers of c.connections.values()) {
    for (const pc of peers.values()) pc.close();
  }
  await Promise.all([...c.meshes.values()].map((m) => m.whenClosed()));
  await settleNative();
}

/**
 * Lets the stack finish what closing queued before a test ends. `@roamhq/wrtc` delivers its
 * events through `process.nextTick` and stops its native wrappers (`RTCSctpTransport`) on its own
 * loop; a `deno test` module that ends with those still queued segfaults at exit (a raw
 * reproduction: tests/stack/wrtc_raw_test.ts). One macrotask is enough.
 */
export function settleNative(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Waits until `mesh` has at least `n` packets queued, then drains them all with their senders. */
export async function drain(
  mesh: AnyMesh,
  n: number,
  ms = 5000,
): Promise<Array<{ peer: number; data: Uint8Array }>> {
  await until(() => mesh.getAvailablePacketCount() >= n, ms, `${n} packets`);
  const out: Array<{ peer: number; data: Uint8Array }> = [];
  while (mesh.getAvailablePacketCount() > 0) {
    const peer = mesh.getPacketPeer();
    out.push({ peer, data: mesh.getPacket()! });
  }
  return out;
}

/** Takes the next packet from `packets()` or throws after `ms`. */
export async function nextPacket<P>(
  mesh: { packets(signal?: AbortSignal): AsyncIterableIterator<P> },
  ms = 5000,
): Promise<P> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ms);
  try {
    for await (const p of mesh.packets(abort.signal)) return p;
  } finally {
    clearTimeout(timer);
  }
  throw new Error(`no packet within ${ms} ms`);
}

/** Bytes of a string. */
export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
/** String of bytes. */
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);
