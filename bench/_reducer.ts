/**
 * The pure-core benchmarks: reducer events per second on a realistic event stream, and the cost of
 * routing one packet.
 *
 * @module
 */
import { TransferMode } from "../core/constants.ts";
import type { Event } from "../core/events.ts";
import { reduce } from "../core/reduce.ts";
import { admit, route } from "../core/route.ts";
import { initialState, type MeshState } from "../core/state.ts";

/**
 * The event stream a real mesh of `peers` remote peers feeds its reducer over one session, in the
 * order the interpreter produces it: initialize, addPeer per peer, the connections' and channels'
 * state reports as they interleave on the wire, a few setting changes, one peer leaving (channel
 * and connection reports, then removePeer), and close.
 */
export function sessionEvents(peers: number): Event[] {
  const ids = Array.from({ length: peers }, (_, i) => i + 2);
  const ev: Event[] = [{ type: "InitializeRequested", peerId: 1, serverCompatibility: false }];
  for (const id of ids) {
    ev.push({
      type: "AddPeerRequested",
      peerId: id,
      lifetime: 1,
      connection: { w3c: true, state: "new", description: "RTCPeerConnection" },
    });
  }
  for (const id of ids) {
    ev.push({ type: "ConnectionStateChanged", peerId: id, state: "connecting" });
  }
  // Connections complete in a scrambled order; each one's channels open right after it.
  const order = ids.map((id, i) => ids[(i * 5 + 3) % ids.length] ?? id);
  for (const id of new Set([...order, ...ids])) {
    ev.push({ type: "ConnectionStateChanged", peerId: id, state: "connected" });
    for (const channel of [0, 2, 1] as const) {
      ev.push({ type: "ChannelStateChanged", peerId: id, channel, state: "open" });
    }
  }
  ev.push({ type: "TransferModeSet", value: TransferMode.UNRELIABLE });
  ev.push({ type: "TargetPeerSet", value: ids[0] });
  ev.push({ type: "TargetPeerSet", value: 0 });
  ev.push({ type: "TransferModeSet", value: TransferMode.RELIABLE });
  const leaving = ids[ids.length - 1];
  ev.push({ type: "ChannelStateChanged", peerId: leaving, channel: 0, state: "closing" });
  ev.push({ type: "ChannelStateChanged", peerId: leaving, channel: 0, state: "closed" });
  ev.push({ type: "ConnectionStateChanged", peerId: leaving, state: "disconnected" });
  ev.push({ type: "RemovePeerRequested", peerId: leaving });
  ev.push({ type: "CloseRequested" });
  return ev;
}

/** Reducer throughput: events per second over repeated sessions, for about `ms` milliseconds. */
export function reducerRate(peers: number, ms: number): { eventsPerSec: number; events: number } {
  const stream = sessionEvents(peers);
  let events = 0;
  let sink = 0;
  const t0 = performance.now();
  let now = t0;
  while (now - t0 < ms) {
    for (let rep = 0; rep < 50; rep++) {
      let state: MeshState = initialState;
      for (let i = 0; i < stream.length; i++) {
        const [next, effects] = reduce(state, stream[i]);
        state = next;
        sink += effects.length;
      }
      events += stream.length;
    }
    now = performance.now();
  }
  if (sink < 0) throw new Error("unreachable");
  return { eventsPerSec: events / ((now - t0) / 1000), events };
}

/** A connected mesh state with `peers` remote peers, all channels open. */
export function connectedState(peers: number): MeshState {
  let state: MeshState = initialState;
  for (const e of sessionEvents(peers)) {
    if (e.type === "TransferModeSet" || e.type === "ChannelStateChanged" && e.state !== "open") {
      break;
    }
    state = reduce(state, e)[0];
  }
  return state;
}

/**
 * Nanoseconds per routed packet: `route()` plus one `admit()` per target, the pure part of
 * `putPacket`, on a state with `peers` connected peers (broadcast).
 */
export function routeCost(peers: number, ms: number): number {
  const state = connectedState(peers);
  let calls = 0;
  let sink = 0;
  const t0 = performance.now();
  let now = t0;
  while (now - t0 < ms) {
    for (let i = 0; i < 10000; i++) {
      const r = route(state);
      if (r.error === 0) {
        for (let k = 0; k < r.peers.length; k++) {
          if (admit(1200, 262144, r.channel, 0, 16 << 20, r.peers[k]) !== undefined) sink++;
        }
        sink += r.peers.length;
      }
    }
    calls += 10000;
    now = performance.now();
  }
  if (sink !== calls * peers) throw new Error(`route bench: expected ${peers} targets per call`);
  return ((now - t0) * 1e6) / calls;
}
