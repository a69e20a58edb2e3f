/**
 * Command-line flags for every CLI of the project (`deno task serve`, `peer`, `demo`, `soak`, the
 * npm package's `webrtc-mesh` command): one declarative table per command, so adding a flag is one
 * row. Runs on Deno, Node and in browsers (no runtime API): the caller hands in its arguments and
 * its `exit`.
 *
 * A table maps each flag's name (without `--`) to a {@link Flag}, made with {@link boolean},
 * {@link string}, {@link integer}, {@link number} or {@link oneOf} (or any object of that shape).
 * {@link parseFlags} checks an argument list against it: `--name value`, `--name=value`, boolean
 * `--name`, `-h`/`--help`; a repeated flag takes its last value, except a {@link list} flag, which
 * collects them all. An unknown flag, a missing value, a stray argument or a value its
 * validator refuses gives one line of error; {@link readFlags} prints it (or the help) and exits
 * (2 for an error, 0 after `--help`), never with a stack trace.
 *
 * @example
 * ```ts
 * import { integer, parseFlags, string } from "./_flags.ts";
 * const serve = {
 *   name: "serve",
 *   summary: "Runs the server.",
 *   flags: {
 *     host: string("interface to bind", "127.0.0.1", "ADDRESS"),
 *     port: integer("port; 0 picks a free one", { default: 9080, min: 0, max: 65535 }),
 *   },
 * };
 * const ok = parseFlags(serve, ["--port=8000"]);
 * console.log(ok.type === "values" && ok.values.port); // 8000
 * const bad = parseFlags(serve, ["--port", "70000"]);
 * console.log(bad.type === "error" && bad.message);
 * // serve: --port 70000: must be an integer in 0..65535 (see --help)
 * ```
 *
 * @module
 */

/** One flag: how it is shown in `--help`, its default, and how its value is read. */
export interface Flag<T> {
  /** One line for `--help`. */
  readonly description: string;
  /** The value when the flag is absent (`undefined`: no value). */
  readonly default: T;
  /**
   * Reads the flag's text; throws an `Error` whose message says what is wanted ("must be an
   * integer in 0..65535"). Absent for a boolean flag (present = `true`, takes no value).
   */
  readonly parse?: (text: string) => T;
  /** Placeholder of the value in `--help` (`N`, `SECONDS`, `URL`). */
  readonly valueName?: string;
  /** The default as `--help` shows it, when `String(default)` is not the right text. */
  readonly defaultText?: string;
  /** The flag may be given several times; its value is the list of every one ({@link list}). */
  readonly repeatable?: boolean;
}

/** A command's flags by name (without the leading `--`). */
export type FlagTable = Readonly<Record<string, Flag<unknown>>>;

/** The values of a table's flags, typed by the table. */
export type FlagValues<T extends FlagTable> = { -readonly [K in keyof T]: T[K]["default"] };

/** A command: its name (for messages), what it does, its flags, and checks across flags. */
export interface Command<T extends FlagTable> {
  /** The name used in messages and in `Usage:` (`serve`, `deno task peer`). */
  readonly name: string;
  /** What the command does, shown by `--help` (may span lines). */
  readonly summary: string;
  /** The flags. */
  readonly flags: T;
  /** Shown after `Usage: <name>` (default `[flags]`). */
  readonly usage?: string;
  /**
   * Checks that involve more than one flag; returns the problem as one line, or undefined.
   * `given` holds the names of the flags present on the command line.
   */
  readonly check?: (values: FlagValues<T>, given: ReadonlySet<string>) => string | undefined;
}

/** What {@link parseFlags} found. */
export type ParsedFlags<T extends FlagTable> =
  | {
    readonly type: "values";
    readonly values: FlagValues<T>;
    /** Names of the flags present on the command line. */
    readonly given: ReadonlySet<string>;
  }
  | { readonly type: "help"; readonly text: string }
  | { readonly type: "error"; readonly message: string };

/** A boolean flag: `--name` sets it, it takes no value. Default `false`. */
export function boolean(description: string): Flag<boolean> {
  return { description, default: false, defaultText: "off" };
}

/** A text flag. `default` undefined: none. `check` may refuse a value by throwing. */
export function string<D extends string | undefined = undefined>(
  description: string,
  defaultValue?: D,
  valueName = "TEXT",
  check?: (text: string) => void,
): Flag<string | D> {
  return {
    description,
    default: defaultValue as D,
    valueName,
    parse: (text) => {
      check?.(text);
      return text;
    },
  };
}

/**
 * A text flag that may repeat (`--stun A --stun B`): its value is the list of every value given, in
 * order (empty when absent). `check` may refuse one value by throwing.
 */
export function list(
  description: string,
  valueName = "TEXT",
  check?: (text: string) => void,
): Flag<string[]> {
  return {
    description,
    default: [],
    defaultText: "none",
    valueName,
    repeatable: true,
    parse: (text) => {
      check?.(text);
      return [text];
    },
  };
}

/** Bounds and default of {@link integer} and {@link number}. */
export interface Range<D> {
  readonly default?: D;
  readonly min: number;
  readonly max: number;
  /** The minimum itself is not allowed (`(0, 600]`). */
  readonly aboveMin?: boolean;
  readonly valueName?: string;
  readonly defaultText?: string;
}

