/**
 * What the Deno and the Node servers share above their sockets: the {@link SignalingServer}, the
 * cluster (with `redis`/`broker`), the metrics, and the plain HTTP routes (`/healthz`, `/metrics`,
 * `/ice-servers`), written once for both.
 *
 * @module
 */
import { type ServeOptions, SignalingServer } from "./server.ts";
import type { SignalingConnection, SignalingSocket } from "./server.ts";
import type { Cluster } from "./cluster.ts";
import type { ServerMetrics } from "./metrics.ts";
import { ICE_SERVERS_PATH } from "./ice.ts";

/** An HTTP answer, for either runtime to write. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** The runtime-independent part of a running server. */
export interface Frontend {
  /** The rules' driver. */
  readonly server: SignalingServer;
  /** The cluster, with `redis`/`broker`. */
  readonly cluster: Cluster | undefined;
  /** Registers an accepted WebSocket. */
  open(socket: SignalingSocket): SignalingConnection;
  /** Answers a plain HTTP request, or undefined when the path is not ours. */
  http(method: string, path: string): Promise<HttpAnswer> | undefined;
  /** Closes every socket (1001), leaves the cluster. */
  shutdown(): Promise<void>;
}

const NO_STORE = { "cache-control": "no-store" };

/** Builds the frontend of a server: connects to Redis and loads metrics when asked. */
export async function openFrontend(options: ServeOptions): Promise<Frontend> {
  let cluster: Cluster | undefined;
  if (options.redis !== undefined || options.broker !== undefined) {
    const { Cluster } = await import("./cluster.ts");
    const broker = options.broker ??
      await (await import("./broker_redis.ts")).connectRedisBroker({ url: options.redis! });
    cluster = new Cluster(broker, {
      heartbeatMs: options.heartbeatMs,
      log: options.log,
      randomLobbyName: options.randomLobbyName,
    });
  }
  let sockets = 0;
  let metrics: ServerMetrics | undefined;
  const server: SignalingServer = new SignalingServer({
    ...options,
    randomLobbyName: cluster?.lobbyName ?? options.randomLobbyName,
    // Only with metrics: a step observed costs a clock read and an object per relayed frame.
    observe: options.metrics
      ? (step) => {
        if (!cluster?.handingOver) metrics?.observe(step);
      }
      : undefined,
  });
  if (options.metrics) {
    metrics = await (await import("./metrics.ts")).createMetrics({
      sockets: () => sockets,
      connections: () => server.state.connections.size,
      lobbies: () => server.state.lobbies.size,
      redisUp: () => cluster?.available,
      handedOver: () => cluster?.handedOver,
    });
  }
  if (cluster) {
    cluster.attach(server);
    try {
      await cluster.start();
    } catch (error) {
      await cluster.shutdown().catch(() => {});
      throw error;
    }
  }
  const iceServers = options.iceServers;
  return {
    server,
    cluster,
    open(socket) {
      sockets++;
      const conn = cluster ? cluster.open(socket) : server.open(socket);
      let open = true;
      return {
        message: conn.message,
        closed() {
          if (open) sockets--;
          open = false;
          conn.closed();
        },
      };
    },
    http(method, path) {
      if (method !== "GET" && method !== "HEAD") return undefined;
      if (path === "/healthz") {
        const ok = cluster === undefined || cluster.available;
        const body = JSON.stringify({
          status: ok ? "ok" : "redis unreachable",
          ...(cluster ? { instance: cluster.instance, redis: cluster.available } : {}),
          connections: server.state.connections.size,
          lobbies: server.state.lobbies.size,
        });
        return Promise.resolve({
          status: ok ? 200 : 503,
          headers: { "content-type": "application/json", ...NO_STORE },
          body: body + "\n",
        });
      }
      if (path === "/metrics" && metrics) {
        const m = metrics;
        return m.render().then((body) => ({
          status: 200,
          headers: { "content-type": m.contentType, ...NO_STORE },
          body,
        }));
      }
      if (path === ICE_SERVERS_PATH && iceServers) {
        return Promise.resolve(iceServers()).then((list) => ({
          status: 200,
          headers: {
            "content-type": "application/json",
            "access-control-allow-origin": "*",
            ...NO_STORE,
          },
          body: JSON.stringify({ iceServers: list }),
        }));
      }
      return undefined;
    },
    async shutdown() {
      server.shutdown();
      await cluster?.shutdown();
    },
  };
}
