/**
 * Liveness on Godot 4's `WebRTCMultiplayerPeer` (the same interpreter as `WebRTCMultiplayer`): the
 * options are validated at construction, two peers prove liveness to each other next to their extra
 * channels, and a graceful close is seen at once.
 */
import { assert, assertEquals, assertThrows } from "@std/assert";
import { connectPair, createPeerConnection } from "../../adapters/node_datachannel.ts";
import { GodotError, TransferMode } from "../../core/constants.ts";
import { WebRTCMultiplayerPeer } from "../../effects/multiplayer_peer.ts";
import { recordSignals, until } from "../_mesh.ts";

Deno.test("WebRTCMultiplayerPeer: liveness options refused with a TypeError at construction", () => {
  const bad = assertThrows(() =>
    new WebRTCMultiplayerPeer({ liveness: { timeoutMs: 3000, intervalMs: 2000 } })
  );
  assert(bad instanceof TypeError);
  assertEquals(bad.message, "liveness.intervalMs (2000) must be at most timeoutMs / 3 (1000)");
  assert(
    assertThrows(() => new WebRTCMultiplayerPeer({ liveness: null as never })) instanceof TypeError,
  );
  const off = new WebRTCMultiplayerPeer({ liveness: false });
  assertEquals(off.state.liveness.config, null);
});

Deno.test("WebRTCMultiplayerPeer with extra channels: beacons proven both ways, close seen at once", async () => {
  const a = new WebRTCMultiplayerPeer();
  const b = new WebRTCMultiplayerPeer();
  const log = recordSignals(a);
  assertEquals(a.createMesh(1, [TransferMode.RELIABLE, TransferMode.UNRELIABLE]), GodotError.OK);
  assertEquals(b.createMesh(2, [TransferMode.RELIABLE, TransferMode.UNRELIABLE]), GodotError.OK);
  const pa = createPeerConnection();
  const pb = createPeerConnection();
  assertEquals(a.addPeer(pa, 2), GodotError.OK);
  assertEquals(b.addPeer(pb, 1), GodotError.OK);
  // The liveness channel is the library's own: not among the peer's channels.
  assertEquals(a.getPeer(2)!.channels.map((c) => c.id), [1, 2, 3, 4, 5]);
  await connectPair(pa, pb);
  await until(() => a.stats().peers.get(2)?.departure === "beacons", 10000, "a proves b");
  await until(() => b.stats().peers.get(1)?.departure === "beacons", 10000, "b proves a");
  const t0 = performance.now();
  const gone = new Promise<number>((r) =>
    a.addEventListener("peer_disconnected", () => r(performance.now()))
  );
  b.close();
  const ms = (await gone) - t0;
  assert(ms < 500, `close seen after ${ms.toFixed(0)} ms`);
  assertEquals(log, ["peer_connected(2)", "peer_disconnected(2)"]);
  a.close();
  await Promise.all([a.whenClosed(), b.whenClosed()]);
});
