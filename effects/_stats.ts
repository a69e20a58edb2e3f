/**
 * The interpreter's counters (`stats()`): per peer, what its inbound queue counted
 * (`./inbox.ts`), what was sent to it and skipped for back-pressure (`./_links.ts`), how its
 * departure is detected (the liveness capability, core/liveness.ts L3) and its selected candidate
 * pair; and the totals, departed peers' counts included.
 *
 * @module
 */
import type { LivenessCapability } from "../core/liveness.ts";
import type { MeshState } from "../core/state.ts";
import type { Inbox } from "./inbox.ts";
import type { Links } from "./_links.ts";
import type { MeshStats, PeerStats } from "./mesh_types.ts";

/** How peer `peerId`'s departure is detected, or `undefined` when it is not in the mesh. */
function departureOf(state: MeshState, peerId: number): LivenessCapability | undefined {
  if (!state.peers.has(peerId)) return undefined;
  if (state.liveness.config === null) return "transport";
  return state.liveness.peers.get(peerId)?.capability ?? "probing";
}

/** The mesh's counters, from its links, its inbound queue and its state. */
export function meshStats<P extends { readonly peerId: number }>(
  links: Links,
  inbox: Inbox<P>,
  state: MeshState,
): MeshStats {
  const ids = new Set([...links.keys(), ...inbox.peerIds()]);
  const peers = new Map<number, PeerStats>();
  let received = 0;
  let dropped = 0;
  let sent = 0;
  for (const id of [...ids].sort((a, b) => a - b)) {
    const c = inbox.counters(id);
    const link = links.get(id);
    const departure = departureOf(state, id);
    const pair = link?.candidatePair;
    peers.set(id, {
      ...c,
      sent: link?.sent ?? 0,
      busy: link?.busy ?? 0,
      ...(departure === undefined ? {} : { departure }),
      ...(pair ? { candidatePair: pair } : {}),
    });
    received += c.received;
    dropped += c.dropped;
  }
  for (const link of links.values()) sent += link.sent;
  // Departed peers whose packets were all read are forgotten; their counts stay in the totals.
  const retired = inbox.retiredCounters();
  received += retired.received;
  dropped += retired.dropped;
  return { queued: inbox.size, received, dropped, sent, peers };
}
