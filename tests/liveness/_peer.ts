/**
 * A mesh peer in a process of its own for the liveness tests, signaled over its standard input and
 * output (one JSON object per line). Written against `node:` APIs only, so the same file runs in
 * Deno (`deno run -A`) and, bundled by esbuild, in Node. Not a test file.
 *
 * ```sh
 * deno run -A tests/liveness/_peer.ts <ownId> <remoteId> <idle|busy|count> [offer|answer] [heal]
 * ```
 *
 * `count`: sends 10,000 reliable packets numbered 0..9999 (u32, 1 KiB each), paced over about 8 s,
 * and checks that the packets it receives are numbered in order; it prints
 * `{"type":"received","count":n,"inOrder":bool}` when 10,000 arrived. `heal`: `reconnect` on, and
 * `peer_interrupted`/`peer_resumed` are printed as `{"type":"interrupted"|"resumed","at":...}`.
 *
 * It answers the offer it is given (or, with `offer`, prints an offer and takes the answer), trickles
 * its candidates, and prints `{"type":"connected"}` once its mesh announces the remote peer and
 * `{"type":"disconnected","at":<Date.now()>}` when it reports it gone. `busy`: then sends 4 KiB reliable packets as fast as `ERR_BUSY` allows. Every received
 * packet is counted. On `{"type":"close"}` it closes its mesh (a graceful leave), prints
 * `{"type":"closed","received":n}` and exits 0; standard input closing does the same.
 *
 * @module
 */
import process from "node:process";
import { createInterface } from "node:readline";
import { CandidateQueue, createPeerConnection } from "../../adapters/node_datachannel.ts";
import { withoutCandidates } from "../../adapters/loopback.ts";
import { GodotError } from "../../core/constants.ts";
import { WebRTCMultiplayer } from "../../effects/multiplayer.ts";

const args = process.argv.slice(2);
const [ownId, remoteId] = args.slice(0, 2).map(Number);
const busy = args[2] === "busy";
const counting = args[2] === "count";
const offering = args[3] === "offer";
const heal = args[4] === "heal";
const COUNT = 10_000;
const say = (value: unknown) => process.stdout.write(JSON.stringify(value) + "\n");

// LIVENESS=off: the raw stack's own detection (benchmarks).
const liveness = process.env.LIVENESS === "off" ? false : undefined;
const mesh = new WebRTCMultiplayer({ highWaterMark: 1 << 20, reconnect: heal, liveness });
for (const name of ["interrupted", "resumed"]) {
  mesh.addEventListener(`peer_${name}`, () => say({ type: name, at: Date.now() }));
}
mesh.initialize(ownId);
const pc = createPeerConnection();
if (mesh.addPeer(pc, remoteId) !== GodotError.OK) throw new Error(mesh.lastError.message);
const queue = new CandidateQueue((c) => pc.addIceCandidate(c));
// An offerer's candidates wait until it has the answer (see withoutCandidates).
let held: unknown[] | undefined = offering ? [] : undefined;
pc.addEventListener("icecandidate", (event) => {
  const c = (event as Event & { candidate?: { candidate: string; sdpMid?: string } }).candidate;
  if (!c?.candidate) return;
  const line = { type: "candidate", candidate: c.candidate, sdpMid: c.sdpMid };
  if (held !== undefined) held.push(line);
  else say(line);
});
mesh.addEventListener("peer_disconnected", () => say({ type: "disconnected", at: Date.now() }));
let running = true;
let received = 0;
let inOrder = true;
(async () => {
  for await (const packet of mesh.packets()) {
    if (counting) {
      const seq = new DataView(packet.data.buffer, packet.data.byteOffset).getUint32(0);
      if (seq !== received) inOrder = false;
      if (received + 1 === COUNT) say({ type: "received", count: COUNT, inOrder });
    }
    received++;
  }
})();
mesh.addEventListener("peer_connected", async () => {
  say({ type: "connected" });
  const payload = new Uint8Array(4096);
  for (let seq = 0; running && counting && seq < COUNT;) {
    const packet = new Uint8Array(1024);
    new DataView(packet.buffer).setUint32(0, seq);
    if (mesh.putPacket(packet) === GodotError.OK) seq++;
    else await new Promise((r) => setTimeout(r, 2));
    if (seq % 10 === 0) await new Promise((r) => setTimeout(r, 8));
  }
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

if (offering) {
  await pc.setLocalDescription(await pc.createOffer());
  say({ type: "offer", sdp: withoutCandidates(pc.localDescription!.sdp ?? "") });
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
  } else if (msg.type === "answer") {
    await pc.setRemoteDescription({ type: "answer", sdp: msg.sdp });
    await queue.ready();
    for (const line of held ?? []) say(line);
    held = undefined;
  } else if (msg.type === "candidate") {
    await queue.add({ candidate: msg.candidate, sdpMid: msg.sdpMid });
  } else if (msg.type === "close") {
    await leave();
  }
}
