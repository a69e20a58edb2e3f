/**
 * The WebRTC stack a test process runs on: `MESH_STACK=ndc` (node-datachannel, the default) or
 * `MESH_STACK=wrtc` (`@roamhq/wrtc`). The runner (scripts/test.ts) runs the stack-parameterised
 * suites once per stack; child processes inherit the variable.
 *
 * @module
 */
import { loadStack, type StackPeerConnection } from "../adapters/stack.ts";

export type { StackPeerConnection };
export { CandidateQueue, connectPair } from "../adapters/loopback.ts";

/** The stack's short name. */
export const STACK: string = Deno.env.get("MESH_STACK") || "ndc";

/** Makes a connection of the stack under test. */
export const { createPeerConnection } = await loadStack(STACK);
