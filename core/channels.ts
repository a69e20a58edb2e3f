/**
 * The channel layout of a peer: the three pre-negotiated Godot channels of SPEC rule 3, the extra
 * channels of Godot 4's `channelsConfig` (rule 11), and the bounds the reducer checks against them
 * (`unreliableLifetime`, `transferChannel`, the number of extra channels).
 *
 * @module
 */
import { TransferMode } from "./constants.ts";
import type { ChannelSpec } from "./effects.ts";

/** The largest `unreliableLifetime`: W3C `maxPacketLifeTime` is an unsigned short. */
export const MAX_LIFETIME = 65535;

/**
 * The three pre-negotiated channels of SPEC rule 3, for a given unreliable lifetime.
 *
 * @example
 * ```ts
 * import { CHANNEL_SPECS } from "./channels.ts";
 * console.log(CHANNEL_SPECS(1)[2]);
 * // { label: "unreliable", init: { negotiated: true, id: 3, ordered: false, maxPacketLifeTime: 1 } }
 * ```
 */
export function CHANNEL_SPECS(lifetime: number): readonly [ChannelSpec, ChannelSpec, ChannelSpec] {
  return [
    { label: "reliable", init: { negotiated: true, id: 1, ordered: true } },
    {
      label: "ordered",
      init: { negotiated: true, id: 2, ordered: true, maxPacketLifeTime: lifetime },
    },
    {
      label: "unreliable",
      init: { negotiated: true, id: 3, ordered: false, maxPacketLifeTime: lifetime },
    },
  ];
}

/** Largest `transferChannel` (Godot 4: a `uint8`). */
export const MAX_TRANSFER_CHANNEL = 255;

/** Most extra channels: SCTP ids 4.. stay clear of the library's own channels above 258. */
export const MAX_EXTRA_CHANNELS: number = MAX_TRANSFER_CHANNEL;

/**
 * Every channel of a peer: {@link CHANNEL_SPECS}, then one negotiated channel per entry of Godot
 * 4's `channelsConfig`: id and label `4 + i`; RELIABLE ordered; UNRELIABLE_ORDERED ordered with
 * `maxPacketLifeTime`; UNRELIABLE unordered with `maxPacketLifeTime`.
 *
 * @example
 * ```ts
 * import { channelSpecs } from "./channels.ts";
 * console.log(channelSpecs(1, [0])[3]);
 * // { label: "4", init: { negotiated: true, id: 4, ordered: false, maxPacketLifeTime: 1 } }
 * ```
 */
export function channelSpecs(
  lifetime: number,
  channelsConfig: readonly TransferMode[],
): readonly ChannelSpec[] {
  const reserved = CHANNEL_SPECS(lifetime);
  if (channelsConfig.length === 0) return reserved;
  return [
    ...reserved,
    ...channelsConfig.map((mode, i): ChannelSpec => {
      const id = 4 + i;
      const init = mode === TransferMode.RELIABLE
        ? { negotiated: true as const, id, ordered: true }
        : {
          negotiated: true as const,
          id,
          ordered: mode === TransferMode.UNRELIABLE_ORDERED,
          maxPacketLifeTime: lifetime,
        };
      return { label: String(id), init };
    }),
  ];
}
