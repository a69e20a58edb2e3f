/**
 * A mesh peer in a process of its own, signaled over its standard input and output (one JSON
 * object per line), for fault tests that kill it. Not a test file.
 *
 * ```sh
 * deno run -A tests/reliability/_peer_process.ts <ownId> <remoteId>
 * ```
 *
 * It answers the parent's offer, prints `{"type":"connected"}` once the mesh announces the parent,
 * then sends 4 KiB reliable packets to it as fast as `ERR_BUSY` allows, until it is killed or its
 * standard input closes (then it closes the mesh and exits 0).
 *
 * @module
 */
import { CandidateQueue, createPeerConnection } from "../_stack.ts";
import { GodotError } from "../../core/constants.ts";
import { WebRTCMultiplayer } from "../../effects/multiplayer.ts";
import { lines } from "../../demo/_lines.ts";

const [ownId, remoteId] = Deno.args.map(Number);
const encoder = new TextEncoder();
const say = (value: unknown) => Deno.stdout.writeSync(encoder.encode(JSON.stringify(value) + "\n"));

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
mesh.addEventListener("peer_connected", async () => {
  say({ type: "connected" });
  const payload = new Uint8Array(4096);
  while (running) {
    const r = mesh.putPacket(payload);
    await new Promise((r2) => setTimeout(r2, r === GodotError.OK ? 0 : 2));
  }
});

for await (const line of lines(Deno.stdin.readable)) {
  const msg = JSON.parse(line);
  if (msg.type === "offer") {
    await pc.setRemoteDescription({ type: "offer", sdp: msg.sdp });
    await queue.ready();
    await pc.setLocalDescription(await pc.createAnswer());
    say({ type: "answer", sdp: pc.localDescription!.sdp });
  } else if (msg.type === "candidate") {
    await queue.add({ candidate: msg.candidate, sdpMid: msg.sdpMid });
  }
}
running = false;
mesh.close();
await mesh.whenClosed();
