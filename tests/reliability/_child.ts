/**
 * Spawning a {@link ./_peer_process.ts} child and negotiating a mesh connection with it over its
 * standard input and output.
 *
 * @module
 */
import { CandidateQueue, createPeerConnection } from "../../adapters/node_datachannel.ts";
import { withoutCandidates } from "../../adapters/loopback.ts";
import type { NodePeerConnection } from "../../adapters/node_datachannel.ts";
import { GodotError } from "../../core/constants.ts";
import type { WebRTCMultiplayer } from "../../effects/multiplayer.ts";
import { lines } from "../../demo/_lines.ts";

/** A running child peer. */
export interface ChildPeer {
  process: Deno.ChildProcess;
  /** Our connection to it. */
  pc: NodePeerConnection;
  /** Resolves when the child reported that its mesh announced us. */
  connected: Promise<void>;
  /** Everything the child wrote to stderr. */
  stderr: Promise<string>;
  /** Closes the child's standard input (it then closes its mesh and exits). */
  closeInput(): Promise<void>;
}

const encoder = new TextEncoder();

/** Starts a child peer `childId` and adds a connection to it to `mesh` (whose id is `ownId`). */
export async function spawnChildPeer(
  mesh: WebRTCMultiplayer,
  ownId: number,
  childId: number,
): Promise<ChildPeer> {
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./_peer_process.ts", import.meta.url).pathname,
      `${childId}`,
      `${ownId}`,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = process.stdin.getWriter();
  const send = (value: unknown) => writer.write(encoder.encode(JSON.stringify(value) + "\n"));
  const pc = createPeerConnection();
  if (mesh.addPeer(pc, childId) !== GodotError.OK) throw new Error(mesh.lastError.message);
  const queue = new CandidateQueue((c) => pc.addIceCandidate(c));
  // Our candidates go only once we have applied the answer, and the offer goes without them, as
  // connectPair and the signaling client do (see withoutCandidates): else the child's DTLS
  // handshake can overtake the answer here, and the setup fails for good.
  const outgoing = new CandidateQueue(async (c) => {
    await send({ type: "candidate", candidate: c.candidate, sdpMid: c.sdpMid });
  });
  pc.addEventListener("icecandidate", (event) => {
    const c = (event as Event & { candidate?: { candidate: string; sdpMid?: string } }).candidate;
    if (c?.candidate) outgoing.add(c).catch(() => {/* the child is gone */});
  });
  let onConnected!: () => void;
  const connected = new Promise<void>((r) => onConnected = r);
  const stderr = new Response(process.stderr).text();
  // Read the child's lines.
  (async () => {
    for await (const line of lines(process.stdout)) {
      const msg = JSON.parse(line);
      try {
        if (msg.type === "answer") {
          await pc.setRemoteDescription({ type: "answer", sdp: msg.sdp });
          await queue.ready();
          await outgoing.ready();
        } else if (msg.type === "candidate") {
          await queue.add({ candidate: msg.candidate, sdpMid: msg.sdpMid });
        } else if (msg.type === "connected") onConnected();
      } catch {
        // Our side was closed meanwhile.
      }
    }
  })();
  await pc.setLocalDescription(await pc.createOffer());
  await send({ type: "offer", sdp: withoutCandidates(pc.localDescription!.sdp ?? "") });
  return {
    process,
    pc,
    connected,
    stderr,
    closeInput: async () => {
      try {
        await writer.close();
      } catch {
        // the child is gone
      }
    },
  };
}
