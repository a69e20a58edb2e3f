/**
 * A script for the "close() during connection setup" test: two meshes in this process add a few
 * peers each, start negotiating, and call `close()` at the stage named by the first argument. Then
 * the script ends without `Deno.exit`: the process must exit on its own (no native handle, no
 * timer left), with code 0. Not a test file.
 *
 * Stages: `added` (channels made, nothing negotiated), `offer` (offers created), `described`
 * (descriptions exchanged, ICE running), `connecting` (the first connection is connecting),
 * `one-sided` (only mesh 1 closes, while connecting; the other meshes must notice on their own
 * and remove peer 1, which they do when ICE gives up: the script prints how long that took).
 *
 * @module
 */
import { connectPair, createPeerConnection } from "../_stack.ts";
import { GodotError } from "../../core/constants.ts";
import { WebRTCMultiplayer } from "../../effects/multiplayer.ts";

const stage = Deno.args[0] ?? "added";
const PEERS = 4;
const a = new WebRTCMultiplayer();
a.initialize(1);
const bIds = Array.from({ length: PEERS }, (_, i) => i + 2);
const others = bIds.map((id) => {
  const m = new WebRTCMultiplayer();
  m.initialize(id);
  return m;
});
const pairs = bIds.map((id, i) => {
  const pa = createPeerConnection();
  const pb = createPeerConnection();
  if (a.addPeer(pa, id) !== GodotError.OK) throw new Error(a.lastError.message);
  if (others[i].addPeer(pb, 1) !== GodotError.OK) throw new Error(others[i].lastError.message);
  return [pa, pb] as const;
});

const swallow = (p: Promise<unknown>) => p.catch(() => {});
if (stage === "offer") {
  await Promise.all(pairs.map(([pa]) => pa.setLocalDescription()));
} else if (stage === "described") {
  await Promise.all(pairs.map(([pa, pb]) => connectPair(pa, pb)));
} else if (stage === "connecting" || stage === "one-sided") {
  for (const [pa, pb] of pairs) swallow(connectPair(pa, pb));
  const start = Date.now();
  while (pairs[0][0].connectionState !== "connecting" && Date.now() - start < 5000) {
    await new Promise((r) => setTimeout(r, 1));
  }
}
if (stage === "one-sided") {
  a.close();
  await a.whenClosed();
  // The other side notices on its own (the remote closed its channels).
  const start = Date.now();
  const waitMs = Number(Deno.env.get("ONE_SIDED_WAIT_MS") ?? 60000);
  while (others.some((m) => m.hasPeer(1)) && Date.now() - start < waitMs) {
    await new Promise((r) => setTimeout(r, 10));
  }
  console.log(
    `others holding peer 1 after ${Date.now() - start} ms: ${
      others.filter((m) => m.hasPeer(1)).length
    } (states ${pairs.map(([, pb]) => pb.connectionState).join(",")})`,
  );
}
a.close();
for (const m of others) m.close();
await Promise.all([a, ...others].map((m) => m.whenClosed()));
console.log(`closed at stage ${stage}: ${pairs.map(([pa]) => pa.connectionState).join(",")}`);
