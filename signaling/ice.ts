/**
 * ICE configuration for real networks: checking `iceServers` and `iceTransportPolicy` before any
 * connection is made, reading STUN/TURN servers from command-line flags and query parameters, and
 * time-limited TURN credentials (the "TURN REST API" scheme coturn implements with
 * `use-auth-secret`), so that a signaling server can hand clients credentials that expire instead of
 * a static password.
 *
 * The TURN REST scheme: the server and coturn share a secret. A credential for user `name` valid
 * until Unix time `expiry` is `username = "<expiry>:<name>"`, `credential =
 * base64(HMAC-SHA1(secret, username))`. coturn recomputes the HMAC and refuses an expired one.
 *
 * @module
 */
import { GodotError } from "../core/constants.ts";
import type { IceServer } from "../adapters/loopback.ts";

/** `RTCConfiguration.iceTransportPolicy`: every candidate, or relayed ones only. */
export type IceTransportPolicy = "all" | "relay";

/** A bad ICE configuration: `code` is `ERR_INVALID_PARAMETER`, `message` says what is wrong. */
export class IceConfigError extends Error {
  /** Always {@link GodotError.ERR_INVALID_PARAMETER}. */
  readonly code: GodotError = GodotError.ERR_INVALID_PARAMETER;
  /** Use {@link checkIceConfig}. */
  constructor(message: string) {
    super(message);
    this.name = "IceConfigError";
  }
}

const SCHEME = /^(stun|stuns|turn|turns):/;

/**
 * Checks an ICE configuration: every server has `urls` (one string or a non-empty list) of the
 * `stun:`, `stuns:`, `turn:` or `turns:` scheme with a host; a TURN server has `username` and
 * `credential` strings; the policy is `"all"` or `"relay"`, and `"relay"` needs a TURN server.
 * Returns the first problem as a sentence, or undefined when it is fine.
 *
 * @example
 * ```ts
 * import { checkIceConfig } from "./ice.ts";
 * console.log(checkIceConfig([{ urls: "stun:198.18.0.1:3478" }])); // undefined
 * console.log(checkIceConfig([{ urls: "turn:198.18.0.1" }]));
 * // iceServers[0]: turn:198.18.0.1 needs a username and a credential
 * ```
 */
