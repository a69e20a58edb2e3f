/**
 * The server's Prometheus metrics (`GET /metrics`), on the `prom-client` npm package, loaded only
 * when metrics are asked for. Each server has a registry of its own.
 *
 * | metric                                   | type      | what                                        |
 * | ---------------------------------------- | --------- | ------------------------------------------- |
 * | `signaling_sockets`                      | gauge     | WebSockets open on this instance            |
 * | `signaling_connections`                  | gauge     | connections in this instance's lobby rules  |
 * | `signaling_lobbies`                      | gauge     | lobbies held (owned) by this instance       |
 * | `signaling_joins_total`                  | counter   | joins accepted                              |
 * | `signaling_relays_total`                 | counter   | offers, answers and candidates relayed      |
 * | `signaling_closes_total{reason}`         | counter   | connections closed, by close reason         |
 * | `signaling_relay_latency_seconds`        | histogram | frame in to relayed frame handed to socket  |
 * | `signaling_redis_up`                     | gauge     | 1 when Redis is reachable (with `--redis`)  |
 * | `signaling_piped_total`                  | counter   | sockets piped to another instance's lobby   |
 *
 * `closes_total` counts the rules' closes with their reason, and `"client closed"` for sockets
 * that went away by themselves.
 *
 * @module
 */
import type { ObservedStep } from "./server.ts";

/** What a running server reads at scrape time. */
export interface MetricsSources {
  /** WebSockets open on this instance. */
  sockets(): number;
  /** Connections in the lobby rules (local and handed over by other instances). */
  connections(): number;
  /** Lobbies held here. */
  lobbies(): number;
  /** Redis reachable (undefined: no Redis). */
  redisUp(): boolean | undefined;
  /** Sockets handed to another instance's lobby so far (undefined: no Redis). */
  handedOver?(): number | undefined;
}

/** A server's metrics: feed it the server's steps, render it for `/metrics`. */
export interface ServerMetrics {
  /** The `observe` option of the server. */
  observe(step: ObservedStep): void;
  /** The Prometheus text exposition. */
  render(): Promise<string>;
  /** Its content type. */
  readonly contentType: string;
}

/** Closes the transport reported, not the rules. */
const CLIENT_CLOSED = "client closed";

/**
 * Makes a server's metrics (loads `prom-client`).
 *
 * @example
 * ```ts
 * import { createMetrics } from "./metrics.ts";
 * const metrics = await createMetrics({
 *   sockets: () => 0,
 *   connections: () => 0,
 *   lobbies: () => 0,
 *   redisUp: () => undefined,
 * });
 * console.log((await metrics.render()).includes("signaling_joins_total 0")); // true
 * ```
 */
export async function createMetrics(sources: MetricsSources): Promise<ServerMetrics> {
  const prom = await import("prom-client").catch((error) => {
    throw new Error(
      `metrics need the npm package prom-client (npm install prom-client@15.1.3): ${error}`,
    );
  });
  const registers = [new prom.Registry()];
  const gauge = (name: string, help: string, read: () => number | undefined) =>
    new prom.Gauge({
      name,
      help,
      registers,
      collect() {
        const value = read();
        if (value !== undefined) this.set(value);
      },
    });
  gauge("signaling_sockets", "WebSockets open on this instance", sources.sockets);
  gauge(
    "signaling_connections",
    "Connections in this instance's lobby rules",
    sources.connections,
  );
  gauge("signaling_lobbies", "Lobbies held by this instance", sources.lobbies);
  if (sources.redisUp() !== undefined) {
    gauge("signaling_redis_up", "1 when Redis is reachable", () => sources.redisUp() ? 1 : 0);
    new prom.Counter({
      name: "signaling_piped_total",
      help: "Sockets that joined a lobby of another instance (piped to it through Redis)",
      registers,
      collect() {
        const n = sources.handedOver?.() ?? 0;
        this.reset();
        this.inc(n);
      },
    });
  }
  const joins = new prom.Counter({
    name: "signaling_joins_total",
    help: "Joins accepted",
    registers,
  });
  const relays = new prom.Counter({
    name: "signaling_relays_total",
    help: "Offers, answers and candidates relayed",
    registers,
  });
  const closes = new prom.Counter({
    name: "signaling_closes_total",
    help: "Connections closed, by reason",
    labelNames: ["reason"] as const,
    registers,
  });
  const latency = new prom.Histogram({
    name: "signaling_relay_latency_seconds",
    help: "From a frame's arrival to the relayed frame handed to the receiving socket",
    buckets: [0.00001, 0.00003, 0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1],
    registers,
  });
  return {
    contentType: registers[0].contentType,
    render: () => registers[0].metrics(),
    observe({ event, before, after, effects, seconds }) {
      for (const effect of effects) {
        if (effect.type === "Close") closes.inc({ reason: effect.reason });
      }
      if (event.type === "Closed" && before.connections.has(event.key)) {
        closes.inc({ reason: CLIENT_CLOSED });
      }
      if (event.type !== "Text") return;
      const was = before.connections.get(event.key);
      const is = after.connections.get(event.key);
      if (!was || !is) return;
      if (was.lobby === "") {
        if (is.lobby !== "") joins.inc();
        return;
      }
      if (effects.length === 1 && effects[0].type === "Send" && effects[0].key !== event.key) {
        relays.inc();
        latency.observe(seconds);
      }
    },
  };
}
