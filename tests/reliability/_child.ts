/**
 * Spawning a {@link ./_peer_process.ts} child and negotiating a mesh connection with it over its
 * standard input and output.
 *
 * @module
 */
import { CandidateQueue, createPeerConnection } from "../_stack.ts";
import type { StackPeerConnection } from "../_stack.ts";
import { withoutCandidates } from "../../adapters/loopback.ts";
import { GodotError } from "../../core/constants.ts";
import type { WebRTCMultiplayer } from "../../effects/multiplayer.ts";
import { lines } from "../../demo/_lines.ts";

/** A running child peer. */
export interface ChildPeer {
  process: Deno.ChildProcess;
  /** Our connection to it. */
  pc: StackPeerConnection;
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
  let held: unknown[] | undefined = [];
  pc.addEventListener("icecandidate", (event) => {
    const c = (event as Event & { candidate?: { candidate: string; sdpMid?: string } }).candidate;
    if (!c?.candidate) return;
    const line = { type: "candidate", candidate: c.candidate, sdpMid: c.sdpMid };
    // Our candidates wait until we have the answer (see withoutCandidates).
    if (held !== undefined) held.push(line);
    else send(line);
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
          for (const line of held ?? []) send(line);
          held = undefined;
        } else if (msg.type === "candidate") {
          await queue.add({ candidate: msg.candidate, sdpMid: msg.sdpMid });
        } else if (msg.type === "connected") onConnected();
      } catch {
        // Our side was closed meanwhile.
      }
    }
  })();
  await pc.setLocalDescription(await pc.createOffer());
  // The offer goes without its candidates: one the child gets inline before its ICE transport
  // exists fails its setRemoteDescription ("Got a remote candidate without ICE transport").
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
