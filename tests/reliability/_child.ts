/**
 * Spawning a {@link ./_peer_process.ts} child and negotiating a mesh connection with it over its
 * standard input and output.
 *
 * @module
 */
import { createPeerConnection } from "../_stack.ts";
import type { StackPeerConnection } from "../_stack.ts";
import type { WebRTCMultiplayer } from "../../effects/multiplayer.ts";
import { linkChild } from "../_child_link.ts";

/** A running child peer. */
export interface ChildPeer {
  process: Deno.ChildProcess;
  /** Our connection to it. */
  pc: StackPeerConnection;
  /** Resolves when the child reported that its mesh announced us; rejects if it exits first. */
  connected: Promise<void>;
  /** Everything the child wrote to stderr. */
  stderr: Promise<string>;
  /** Closes the child's standard input (it then closes its mesh and exits). */
  closeInput(): Promise<void>;
}

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
  const link = await linkChild(mesh, childId, process, createPeerConnection);
  return {
    process,
    pc: link.pc,
    connected: link.connected,
    stderr: link.stderr,
    closeInput: link.closeInput,
  };
}
