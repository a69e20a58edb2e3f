/**
 * A peer whose timers run once a second (a hidden browser tab: Chrome aligns its timers to 1 s) is
 * never reported gone, and does not report its peer gone either. Modelled on real node-datachannel
 * connections by a mesh with `autoPoll: false` whose `poll()` runs from a 1 s timer: its beats go
 * out once a second and its observations wait for the next poll, exactly what throttling does.
 */
import { assertEquals } from "@std/assert";
import { connectPair, createPeerConnection } from "../../adapters/node_datachannel.ts";
import { GodotError } from "../../core/constants.ts";
import { WebRTCMultiplayer } from "../../effects/multiplayer.ts";
import { recordSignals, until } from "../_mesh.ts";

Deno.test("a peer throttled to one wake-up per second is not a departure, either way (10 s)", async () => {
  const awake = new WebRTCMultiplayer();
  const throttled = new WebRTCMultiplayer({ autoPoll: false });
  const awakeLog = recordSignals(awake);
  const throttledLog = recordSignals(throttled);
  awake.initialize(1);
  throttled.initialize(2);
  const pa = createPeerConnection();
  const pb = createPeerConnection();
  assertEquals(awake.addPeer(pa, 2), GodotError.OK);
  assertEquals(throttled.addPeer(pb, 1), GodotError.OK);
  // Connect with frequent polls, then throttle.
  let pollMs = 10;
  let running = true;
  const poller = (async () => {
    while (running) {
      throttled.poll();
      await new Promise((r) => setTimeout(r, pollMs));
    }
  })();
  await connectPair(pa, pb);
  await until(() => awake.stats().peers.get(2)?.departure === "beacons", 10000, "awake proves");
  await until(() => throttled.stats().peers.get(1)?.departure === "beacons", 10000, "throttled");
  pollMs = 1000;
  await new Promise((r) => setTimeout(r, 10_000));
  running = false;
  await poller;
  assertEquals(awakeLog, ["peer_connected(2)"]);
  assertEquals(throttledLog, ["peer_connected(1)"]);
  awake.close();
  throttled.close();
  await Promise.all([awake.whenClosed(), throttled.whenClosed()]);
});