function bounded<D extends number | undefined>(
  description: string,
  range: Range<D>,
  integerOnly: boolean,
): Flag<number | D> {
  const interval = range.aboveMin
    ? `(${range.min}, ${range.max}]`
    : integerOnly
    ? `${range.min}..${range.max}`
    : `[${range.min}, ${range.max}]`;
  const wanted = integerOnly ? `an integer in ${interval}` : `a number in ${interval}`;
  return {
    description,
    default: range.default as D,
    valueName: range.valueName ?? "N",
    defaultText: range.defaultText,
    parse: (text) => {
      // Number("") is 0 and Number(" 1") is 1: only plain decimal notation is a number here.
      const n = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text.trim()) ? Number(text) : NaN;
      const inRange = range.aboveMin ? n > range.min : n >= range.min;
      if (!(inRange && n <= range.max) || (integerOnly && !Number.isInteger(n))) {
        throw new Error(`must be ${wanted}`);
      }
      return n;
    },
  };
}

/** An integer flag within `[min, max]`. `default` undefined: none. */
export function integer<D extends number | undefined = undefined>(
  description: string,
  range: Range<D>,
): Flag<number | D> {
  return bounded(description, range, true);
}

/** A number flag within `[min, max]` (or `(min, max]` with `aboveMin`). */
export function number<D extends number | undefined = undefined>(
  description: string,
  range: Range<D>,
): Flag<number | D> {
  return bounded(description, range, false);
}

/** A flag whose value is one of `choices` (`--help` shows them unless `valueName` is given). */
export function oneOf<C extends string, D extends C | undefined = undefined>(
  description: string,
  choices: readonly C[],
  defaultValue?: D,
  valueName?: string,
): Flag<C | D> {
  return {
    description: valueName === undefined ? description : `${choices.join("|")}: ${description}`,
    default: defaultValue as D,
    valueName: valueName ?? choices.join("|"),
    parse: (text) => {
      if (!(choices as readonly string[]).includes(text)) {
        throw new Error(`must be one of ${choices.join(", ")}`);
      }
      return text as C;
    },
  };
}

/** Refuses anything but a `ws://` or `wss://` URL (a `check` for {@link string}). */
export function webSocketUrl(text: string): void {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    // reported below
  }
  if (url?.protocol !== "ws:" && url?.protocol !== "wss:") {
    throw new Error("must be a ws:// or wss:// URL");
  }
}

/** The `--help` text of a command. */
export function helpText<T extends FlagTable>(command: Command<T>): string {
  const rows = Object.entries(command.flags).map(([name, flag]) => {
    const left = `--${name}${flag.parse ? ` ${flag.valueName ?? "VALUE"}` : ""}`;
    const shown = flag.defaultText ??
      (flag.default === undefined ? "none" : flag.default === "" ? '""' : String(flag.default));
    return [left, `${flag.description} (default: ${shown})`];
  });
  rows.push(["-h, --help", "print this help and exit"]);
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    `Usage: ${command.name} ${command.usage ?? "[flags]"}`,
    "",
    command.summary,
    "",
    "Flags:",
    ...rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`),
  ].join("\n");
}

/** Checks `args` against the command's flags. Never throws. */
export function parseFlags<T extends FlagTable>(
  command: Command<T>,
  args: readonly string[],
): ParsedFlags<T> {
  const fail = (problem: string) => ({
    type: "error" as const,
    message: `${command.name}: ${problem} (see --help)`,
  });
  const values: Record<string, unknown> = {};
  for (const [name, flag] of Object.entries(command.flags)) values[name] = flag.default;
  const given = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "-h" || arg === "--help") return { type: "help", text: helpText(command) };
    if (!arg.startsWith("--") || arg === "--") return fail(`unexpected argument ${quote(arg)}`);
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const flag = Object.hasOwn(command.flags, name) ? command.flags[name] : undefined;
    if (flag === undefined) return fail(`unknown flag --${name}`);
    given.add(name);
    if (!flag.parse) {
      if (eq >= 0) return fail(`--${name} takes no value`);
      values[name] = true;
      continue;
    }
    let text: string;
    if (eq >= 0) text = arg.slice(eq + 1);
    // A following flag is not taken as the value (`--lobby --json`); `--lobby=--json` is.
    else if (i + 1 < args.length && !args[i + 1].startsWith("--")) text = args[++i];
    else return fail(`--${name} needs a value (${flag.valueName ?? "VALUE"})`);
    try {
      const value = flag.parse(text);
      values[name] = flag.repeatable
        ? [...(values[name] as unknown[]), ...(value as unknown[])]
        : value;
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      return fail(`--${name} ${quote(text)}: ${why}`);
    }
  }
  const typed = values as FlagValues<T>;
  const problem = command.check?.(typed, given);
  if (problem !== undefined) return fail(problem);
  return { type: "values", values: typed, given };
}

/** Arguments as typed, quoted only when they would read ambiguously. */
function quote(text: string): string {
  return text === "" || /[\s"'\\]/.test(text) ? JSON.stringify(text) : text;
}

/** Where {@link readFlags} writes and how it exits. */
export interface FlagsIo {
  /** Ends the process (`Deno.exit`, `process.exit`). */
  readonly exit: (code: number) => never;
  /** Prints the help (default `console.log`). */
  readonly out?: (text: string) => void;
  /** Prints the error line (default `console.error`). */
  readonly err?: (text: string) => void;
}

/**
 * {@link parseFlags}, for a program: returns the values, or prints the help and exits 0, or prints
 * the one-line error and exits 2.
 */
export function readFlags<T extends FlagTable>(
  command: Command<T>,
  args: readonly string[],
  io: FlagsIo,
): FlagValues<T> {
  const parsed = parseFlags(command, args);
  if (parsed.type === "values") return parsed.values;
  if (parsed.type === "help") {
    (io.out ?? console.log)(parsed.text);
    return io.exit(0);
  }
  (io.err ?? console.error)(parsed.message);
  return io.exit(2);
}
