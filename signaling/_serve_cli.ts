/**
 * The signaling server's command line, shared by `deno task serve` (`cli.ts`) and the npm package's
 * `webrtc-mesh serve` (`cli_node.ts`): the flags both take, and the run itself. The first line
 * printed is always `signaling server listening on ws://HOST:PORT` (scripts wait for it); then one
 * line per server event at or above `--log-level`.
 *
 * @module
 */
import { boolean, type FlagValues, integer, oneOf, string } from "./_flags.ts";
import { DEFAULT_LIMITS } from "./lobby.ts";
import { DEFAULT_PORT } from "./protocol.ts";
import {
  DEFAULT_IDLE_TIMEOUT_MS,
  type LogLevel,
  type RunningSignalingServer,
  type ServeOptions,
} from "./server.ts";

/** The log levels of the command line, quietest first. */
const LEVELS = ["silent", "error", "warn", "info"] as const;

/** The flags of every `serve` command. */
export const SERVE_FLAGS = {
  host: string("interface to bind; 0.0.0.0 for every interface", "127.0.0.1", "ADDRESS"),
  port: integer("TCP port; 0 picks a free one", { default: DEFAULT_PORT, min: 0, max: 65535 }),
  "max-peers": integer("open connections at most", {
    default: DEFAULT_LIMITS.maxPeers,
    min: 1,
    max: 1_000_000,
  }),
  "max-lobbies": integer("open lobbies at most", {
    default: DEFAULT_LIMITS.maxLobbies,
    min: 1,
    max: 1_000_000,
  }),
  "log-level": oneOf(
    "info: lobbies and joins too; warn: rule breakers closed; error: internal errors only",
    LEVELS,
    "info",
    "LEVEL",
  ),
  quiet: boolean("print only the listening line and errors (= --log-level error)"),
  log: oneOf("log lines as text, or one JSON object per line", ["text", "json"], "text", "FORMAT"),
  redis: string(
    "share lobbies with every instance on this Redis (redis://HOST:PORT)",
    undefined,
    "URL",
    (text) => {
      if (!/^rediss?:\/\/[^/]/.test(text)) throw new Error("must be a redis://HOST:PORT url");
    },
  ),
  metrics: boolean("serve Prometheus metrics at GET /metrics"),
  "idle-timeout": integer("drop a client silent this long (no frame, no pong); 0: never", {
    default: DEFAULT_IDLE_TIMEOUT_MS,
    min: 0,
    max: 3_600_000,
    valueName: "MS",
  }),
} as const;

/** Rejects `--quiet` with `--log-level`, and an idle timeout under 1 s (a `check` of the serve commands). */
export function checkServeFlags(
  values: unknown,
  given: ReadonlySet<string>,
): string | undefined {
  if (given.has("quiet") && given.has("log-level")) {
    return "--quiet and --log-level say the same thing: give one of them";
  }
  const idle = (values as { "idle-timeout"?: number })["idle-timeout"];
  if (idle !== undefined && idle > 0 && idle < 1000) {
    return "--idle-timeout must be 0 (never) or at least 1000 ms";
  }
  return undefined;
}

/** What a runtime provides to {@link runServe}. */
export interface ServeRuntime {
  /** Starts the server (`serveSignalingDeno` or `serveSignalingNode`). */
  readonly start: (options: ServeOptions) => Promise<RunningSignalingServer>;
  /** Calls `handler` on Ctrl-C (SIGINT) and SIGTERM. */
  readonly onStop: (handler: () => void) => void;
  /** Ends the process. */
  readonly exit: (code: number) => never;
  /** Printed after the URL on the listening line (` (node:http)`). */
  readonly note?: string;
  /** Options for `start` beyond the flags (`staticDir`). */
  readonly extra?: Record<string, unknown>;
  /**
   * Runs before the server starts (the `--web` build: no page request may find it missing);
   * returns the lines to print after the listening line.
   */
  readonly prepare?: () => Promise<(running: RunningSignalingServer) => string[]>;
}

/** The server's log function for the given flags (undefined: print nothing). */
export function serverLog(
  values: FlagValues<typeof SERVE_FLAGS>,
): ((message: string, level: LogLevel) => void) | undefined {
  const threshold = LEVELS.indexOf(values.quiet ? "error" : values["log-level"]);
  if (threshold === 0) return undefined;
  return (message, level) => {
    if (LEVELS.indexOf(level) > threshold) return;
    if (values.log === "json") {
      const line = JSON.stringify({ time: new Date().toISOString(), level, message });
      if (level === "info") console.log(line);
      else console.error(line);
      return;
    }
    const line = `[${new Date().toISOString()}] ${level === "info" ? "" : `${level}: `}${message}`;
    if (level === "info") console.log(line);
    else console.error(line);
  };
}

/**
 * Runs the server until SIGINT or SIGTERM. A failure to listen (address in use, no such interface)
 * is one line on stderr and exit code 1.
 */
export async function runServe(
  name: string,
  values: FlagValues<typeof SERVE_FLAGS>,
  runtime: ServeRuntime,
): Promise<void> {
  const report = await runtime.prepare?.();
  let running: RunningSignalingServer;
  try {
    running = await runtime.start({
      hostname: values.host,
      port: values.port,
      limits: { maxPeers: values["max-peers"], maxLobbies: values["max-lobbies"] },
      idleTimeoutMs: values["idle-timeout"],
      log: serverLog(values),
      redis: values.redis,
      metrics: values.metrics,
      ...runtime.extra,
    });
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    const where = values.redis === undefined
      ? `listen on ${values.host}:${values.port}`
      : `start (listen on ${values.host}:${values.port}, Redis at ${values.redis})`;
    console.error(`${name}: cannot ${where}: ${why}`);
    return runtime.exit(1);
  }
  console.log(`signaling server listening on ${running.url}${runtime.note ?? ""}`);
  for (const line of report?.(running) ?? []) console.log(line);
  let stopping = false;
  runtime.onStop(async () => {
    if (stopping) return;
    stopping = true;
    if (!values.quiet && values["log-level"] !== "silent") console.log("shutting down");
    await running.shutdown();
    runtime.exit(0);
  });
}
