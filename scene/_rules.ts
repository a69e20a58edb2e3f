/**
 * Small pieces the SceneMultiplayer rules share: the step type, refusals, and `send_command`.
 *
 * @module
 */
import { type GodotError, TransferMode } from "../core/constants.ts";
import type { SceneEffect, SceneState } from "./state.ts";
import { type RejectReason, relayPacket } from "./wire.ts";

/** The next state and the effects to carry out, in order. */
export type SceneStep = readonly [SceneState, readonly SceneEffect[]];

/** Godot sends every protocol message (auth, announcements, path cache) reliable on channel 0. */
export const RELIABLE = TransferMode.RELIABLE;

/** This side relays as the server. */
export function isRelayServer(s: SceneState): boolean {
  return s.serverRelay && s.uniqueId === 1 && s.relaySupported;
}

/** This side wraps what it sends to anyone but 1. */
export function isRelayClient(s: SceneState): boolean {
  return s.serverRelay && s.uniqueId > 1 && s.relaySupported;
}

export function reply(s: SceneState, error: GodotError, message: string): SceneStep {
  return [s, [{ type: "Reply", error, message }]];
}

export function reject(
  s: SceneState,
  from: number,
  reason: RejectReason,
  detail: string,
): SceneStep {
  return [countReject(s, reason), [{ type: "Rejected", from, reason, detail }]];
}

export function countReject(s: SceneState, reason: RejectReason): SceneState {
  return { ...s, rejected: { ...s.rejected, [reason]: (s.rejected[reason] ?? 0) + 1 } };
}

export function send(
  to: number,
  data: Uint8Array,
  mode: TransferMode,
  channel: number,
): SceneEffect {
  return { type: "Send", to, data, mode, channel };
}

/** Rule 6: `send_command(to, packet)` with the mode and channel of the message. */
export function sendCommand(
  s: SceneState,
  to: number,
  data: Uint8Array,
  mode: TransferMode,
  channel: number,
): SceneEffect[] {
  if (isRelayClient(s) && to !== 1) return [send(1, relayPacket(to, data), mode, channel)];
  if (to > 0) return s.connected.includes(to) ? [send(to, data, mode, channel)] : [];
  return s.connected.filter((p) => !(to !== 0 && p === -to)).map((p) =>
    send(p, data, mode, channel)
  );
}

export function withMap<K, V>(m: ReadonlyMap<K, V>, k: K, v: V | undefined): ReadonlyMap<K, V> {
  const next = new Map(m);
  if (v === undefined) next.delete(k);
  else next.set(k, v);
  return next;
}

export function checkSend(
  s: SceneState,
  target: number,
  mode: number,
  channel: number,
): string | undefined {
  if (![0, 1, 2].includes(mode)) return `bad transfer mode ${mode}`;
  if (!Number.isInteger(channel) || channel < 0 || channel > 255) return `bad channel ${channel}`;
  if (!Number.isInteger(target) || target < -2147483647 || target > 2147483647) {
    return `bad target ${target}`;
  }
  if (target === s.uniqueId) return `target ${target} is ourselves`;
  if (target > 0 && !s.connected.includes(target)) return `peer ${target} is not connected`;
  return undefined;
}
