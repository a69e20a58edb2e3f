/**
 * Raw node-datachannel (no code of ours), run inside a lab namespace by `turn_raw_test.ts`:
 * gathers with policy "relay" on connections bound to given local UDP ports, one after the other,
 * each closed before the next, and prints one JSON line per connection:
 * `{"port","relay":<relay candidates gathered>,"ms"}`.
 *
 * Usage: `_turn_raw.ts TURN_URL PORT...` (`turn:user:password@host:port`).
 *
 * @module
 */
import nodeDataChannel from "node-datachannel";

const [turnUrl, ...ports] = Deno.args;
for (const port of ports.map(Number)) {
  const started = performance.now();
  const pc = new nodeDataChannel.PeerConnection(`raw-${port}`, {
    iceServers: [turnUrl],
    iceTransportPolicy: "relay",
    portRangeBegin: port,
    portRangeEnd: port,
  });
  let relay = 0;
  const complete = new Promise<void>((resolve) => {
    pc.onLocalCandidate((candidate) => {
      if (/ typ relay/.test(candidate)) relay++;
    });
    pc.onGatheringStateChange((state) => {
      if (state === "complete") resolve();
    });
  });
  pc.createDataChannel("x"); // starts the offer, and so the gathering
  await Promise.race([complete, new Promise((r) => setTimeout(r, 5000))]);
  console.log(JSON.stringify({ port, relay, ms: Math.round(performance.now() - started) }));
  pc.close();
  await new Promise((r) => setTimeout(r, 200)); // let the stack close the socket
}
// No cleanup(): it can crash at exit (README, stack defects); exiting is enough.
Deno.exit(0);
