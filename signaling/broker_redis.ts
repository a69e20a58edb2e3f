/**
 * The Redis {@link Broker} of `cluster.ts`, on the `redis` npm client (loaded only here, and this
 * file only with `--redis`). Keys, all under `webrtc-mesh:`:
 *
 * - `lobby:<name>` = owning instance, with a TTL of 30 heartbeats, set-if-absent on creation and
 *   held again by the owner every 10 heartbeats (at once after a Redis restart);
 * - `instance:<name>` = `1`, with the same TTL (the instance's heartbeat);
 * - channel `to:<name>`: the messages for an instance (JSON).
 *
 * Two connections: one for commands and publishing, one subscribed. Both reconnect by themselves
 * (every 100 ms to 1 s); commands fail at once while Redis is away (no offline queue), so a join
 * that needs Redis is refused instead of waiting.
 *
 * @module
 */
import type { Broker, ClusterMessage } from "./cluster.ts";

const PREFIX = "webrtc-mesh:";

/** The live owner of a lobby: its key, and its owner's heartbeat key. */
const OWNER_SCRIPT = `local o = redis.call('GET', KEYS[1])
if o and redis.call('EXISTS', ARGV[1] .. o) == 1 then return o end
return false`;

/** The part of a `redis` client this file uses. */
interface Client {
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  duplicate(): Client;
  on(event: string, listener: (...args: unknown[]) => void): void;
  set(key: string, value: string, options: unknown): Promise<unknown>;
  exists(key: string): Promise<number>;
  del(key: string): Promise<number>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  publish(channel: string, message: string): Promise<number>;
  subscribe(channel: string, listener: (message: string) => void): Promise<void>;
  close(): Promise<void>;
  destroy(): void;
}

/** Options of {@link connectRedisBroker}. */
export interface RedisBrokerOptions {
  /** `redis://HOST:PORT` (any URL the `redis` client takes). */
  url: string;
  /** This instance's name. Default: 8 random hex digits. */
  instance?: string;
  /** How long to wait for the first connection before failing, ms. Default 5000. */
  connectTimeoutMs?: number;
}

/**
 * Connects to Redis; rejects (with a readable message) if it cannot within `connectTimeoutMs`.
 *
 * @example
 * ```ts ignore
 * import { connectRedisBroker } from "./broker_redis.ts";
 * const broker = await connectRedisBroker({ url: "redis://127.0.0.1:6379" });
 * ```
 */
export async function connectRedisBroker(options: RedisBrokerOptions): Promise<Broker> {
  const { createClient } = await import("redis").catch((error) => {
    throw new Error(`--redis needs the npm package redis (npm install redis@6.3.1): ${error}`);
  });
  const instance = options.instance ?? crypto.randomUUID().slice(0, 8);
  const client = createClient({
    url: options.url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 2000,
      reconnectStrategy: (retries: number) => Math.min(100 * (retries + 1), 1000),
    },
  }) as unknown as Client;
  const sub = client.duplicate();
  let status: (up: boolean) => void = () => {};
  let up = false;
  let closing = false;
  const watch = () => {
    const now = client.isReady && sub.isReady;
    if (now === up || closing) return;
    up = now;
    status(up);
  };
  for (const c of [client, sub]) {
    // Errors come with every failed reconnection; `watch` reports the transitions once.
    c.on("error", watch);
    c.on("ready", watch);
    c.on("end", watch);
    c.on("reconnecting", watch);
  }
  const timeout = options.connectTimeoutMs ?? 5000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      Promise.all([client.connect(), sub.connect()]),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer from ${options.url} within ${timeout} ms`)),
          timeout,
        );
      }),
    ]);
  } catch (error) {
    closing = true;
    client.destroy();
    sub.destroy();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  up = true;
  const quietly = (p: Promise<unknown>) => void p.catch(() => {});
  return {
    instance,
    get available() {
      return client.isReady && sub.isReady;
    },
    async start(deliver, onStatus) {
      status = onStatus;
      await sub.subscribe(`${PREFIX}to:${instance}`, (text) => {
        let message: ClusterMessage;
        try {
          message = JSON.parse(text);
        } catch {
          return;
        }
        deliver(message);
      });
    },
    publish(to, message) {
      if (!client.isReady) return;
      quietly(client.publish(`${PREFIX}to:${to}`, JSON.stringify(message)));
    },
    async claimLobby(name, ttlMs) {
      const set = await client.set(`${PREFIX}lobby:${name}`, instance, {
        condition: "NX",
        expiration: { type: "PX", value: ttlMs },
      });
      return set === "OK";
    },
    async holdLobbies(names, ttlMs) {
      const expiration = { expiration: { type: "PX", value: ttlMs } };
      // One round trip: the client pipelines commands issued in the same tick.
      await Promise.all(
        names.map((name) => client.set(`${PREFIX}lobby:${name}`, instance, expiration)),
      );
    },
    async lobbyOwner(name) {
      const owner = await client.eval(OWNER_SCRIPT, {
        keys: [`${PREFIX}lobby:${name}`],
        arguments: [`${PREFIX}instance:`],
      });
      return typeof owner === "string" ? owner : undefined;
    },
    async heartbeat(ttlMs) {
      // GET: the value it replaced (null when the key had expired).
      const was = await client.set(`${PREFIX}instance:${instance}`, "1", {
        expiration: { type: "PX", value: ttlMs },
        GET: true,
      });
      return was !== null;
    },
    alive(instances) {
      return Promise.all(
        instances.map(async (name) => (await client.exists(`${PREFIX}instance:${name}`)) === 1),
      );
    },
    async close() {
      closing = true;
      if (client.isReady) await client.del(`${PREFIX}instance:${instance}`).catch(() => {});
      await Promise.all([
        client.isReady ? client.close() : client.destroy(),
        sub.isReady ? sub.close() : sub.destroy(),
      ]).catch(() => {});
    },
  };
}
