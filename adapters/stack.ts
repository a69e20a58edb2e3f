/**
 * Choosing a WebRTC stack by name in Deno and Node: `"ndc"` (node-datachannel, libdatachannel) or
 * `"wrtc"` (`@roamhq/wrtc`, Google's libwebrtc). The chosen adapter is loaded when asked for, so a
 * program that names one stack never loads the other's native code.
 *
 * @module
 */
import type { PeerConnectionConfig, SignalingPeerConnection } from "./loopback.ts";
import type { RTCPeerConnectionLike } from "../effects/w3c.ts";

/** The WebRTC stacks of Deno and Node, by short name. */
export const STACKS = ["ndc", "wrtc"] as const;

/** `"ndc"`: node-datachannel (libdatachannel). `"wrtc"`: `@roamhq/wrtc` (libwebrtc). */
export type StackName = typeof STACKS[number];

/** A connection of either stack: usable by the mesh and by signaling. */
export type StackPeerConnection = RTCPeerConnectionLike & SignalingPeerConnection;

/** What an adapter module offers. */
export interface Stack {
  /** The stack's short name. */
  readonly name: StackName;
  /** Makes a connection of this stack. */
  readonly createPeerConnection: (config?: PeerConnectionConfig) => StackPeerConnection;
}

/** A stack for a set of peers: one stack, or `"mixed"` (ndc and wrtc in turn). */
export const STACK_CHOICES = [...STACKS, "mixed"] as const;

/** One of {@link STACK_CHOICES}. */
export type StackChoice = typeof STACK_CHOICES[number];

/**
 * The stack of the `index`th of several peers (from 0): `"mixed"` alternates ndc and wrtc.
 *
 * @example
 * ```ts
 * import { stackOf } from "./stack.ts";
 * console.log([0, 1, 2].map((i) => stackOf("mixed", i))); // [ "ndc", "wrtc", "ndc" ]
 * ```
 */
export function stackOf(choice: StackChoice, index: number): StackName {
  return choice === "mixed" ? STACKS[index % STACKS.length] : choice;
}

/** Whether `name` is one of {@link STACKS}. */
export function isStackName(name: unknown): name is StackName {
  return (STACKS as readonly unknown[]).includes(name);
}

// The extension of this package's own modules where this file runs: ".ts" from source (Deno,
// JSR), ".js" once compiled (npm). The adapter import below is left non-literal on purpose:
// bundlers for browsers must not follow it and pull a native stack in.
const EXT = /\.tsx?$/.test(new URL(import.meta.url).pathname) ? ".ts" : ".js";
const FILES: Record<StackName, string> = { ndc: "node_datachannel", wrtc: "wrtc" };

/**
 * Loads the adapter of the named stack. Rejects with a clear message for an unknown name or a
 * stack whose package is not installed.
 *
 * @example
 * ```ts
 * import { loadStack } from "./stack.ts";
 * const stack = await loadStack("ndc");
 * const pc = stack.createPeerConnection();
 * console.log(stack.name, pc.connectionState); // ndc new
 * pc.close();
 * ```
 */
export async function loadStack(name: string): Promise<Stack> {
  if (!isStackName(name)) {
    throw new TypeError(`unknown WebRTC stack "${name}": use one of ${STACKS.join(", ")}`);
  }
  const specifier = `./${FILES[name]}${EXT}`;
  let mod: { createPeerConnection: Stack["createPeerConnection"] };
  try {
    mod = await import(specifier);
  } catch (error) {
    const pkg = name === "wrtc" ? "@roamhq/wrtc" : "node-datachannel";
    throw new TypeError(`the ${name} stack failed to load (is ${pkg} installed?): ${error}`);
  }
  return { name, createPeerConnection: mod.createPeerConnection };
}
