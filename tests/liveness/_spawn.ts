/**
 * Spawning a {@link ./_peer.ts} child in Deno or in Node and negotiating a mesh connection with it
 * over its standard input and output. Not a test file.
 *
 * @module
 */
import { CandidateQueue, createPeerConnection } from "../../adapters/node_datachannel.ts";
import type { NodePeerConnection } from "../../adapters/node_datachannel.ts";
import { withoutCandidates } from "../../adapters/loopback.ts";
import { GodotError } from "../../core/constants.ts";
import type { WebRTCMultiplayer } from "../../effects/multiplayer.ts";
import { lines } from "../../demo/_lines.ts";

/** Which runtime runs the child. */
export type Runtime = "deno" | "node";

/** A running child peer. */
export interface Child {
  process: Deno.ChildProcess;
  pc: NodePeerConnection;
  /** Resolves when the child's mesh announced us. */
  connected: Promise<void>;
  /** Resolves with the child's packet count once it closed its mesh gracefully. */
  closed: Promise<number>;
  /** Sends one JSON line to the child. */
  send(value: unknown): Promise<void>;
  stderr: Promise<string>;
}

const encoder = new TextEncoder();
const root = new URL("../../", import.meta.url).pathname;
let nodeBundle: Promise<string> | undefined;

/** Bundles `_peer.ts` for Node once per process (node-datachannel stays external). */
function bundleForNode(): Promise<string> {
  nodeBundle ??= (async () => {
    const out = `${root}.test-results/liveness_peer_${Deno.pid}.mjs`;
    await Deno.mkdir(`${root}.test-results`, { recursive: true });
    const build = await new Deno.Command(`${root}node_modules/.bin/esbuild`, {
      args: [
        `${root}tests/liveness/_peer.ts`,
        "--bundle",
        "--platform=node",
        "--format=esm",
        "--target=node20",
        "--external:node-datachannel",
        `--outfile=${out}`,
        "--log-level=warning",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!build.success) throw new Error(new TextDecoder().decode(build.stderr));
    return out;
  })();
  return nodeBundle;
}

/** Starts child `childId` (`idle` or `busy`) in `runtime` and adds a connection to it to `mesh`. */
export async function spawnPeer(
  mesh: WebRTCMultiplayer,
  ownId: number,
  childId: number,
  runtime: Runtime,
  mode: "idle" | "busy",
  env: Record<string, string> = {},
): Promise<Child> {
  const args = [`${childId}`, `${ownId}`, mode];
  const command = runtime === "deno"
    ? new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${root}tests/liveness/_peer.ts`, ...args],
      env,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    })
    : new Deno.Command("node", {
      args: [await bundleForNode(), ...args],
      cwd: root,
      env,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    });
  const process = command.spawn();
  const writer = process.stdin.getWriter();
  const send = async (value: unknown) => {
    try {
      await writer.write(encoder.encode(JSON.stringify(value) + "\n"));
    } catch {
      // the child is gone
    }
  };
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
  let onClosed!: (n: number) => void;
  let onFailed!: (e: Error) => void;
  const connected = new Promise<void>((r, reject) => {
    onConnected = r;
    onFailed = reject;
  });
  connected.catch(() => {}); // observed by the caller's await; never unhandled after a kill
  const closed = new Promise<number>((r) => onClosed = r);
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
        else if (msg.type === "closed") onClosed(msg.received);
      } catch {
        // Our side was closed meanwhile.
      }
    }
  })();
  await pc.setLocalDescription(await pc.createOffer());
  // The offer goes without its candidates: one the child gets inline before its ICE transport
  // exists fails its setRemoteDescription ("Got a remote candidate without ICE transport").
  await send({ type: "offer", sdp: withoutCandidates(pc.localDescription!.sdp ?? "") });
  return { process, pc, connected, closed, send, stderr };
}
