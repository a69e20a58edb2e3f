/**
 * The star benchmark: a Godot 4 server (`WebRTCMultiplayerPeer.createServer`) and N clients
 * (`createClient`) in one process, against the same N raw node-datachannel connections with the
 * same three negotiated channels. Measures formation time (first `addPeer` until every client is
 * `connected_to_server` and the server announced every client; raw: every connection connected and
 * its channels open) and a 20 Hz state broadcast: the server sends one state packet per tick to all
 * clients, every client reads them. CPU time is the whole process's (user + system, every thread,
 * native ones included) over the broadcast, per client per second.
 *
 * @module
 */
import process from "node:process";
import { WebRTCMultiplayerPeer } from "../effects/multiplayer_peer.ts";
import { connectPair, createPeerConnection, type StackPeerConnection } from "../tests/_stack.ts";
import { closeRaw, type RawChannel, rawChannels, rawReady, sleep, until } from "./_net.ts";

/** The broadcast rate, Hz. */
export const TICK_HZ = 20;

/** From formation until the broadcast starts, ms. */
export const SETTLE_MS = 5500;

/** One star run of one side. */
export interface StarRun {
  /** Formation time, ms. */
  readonly formationMs: number;
  /** Process CPU time during the broadcast, µs per client per second. */
  readonly cpuUsPerClientSec: number;
  /** State packets delivered to clients, and expected (N x ticks). */
  readonly delivered: number;
  readonly expected: number;
}

/** CPU time of the whole process so far, µs. */
function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/**
 * Sends one state per tick for `seconds`, then waits until `delivered()` reaches every client or
 * 2 s pass. Returns the CPU µs spent (sending, delivering, reading) per client per second.
 */
async function broadcast20Hz(
  n: number,
  seconds: number,
  send: (tick: number) => void,
  delivered: () => number,
): Promise<{ cpuUsPerClientSec: number; expected: number }> {
  // Steady state first: past the liveness probe window (5 s), in which the mesh never skips a
  // beat (core/liveness.ts L2), as on a server whose clients stay for minutes. Both sides wait.
  await sleep(SETTLE_MS);
  const ticks = Math.round(seconds * TICK_HZ);
  const cpu0 = cpuUs();
  const t0 = performance.now();
  for (let tick = 0; tick < ticks; tick++) {
    send(tick);
    // Ticks on a fixed schedule (no drift), as a game loop does.
    const next = t0 + ((tick + 1) * 1000) / TICK_HZ;
    await sleep(Math.max(0, next - performance.now()));
  }
  await until(() => delivered() >= n * ticks, 2000);
  const cpu = cpuUs() - cpu0;
  const elapsed = (performance.now() - t0) / 1000;
  return { cpuUsPerClientSec: cpu / n / elapsed, expected: n * ticks };
}

/** The mesh side: a Godot 4 server and `n` clients. */
export async function starMesh(n: number, seconds: number, size: number): Promise<StarRun> {
  const server = new WebRTCMultiplayerPeer();
  server.createServer();
  const clients = Array.from({ length: n }, (_, i) => {
    const c = new WebRTCMultiplayerPeer();
    c.createClient(i + 2);
    return c;
  });
  const everyone = [server, ...clients];
  try {
    const announced = new Promise<number>((resolve) => {
      let seen = 0;
      server.addEventListener("peer_connected", () => {
        if (++seen === n) resolve(performance.now());
      });
    });
    const joined = clients.map((c) =>
      new Promise<number>((resolve) =>
        c.addEventListener("connected_to_server", () => resolve(performance.now()), { once: true })
      )
    );
    const pcs = clients.map(() => [createPeerConnection(), createPeerConnection()] as const);
    const t0 = performance.now();
    clients.forEach((c, i) => {
      server.addPeer(pcs[i][0], i + 2);
      c.addPeer(pcs[i][1], 1);
    });
    // Godot 4's demo: the higher id (the client) makes the offer.
    await Promise.all(pcs.map(([s, c]) => connectPair(c, s)));
    const ends = await Promise.all([announced, ...joined]);
    const formationMs = Math.max(...ends) - t0;

    let delivered = 0;
    const stop = new AbortController();
    const readers = clients.map(async (c) => {
      for await (const _ of c.packets(stop.signal)) delivered++;
    });
    const state = new Uint8Array(size);
    const b = await broadcast20Hz(n, seconds, (tick) => {
      state[0] = tick & 0xff;
      server.putPacket(state);
    }, () => delivered);
    stop.abort();
    await Promise.all(readers);
    return { formationMs, cpuUsPerClientSec: b.cpuUsPerClientSec, delivered, expected: b.expected };
  } finally {
    for (const p of everyone) p.close();
    await Promise.all(everyone.map((p) => p.whenClosed()));
    await sleep(20);
  }
}

/** The raw side: `n` node-datachannel pairs with the same channels, the hub sending on each. */
export async function starRaw(n: number, seconds: number, size: number): Promise<StarRun> {
  const pcs: Array<readonly [StackPeerConnection, StackPeerConnection]> = Array.from(
    { length: n },
    () => [createPeerConnection(), createPeerConnection()] as const,
  );
  const t0 = performance.now();
  const chans = pcs.map(([s, c]) => [rawChannels(s), rawChannels(c)] as const);
  const all = chans.flatMap(([x, y]) => [...x, ...y]);
  try {
    const ready = Promise.all(
      pcs.flatMap(([s, c], k) => [rawReady(s, chans[k][0]), rawReady(c, chans[k][1])]),
    );
    await Promise.all(pcs.map(([s, c]) => connectPair(c, s)));
    await ready;
    const formationMs = performance.now() - t0;

    let delivered = 0;
    const count = () => delivered++;
    for (const [, cc] of chans) cc[0].addEventListener("message", count);
    const hub: RawChannel[] = chans.map(([sc]) => sc[0]);
    const state = new Uint8Array(size);
    const b = await broadcast20Hz(n, seconds, (tick) => {
      state[0] = tick & 0xff;
      for (let i = 0; i < hub.length; i++) hub[i].send(state);
    }, () => delivered);
    for (const [, cc] of chans) cc[0].removeEventListener("message", count);
    return { formationMs, cpuUsPerClientSec: b.cpuUsPerClientSec, delivered, expected: b.expected };
  } finally {
    await closeRaw(pcs.flat(), all);
  }
}
