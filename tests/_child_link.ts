/**
 * The parent's side of a mesh connection to a child peer process, negotiated over the child's
 * standard input and output as JSON lines (`offer`, `answer`, `candidate`, `connected`, and any
 * others the caller reads): shared by the reliability suite's child (reliability/_child.ts) and the
 * liveness suite's (liveness/_spawn.ts). Not a test file.
 *
 * @module
 */
import { CandidateQueue, withoutCandidates } from "../adapters/loopback.ts";
import type { SignalingPeerConnection } from "../adapters/loopback.ts";
import { GodotError } from "../core/constants.ts";
import type { RTCPeerConnectionLike } from "../effects/w3c.ts";
import type { WebRTCMultiplayer } from "../effects/multiplayer.ts";
import { lines } from "../demo/_lines.ts";

/** The link to a child: our connection to it, and the lines both ways. */
export interface ChildLink<P> {
  /** Our connection to the child (already added to the mesh). */
  pc: P;
  /** Sends one JSON line to the child; never throws (a gone child loses it). */
  send(value: unknown): Promise<void>;
  /** Resolves when the child reported that its mesh announced us; rejects if it exits first. */
  connected: Promise<void>;
  /** Everything the child wrote to stderr. */
  stderr: Promise<string>;
  /** Closes the child's standard input. */
  closeInput(): Promise<void>;
}

const encoder = new TextEncoder();

/**
 * Adds a connection made by `create` to `mesh` as peer `childId`, offers it to the running child
 * `process`, and reads the child's lines: answers and candidates are applied, `connected` resolves
 * {@link ChildLink.connected}, anything else goes to `onLine`. The offer goes without its
 * candidates, which follow the answer (one the child got inline before its ICE transport exists
 * fails its setRemoteDescription: "Got a remote candidate without ICE transport").
 */
export async function linkChild<P extends RTCPeerConnectionLike & SignalingPeerConnection>(
  mesh: WebRTCMultiplayer,
  childId: number,
  process: Deno.ChildProcess,
  create: () => P,
  onLine: (msg: { type: string; [key: string]: unknown }) => void = () => {},
): Promise<ChildLink<P>> {
  const writer = process.stdin.getWriter();
  const send = async (value: unknown) => {
    try {
      await writer.write(encoder.encode(JSON.stringify(value) + "\n"));
    } catch {
      // the child is gone
    }
  };
  const pc = create();
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
  let onFailed!: (e: Error) => void;
  const connected = new Promise<void>((resolve, reject) => {
    onConnected = resolve;
    onFailed = reject;
  });
  connected.catch(() => {}); // observed by the caller's await; never unhandled after a kill
  const stderr = new Response(process.stderr).text();
  // A child that dies before connecting fails the wait with its reason instead of hanging.
  process.status.then(async (status) =>
    onFailed(
      new Error(`child exited (${JSON.stringify(status)}) before connecting: ${await stderr}`),
    )
  );
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
        else onLine(msg);
      } catch {
        // Our side was closed meanwhile.
      }
    }
  })();
  await pc.setLocalDescription(await pc.createOffer());
  await send({ type: "offer", sdp: withoutCandidates(pc.localDescription!.sdp ?? "") });
  return {
    pc,
    send,
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
