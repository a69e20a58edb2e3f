/**
 * Opening a lobby session (`_session.ts`): the runtime's WebSocket and peer connections (the
 * globals in browsers; `ws` and the chosen stack's adapter (`loadStack`) in Deno and Node, loaded only there),
 * the socket, the join request and the wait for its confirmation. Shared by `joinLobby` and
 * `joinLobbyGodot4`.
 *
 * @module
 */
import type { PeerConnectionConfig } from "../adapters/loopback.ts";
import { loadStack, type StackName } from "../adapters/stack.ts";
import { checkIceConfig, IceConfigError } from "./ice.ts";
import type {
  ClientPeerConnection,
  Dialect,
  DisconnectDetail,
  LobbySession,
  PeerTarget,
  SessionOptions,
  WebSocketConstructor,
  WebSocketLike,
} from "./_session.ts";

/**
 * Loads a module only Deno and Node need (`ws`). The specifier is
 * deliberately not a literal: bundlers for browsers, which always have the globals and never take
 * this path, must not follow it and pull `ws` or node-datachannel in. Relative specifiers resolve
 * against this file.
 */
function importRuntimeOnly(specifier: string): Promise<Record<string, unknown>> {
  return import(specifier);
}

async function defaultWebSocket(): Promise<WebSocketConstructor> {
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (global) return global;
  // Node 20 has no global WebSocket: use the `ws` package.
  try {
    const mod = await importRuntimeOnly("ws");
    return (mod.WebSocket ?? mod.default) as WebSocketConstructor;
  } catch (error) {
    throw new TypeError(`no WebSocket in this runtime and the ws package failed to load: ${error}`);
  }
}

async function defaultFactory(
  stack: StackName | undefined,
): Promise<(config: PeerConnectionConfig) => ClientPeerConnection> {
  const Native = (globalThis as {
    RTCPeerConnection?: new (config: PeerConnectionConfig) => ClientPeerConnection;
  }).RTCPeerConnection;
  if (Native && stack === undefined) return (config) => new Native(config);
  // Deno and Node: the chosen adapter (node-datachannel by default), loaded only when needed.
  try {
    return (await loadStack(stack ?? "ndc")).createPeerConnection;
  } catch (error) {
    throw new TypeError(
      `no RTCPeerConnection in this runtime; pass options.createPeerConnection (${error})`,
    );
  }
}

/** `value` if it is a `Class`, else a new `Class` made with `value` as its options. */
export function ownOrNew<T extends object, O>(
  Class: new (options?: O) => T,
  value: T | O | undefined,
): T {
  return value instanceof Class ? value : new Class(value as O | undefined);
}

/** A session class of one protocol (`LobbyClient`, `Godot4LobbyClient`). */
export type SessionClass<T extends PeerTarget, S extends LobbySession<T>> = new (
  ws: WebSocketLike,
  target: T,
  dialect: Dialect<T>,
  factory: (config: PeerConnectionConfig) => ClientPeerConnection,
  options: SessionOptions,
) => S;

/**
 * Opens the signaling socket, makes a `Client` session driving `target` in `dialect`, sends the
 * join request (`mesh` says which kind of lobby to create) and resolves once the server confirmed
 * it. Rejects if the connection fails or is closed first, or after `joinTimeoutMs`; rejects with
 * an {@link IceConfigError} before anything connects if the ICE options are malformed.
 */
export async function openSession<T extends PeerTarget, S extends LobbySession<T>>(
  Client: SessionClass<T, S>,
  target: T,
  dialect: Dialect<T>,
  join: { readonly url: string; readonly lobby: string; readonly mesh: boolean },
  options: SessionOptions,
): Promise<S> {
  const problem = checkIceConfig(options.iceServers, options.iceTransportPolicy);
  if (problem) throw new IceConfigError(problem);
  const WS = options.WebSocket ?? await defaultWebSocket();
  const factory = options.createPeerConnection ?? await defaultFactory(options.stack);
  const ws = new WS(join.url);
  const client = new Client(ws, target, dialect, factory, options);
  const { lobby, mesh } = join;
  const timeoutMs = options.joinTimeoutMs ?? 10000;
  return await new Promise<S>((resolve, reject) => {
    const settle = () => {
      clearTimeout(timer);
      client.removeEventListener("lobby_joined", onJoined);
      client.removeEventListener("disconnected", onClosed);
    };
    const onJoined = () => {
      settle();
      resolve(client);
    };
    const onClosed = (event: Event) => {
      settle();
      const { code, reason } = (event as CustomEvent<DisconnectDetail>).detail;
      reject(new Error(`signaling connection closed before joining: ${code} ${reason}`.trim()));
    };
    client.addEventListener("lobby_joined", onJoined);
    client.addEventListener("disconnected", onClosed);
    const timer = setTimeout(() => {
      settle();
      client.close().catch(() => {});
      reject(new Error(`no answer to the join request within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.onopen = () => {
      try {
        client.sendJoin(lobby, mesh);
      } catch {
        // the close event will reject
      }
    };
  });
}
