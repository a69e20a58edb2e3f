/**
 * Spawning a {@link ./_peer.ts} child in Deno or in Node and negotiating a mesh connection with it
 * over its standard input and output. Not a test file.
 *
 * @module
 */
import { createPeerConnection } from "../../adapters/node_datachannel.ts";
import type { NodePeerConnection } from "../../adapters/node_datachannel.ts";
import type { WebRTCMultiplayer } from "../../effects/multiplayer.ts";
import { linkChild } from "../_child_link.ts";

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
  let onClosed!: (n: number) => void;
  const closed = new Promise<number>((r) => onClosed = r);
  const link = await linkChild(mesh, childId, process, createPeerConnection, (msg) => {
    if (msg.type === "closed") onClosed(msg.received as number);
  });
  return {
    process,
    pc: link.pc,
    connected: link.connected,
    closed,
    send: link.send,
    stderr: link.stderr,
  };
}
