/**
 * The ICE flags of the demo's command lines (`deno task demo`, `deno task peer`) as rows of a flag
 * table (`_flags.ts`), with their check across flags and their conversion to options and back.
 *
 * @module
 */
import { boolean, type Flag, list } from "./_flags.ts";
import { type IceFlags, iceOptionsFromFlags, parseIceServer } from "./ice.ts";

/**
 * The ICE flags of the demo's commands, as rows of a flag table (`signaling/_flags.ts`): `--stun URL`
 * and `--turn turn:USER:PASSWORD@HOST:PORT` (each may repeat) and `--relay-only`. Check them across
 * flags with {@link checkIceFlags}; turn their values into options with {@link iceOptionsFromFlags}.
 */
export const ICE_FLAGS: {
  readonly stun: Flag<string[]>;
  readonly turn: Flag<string[]>;
  readonly "relay-only": Flag<boolean>;
} = {
  stun: list("a STUN server, stun:HOST[:PORT]; may repeat", "URL", (text) => {
    if (!/^stuns?:/.test(text)) throw new Error("must be a stun: or stuns: url");
    parseIceServer(text);
  }),
  turn: list("a TURN server, turn:USER:PASSWORD@HOST[:PORT]; may repeat", "URL", (text) => {
    if (!/^turns?:/.test(text)) throw new Error("must be a turn: or turns: url");
    parseIceServer(text);
  }),
  "relay-only": boolean("relayed candidates only (iceTransportPolicy relay; needs --turn)"),
} as const;

/** The values of {@link ICE_FLAGS}' rows. */
export interface IceFlagValues {
  readonly stun: readonly string[];
  readonly turn: readonly string[];
  readonly "relay-only": boolean;
}

/** The `check` of a command with {@link ICE_FLAGS}: the problem as one line, or undefined. */
export function checkIceFlags(values: IceFlagValues): string | undefined {
  try {
    iceOptionsFromFlags(iceFlags(values));
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** {@link ICE_FLAGS}' values as {@link IceFlags}. */
export function iceFlags(values: IceFlagValues): IceFlags {
  return { stun: values.stun, turn: values.turn, relayOnly: values["relay-only"] };
}

/** {@link ICE_FLAGS}' values as arguments again, to hand to a child process. */
export function iceArgs(values: IceFlagValues): string[] {
  return [
    ...values.stun.flatMap((url) => ["--stun", url]),
    ...values.turn.flatMap((url) => ["--turn", url]),
    ...(values["relay-only"] ? ["--relay-only"] : []),
  ];
}
