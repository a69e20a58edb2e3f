/**
 * The options of a mesh ({@link MeshOptions}) and their validation: the settings a facade's
 * constructor takes, checked and resolved to the interpreter's values (defaults filled in, the
 * liveness settings turned into the reducer's liveness state). Bad liveness or reconnect settings
 * throw a `TypeError`; the rules themselves live in `core/liveness.ts`.
 *
 * @module
 */
import {
  type LivenessConfig,
  type LivenessState,
  livenessState,
  parseLivenessOptions,
  parseReconnectOptions,
} from "../core/liveness.ts";
import { parseJournalBytes } from "../core/reconnect.ts";

/** Options of {@link WebRTCMultiplayer}. */
export interface MeshOptions {
  /**
   * `true` (default): state changes are applied and signals emitted as the connections report
   * them. `false`: observations wait until {@link WebRTCMultiplayer.poll}, like Godot.
   */
  autoPoll?: boolean;
  /** `putPacket` on the reliable channel returns `ERR_BUSY` above this many buffered bytes. Default 16 MiB. */
  highWaterMark?: number;
  /** The most packets queued per peer; more are dropped and counted in `stats()`. Default 65536. */
  maxQueuedPackets?: number;
  /** Max message size used when a connection does not report one (`sctp.maxMessageSize`). Default 262144. */
  defaultMaxMessageSize?: number;
  /**
   * Liveness beacons between peers of this library (docs/liveness.md): a peer silent for
   * `timeoutMs` (default 3000) is removed with `peer_disconnected`; beats go every `intervalMs`
   * (default 500, at most `timeoutMs / 3`); a peer that shows no liveness within `probeWindowMs`
   * (default 5000; a Godot peer) is left to its transport; our own timer running `stallMs` (default
   * 1000) late counts as a local stall, not as the peers' silence. `false` turns it off. Bad values
   * throw a `TypeError` from the constructor.
   */
  liveness?: LivenessOptions | false;
  /**
   * Short outages heal (off by default: Godot removes a peer on "disconnected"). A peer silent for
   * the liveness timeout, or whose connection reports `"disconnected"`, is first
   * `peer_interrupted`; heard from again within `graceMs` (default 10000) it is `peer_resumed`,
   * else `peer_disconnected`. The signaling clients (`joinLobby`, `joinLobbyGodot4`) give an
   * interrupted peer a fresh connection (`replacePeer`), negotiated over the lobby, so outages
   * the connection itself does not survive (a longer cut, a new address) heal too; reliable data
   * sent before, during and after is delivered once and in order, from a journal of unacknowledged
   * messages of at most `journalBytes` per peer (default 16 MiB; see docs/liveness.md for what
   * heals on which stack). Needs liveness. Bad values throw a `TypeError` from the constructor.
   */
  reconnect?: { graceMs?: number; journalBytes?: number } | boolean;
}

/** The settings of {@link MeshOptions.liveness}, in milliseconds; omitted ones take the defaults. */
export interface LivenessOptions {
  /** Silence after which a peer running liveness is gone. Default 3000. */
  timeoutMs?: number;
  /** Period of our beats. Default 500 (or `timeoutMs / 6` when that is smaller). */
  intervalMs?: number;
  /** How long to wait for a peer's first beacon before leaving it to its transport. Default 5000. */
  probeWindowMs?: number;
  /** Lateness of our own timer that counts as a local stall. Default 1000. */
  stallMs?: number;
  /**
   * SIGINT/SIGTERM in Deno and Node close the mesh first (its peers get a `bye`), then the signal
   * takes its usual course (effects/exit_signals.ts). Default true.
   */
  byeOnExit?: boolean;
}

const DEFAULT_HIGH_WATER_MARK = 16 * 1024 * 1024;
const DEFAULT_MAX_QUEUED = 65536;
const DEFAULT_MAX_MESSAGE_SIZE = 262144;

/** {@link MeshOptions} checked, with every default filled in. */
export interface ResolvedOptions {
  /** The reducer's liveness state for these settings (off when `liveness` is `false`). */
  readonly liveness: LivenessState;
  /** The liveness settings, or `null` when liveness is off. */
  readonly livenessConfig: LivenessConfig | null;
  /** See {@link MeshOptions.autoPoll}. */
  readonly autoPoll: boolean;
  /** See {@link MeshOptions.highWaterMark}. */
  readonly highWaterMark: number;
  /** See {@link MeshOptions.maxQueuedPackets}. */
  readonly maxQueuedPackets: number;
  /** See {@link MeshOptions.defaultMaxMessageSize}. */
  readonly defaultMaxMessageSize: number;
  /** See {@link MeshOptions.reconnect}: the bound of each peer's journal. */
  readonly journalBytes: number;
}

/** Checks `options` and fills in the defaults. Throws a `TypeError` for invalid `liveness` or `reconnect` settings. */
export function resolveOptions(options: MeshOptions): ResolvedOptions {
  const liveness = parseLivenessOptions(options.liveness);
  if (liveness._tag === "Left") throw new TypeError(liveness.left);
  const reconnect = parseReconnectOptions(options.reconnect, liveness.right !== null);
  if (reconnect._tag === "Left") throw new TypeError(reconnect.left);
  const journalBytes = parseJournalBytes(options.reconnect);
  if (typeof journalBytes === "string") throw new TypeError(journalBytes);
  return {
    liveness: livenessState(liveness.right, reconnect.right),
    livenessConfig: liveness.right,
    autoPoll: options.autoPoll ?? true,
    highWaterMark: options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK,
    maxQueuedPackets: options.maxQueuedPackets ?? DEFAULT_MAX_QUEUED,
    defaultMaxMessageSize: options.defaultMaxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
    journalBytes,
  };
}
