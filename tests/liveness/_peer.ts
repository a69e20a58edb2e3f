/**
 * A mesh peer in a process of its own for the liveness tests, signaled over its standard input and
 * output (one JSON object per line). Written against `node:` APIs only, so the same file runs in
 * Deno (`deno run -A`) and, bundled by esbuild, in Node. Not a test file.
 *
 * ```sh
 * deno run -A tests/liveness/_peer.ts <ownId> <remoteId> <idle|busy>
 * ```
 *
 * It answers the parent's offer and prints `{"type":"connected"}` once its mesh announces the
 * parent. `busy`: then sends 4 KiB reliable packets as fast as `ERR_BUSY` allows. Every received
 * packet is counted. On `{"type":"close"}` it closes its mesh (a graceful leave), prints
 * `{"type":"closed","received":n}` and exits 0; standard input closing does the same.
 *
 * @module
 */
import process from "node:process";
import { createInterface } from "node:readline";
import { CandidateQueue, createPeerConnection } from "../../adapters/node_datachannel.ts";
import { GodotError } from "../../core/constants.ts";
import { WebRTCMultiplayer } from "../../effects/multiplayer.ts";

const [ownId, remoteId] = process.argv.slice(-3, -1).map(Number);
const busy = process.argv.at(-1) === "busy";
const say = (value: unknown) => process.stdout.write(JSON.stringify(value) + "\n");

const mesh = new WebRTCMultiplayer({ highWaterMark: 1 << 20 });
mesh.initialize(ownId);
const pc = createPeerConnection();
if (mesh.addPeer(pc, remoteId) !== GodotError.OK) throw new Error(mesh.lastError.message);
const queue = new CandidateQueue((c) => pc.addIceCandidate(c));
pc.addEventListener("icecandidate", (event) => {
  const c = (event as Event & { candidate?: { candidate: string; sdpMid?: string } }).candidate;
  if (c?.candidate) say({ type: "candidate", candidate: c.candidate, sdpMid: c.sdpMid });
});
let running = true;
let received = 0;
(async () => {
  for await (const _ of mesh.packets()) received++;
})();
mesh.addEventListener("peer_connected", async () => {
  say({ type: "connected" });
  const payload = new Uint8Array(4096);
  while (running && busy) {
    const r = mesh.putPacket(payload);
    await new Promise((r2) => setTimeout(r2, r === GodotError.OK ? 0 : 2));
  }
});

async function leave(): Promise<void> {
  if (!running) return;
  running = false;
  mesh.close();
  await mesh.whenClosed();
  say({ type: "closed", received });
  process.exit(0);
}

const input = createInterface({ input: process.stdin });
input.on("close", leave);
for await (const line of input) {
  const msg = JSON.parse(line);
  if (msg.type === "offer") {
    await pc.setRemoteDescription({ type: "offer", sdp: msg.sdp });
    await queue.ready();
    await pc.setLocalDescription(await pc.createAnswer());
    say({ type: "answer", sdp: pc.localDescription!.sdp });
  } else if (msg.type === "candidate") {
    await queue.add({ candidate: msg.candidate, sdpMid: msg.sdpMid });
  } else if (msg.type === "close") {
    await leave();
  }
}