export function checkIceConfig(
  iceServers: unknown,
  iceTransportPolicy?: unknown,
): string | undefined {
  if (iceServers !== undefined && !Array.isArray(iceServers)) {
    return "iceServers must be an array of { urls, username?, credential? }";
  }
  let turn = false;
  for (const [i, server] of (iceServers ?? []).entries()) {
    const at = `iceServers[${i}]`;
    if (typeof server !== "object" || server === null) return `${at} is not an object`;
    const { urls, username, credential } = server as Record<string, unknown>;
    const list = typeof urls === "string" ? [urls] : urls;
    if (!Array.isArray(list) || list.length === 0) return `${at} has no urls`;
    for (const url of list) {
      if (typeof url !== "string") return `${at}: the url ${String(url)} is not a string`;
      const scheme = SCHEME.exec(url)?.[1];
      if (!scheme) {
        return `${at}: ${JSON.stringify(url)} is not a stun:, stuns:, turn: or turns: url`;
      }
      const rest = url.slice(scheme.length + 1).replace(/^\/\//, "");
      if (!/^(\[[0-9a-fA-F:.]+\]|[^\s:/?#@[\]]+)(:\d{1,5})?(\?transport=(udp|tcp))?$/.test(rest)) {
        return `${at}: ${JSON.stringify(url)} has no valid host[:port]`;
      }
      if (scheme.startsWith("turn")) {
        turn = true;
        if (typeof username !== "string" || username === "") {
          return `${at}: ${url} needs a username and a credential`;
        }
        if (typeof credential !== "string" || credential === "") {
          return `${at}: ${url} needs a credential (a string) for user ${username}`;
        }
      }
    }
  }
  if (iceTransportPolicy !== undefined) {
    if (iceTransportPolicy !== "all" && iceTransportPolicy !== "relay") {
      return `iceTransportPolicy must be "all" or "relay", not ${
        JSON.stringify(iceTransportPolicy)
      }`;
    }
    if (iceTransportPolicy === "relay" && !turn) {
      return 'iceTransportPolicy "relay" needs a TURN server in iceServers';
    }
  }
  return undefined;
}

/** Whether the list has a TURN server. */
export function hasTurnServer(iceServers: readonly IceServer[] | undefined): boolean {
  return (iceServers ?? []).some((s) =>
    (Array.isArray(s.urls) ? s.urls : [s.urls]).some((u) => /^turns?:/.test(u))
  );
}

/**
 * Reads a STUN or TURN server from the form used by flags and query parameters:
 * `stun:host[:port]`, or `turn:user:credential@host[:port]` (user and credential URL-encoded).
 * Throws an {@link IceConfigError} for anything else.
 *
 * @example
 * ```ts
 * import { parseIceServer } from "./ice.ts";
 * console.log(parseIceServer("turn:alice:s3cret@198.18.0.1:3478"));
 * // { urls: "turn:198.18.0.1:3478", username: "alice", credential: "s3cret" }
 * ```
 */
export function parseIceServer(text: string): IceServer {
  const m = /^(turns?):([^:@]*):([^@]*)@(.+)$/.exec(text);
  const server: IceServer = m
    ? {
      urls: `${m[1]}:${m[4]}`,
      username: decodeURIComponent(m[2]),
      credential: decodeURIComponent(m[3]),
    }
    : { urls: text };
  const problem = checkIceConfig([server]);
  if (problem) throw new IceConfigError(problem.replace("iceServers[0]", JSON.stringify(text)));
  return server;
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** Options of {@link turnRestCredentials}. */
export interface TurnRestOptions {
  /** The secret shared with coturn (`static-auth-secret`). */
  secret: string;
  /** A name for the user (any text without `:`). Default `"webrtc-mesh"`. */
  user?: string;
  /** How long the credential is valid, seconds. Default 3600. */
  ttlSeconds?: number;
  /** The current time, ms since the epoch. Default `Date.now()`. */
  now?: number;
}

/**
 * A time-limited TURN credential (coturn's `use-auth-secret`): `username` is
 * `"<expiry>:<user>"`, `credential` the base64 HMAC-SHA1 of it under the shared secret.
 *
 * @example
 * ```ts
 * import { turnRestCredentials } from "./ice.ts";
 * const c = await turnRestCredentials({ secret: "s", user: "u", ttlSeconds: 60, now: 0 });
 * console.log(c.username, c.credential.length); // 60:u 28
 * ```
 */
export async function turnRestCredentials(
  options: TurnRestOptions,
): Promise<{ username: string; credential: string }> {
  const user = options.user ?? "webrtc-mesh";
  if (user.includes(":")) throw new IceConfigError(`a TURN REST user name has no ":" (${user})`);
  const expiry = Math.floor((options.now ?? Date.now()) / 1000) + (options.ttlSeconds ?? 3600);
  const username = `${expiry}:${user}`;
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(options.secret),
    { name: "HMAC", hash: "SHA-1" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(username));
  return { username, credential: base64(new Uint8Array(mac)) };
}

/** Options of {@link restIceServers}. */
export interface RestIceServersOptions extends Omit<TurnRestOptions, "now"> {
  /** STUN urls handed out as they are. */
  stun?: string[];
  /** TURN urls that get the time-limited credential. */
  turn: string[];
}

/**
 * Makes a provider of `iceServers` with fresh time-limited TURN credentials, for a signaling
 * server to hand out (`serveSignalingDeno({ iceServers })` serves it at `GET /ice-servers`).
 */
export function restIceServers(options: RestIceServersOptions): () => Promise<IceServer[]> {
  const problem = checkIceConfig([
    ...(options.stun ?? []).map((urls) => ({ urls })),
    ...options.turn.map((urls) => ({ urls, username: "u", credential: "c" })),
  ]);
  if (problem) throw new IceConfigError(problem);
  return async () => {
    const servers: IceServer[] = (options.stun ?? []).map((urls) => ({ urls }));
    if (options.turn.length > 0) {
      servers.push({ urls: [...options.turn], ...await turnRestCredentials(options) });
    }
    return servers;
  };
}

/** The path at which a signaling server with an `iceServers` provider serves them. */
export const ICE_SERVERS_PATH = "/ice-servers";

/**
 * Asks a signaling server for its ICE servers (`GET /ice-servers`, see {@link restIceServers}).
 * `url` may be the server's `ws://` or `http://` address. Checks what comes back.
 */
export async function fetchIceServers(url: string): Promise<IceServer[]> {
  const http = new URL(url.replace(/^ws(s?):/, "http$1:"));
  http.pathname = ICE_SERVERS_PATH;
  http.search = "";
  const response = await fetch(http);
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`${http} answered ${response.status}`);
  }
  const body = await response.json() as { iceServers?: unknown };
  const problem = checkIceConfig(body.iceServers);
  if (problem || !Array.isArray(body.iceServers)) {
    throw new IceConfigError(`${http}: ${problem ?? "no iceServers"}`);
  }
  return body.iceServers as IceServer[];
}

/** ICE servers and policy as flags (`--stun`, `--turn`, `--relay-only`) or query parameters give them. */
export interface IceFlags {
  /** `stun:host[:port]` urls. */
  stun?: readonly string[];
  /** `turn:user:credential@host[:port]` urls. */
  turn?: readonly string[];
  /** Relayed candidates only. */
  relayOnly?: boolean;
}

/**
 * Turns flags into `joinLobby` options (`iceServers`, `iceTransportPolicy`); throws an
 * {@link IceConfigError} for a malformed server or `relayOnly` without a TURN server.
 *
 * @example
 * ```ts
 * import { iceOptionsFromFlags } from "./ice.ts";
 * const o = iceOptionsFromFlags({ turn: ["turn:u:p@198.18.0.1"], relayOnly: true });
 * console.log(o.iceTransportPolicy, o.iceServers[0].username); // relay u
 * ```
 */
export function iceOptionsFromFlags(
  flags: IceFlags,
): { iceServers: IceServer[]; iceTransportPolicy: IceTransportPolicy } {
  const iceServers = [...(flags.stun ?? []), ...(flags.turn ?? [])].map(parseIceServer);
  for (const s of flags.stun ?? []) {
    if (!/^stuns?:/.test(s)) throw new IceConfigError(`--stun takes a stun: url, not ${s}`);
  }
  for (const s of flags.turn ?? []) {
    if (!/^turns?:/.test(s)) throw new IceConfigError(`--turn takes a turn: url, not ${s}`);
  }
  const iceTransportPolicy: IceTransportPolicy = flags.relayOnly ? "relay" : "all";
  const problem = checkIceConfig(iceServers, iceTransportPolicy);
  if (problem) throw new IceConfigError(problem);
  return { iceServers, iceTransportPolicy };
}

/**
 * ICE options from a page's query parameters: `stun=URL` and `turn=turn:USER:PASSWORD@HOST:PORT`
 * (each may repeat), `relay=1` for relayed candidates only, or `ice=server` to fetch time-limited
 * servers from the signaling server (`GET /ice-servers`, no password in the page). Empty when none
 * is given.
 */
export async function iceOptionsFromQuery(
  params: URLSearchParams,
  serverUrl: string,
): Promise<{ iceServers?: IceServer[]; iceTransportPolicy?: IceTransportPolicy }> {
  const relayOnly = params.get("relay") === "1";
  if (params.get("ice") === "server") {
    const iceServers = await fetchIceServers(serverUrl);
    const iceTransportPolicy: IceTransportPolicy = relayOnly ? "relay" : "all";
    const problem = checkIceConfig(iceServers, iceTransportPolicy);
    if (problem) throw new IceConfigError(problem);
    return { iceServers, iceTransportPolicy };
  }
  if (!params.has("stun") && !params.has("turn") && !relayOnly) return {};
  return iceOptionsFromFlags({
    stun: params.getAll("stun"),
    turn: params.getAll("turn"),
    relayOnly,
  });
}
