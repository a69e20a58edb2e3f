/**
 * The star benchmark's wire and control protocol, shared by its server and client processes (ours
 * and geckos.io's): the 100-byte tick, which ticks a client echoes, and the JSON lines a process
 * prints for the orchestrator (`bench/star.ts`) and the commands it reads on stdin.
 *
 * @module
 */
import process from "node:process";
import { quantile } from "./_report.ts";

/** Ticks per second the server broadcasts. */
export const TICK_HZ = 20;
/** Bytes per tick (the 100-byte broadcast). */
export const TICK_BYTES = 100;
/** A client echoes tick `seq` when `seq % ECHO_EVERY === index % ECHO_EVERY` (2 echoes/s each). */
export const ECHO_EVERY = 10;

/** The command-line arguments after the script (Deno and Node alike). */
export const ARGS: readonly string[] = process.argv.slice(2);

/** Ends the process. */
export function exit(code = 0): never {
  process.exit(code);
}

/**
 * The stack settings under test, from the environment the orchestrator gives every process:
 * `STAR_SCTP` (JSON of node-datachannel's `setSctpSettings`, applied in every process that uses
 * node-datachannel: both servers and our clients), `STAR_ICE_MUX=1` (our server's connections share
 * one UDP socket, as geckos.io's do), `STAR_STACK` (our server's stack, `ndc` or `wrtc`) and
 * `STAR_NO_LIVENESS` (see below) and `STAR_CLIENT_STACK` (the clients' stack, `ndc` or `wrtc`, for both libraries; unset: each
 * library's own, see {@link clientStackOf}).
 */
export const STACK_SETTINGS = {
  sctp: process.env.STAR_SCTP ? JSON.parse(process.env.STAR_SCTP) as Record<string, number> : null,
  iceMux: process.env.STAR_ICE_MUX === "1",
  stack: (process.env.STAR_STACK ?? "ndc") as "ndc" | "wrtc",
  clientStack: (process.env.STAR_CLIENT_STACK || undefined) as "ndc" | "wrtc" | undefined,
  /** `STAR_NO_LIVENESS=1`: our server and clients without liveness (a measurement, not a lever). */
  noLiveness: process.env.STAR_NO_LIVENESS === "1",
};

/**
 * The stack a library's bench clients run on: the one asked for (`--client-stack`), else the one
 * each ran on before the option existed: node-datachannel for ours (the library's default in Deno
 * and Node), `@roamhq/wrtc` for geckos.io's browser client (it needs W3C classes on `globalThis`).
 */
export function clientStackOf(
  impl: "ours" | "geckos",
  asked: string | undefined,
): "ndc" | "wrtc" {
  if (asked !== undefined && asked !== "ndc" && asked !== "wrtc") {
    throw new TypeError(`client stack: ndc or wrtc, not ${asked}`);
  }
  return asked ?? (impl === "geckos" ? "wrtc" : "ndc");
}

/** Applies `STAR_SCTP` to node-datachannel (process-wide, before any connection). */
export async function applySctpSettings(): Promise<void> {
  if (STACK_SETTINGS.sctp === null) return;
  const ndc = await import("node-datachannel");
  (ndc.default ?? ndc).setSctpSettings(STACK_SETTINGS.sctp);
}

/** The transfer modes measured. */
export type StarMode = "unreliable" | "reliable";

/** A tick: seq (u32) and the server's send time (f64, performance.now()), then filler. */
export function encodeTick(seq: number, at: number): Uint8Array {
  const bytes = new Uint8Array(TICK_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, seq);
  view.setFloat64(4, at);
  return bytes;
}

/** The seq and send time of a tick (or of its echo). */
export function decodeTick(bytes: Uint8Array): { seq: number; at: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { seq: view.getUint32(0), at: view.getFloat64(4) };
}

/** Whether client `index` echoes tick `seq`. */
export function echoes(seq: number, index: number): boolean {
  return seq % ECHO_EVERY === index % ECHO_EVERY;
}

/** Prints one JSON line for the orchestrator. */
export function say(message: Record<string, unknown>): void {
  console.log(JSON.stringify(message));
}

/** Yields the lines of stdin (the orchestrator's commands). */
export async function* commands(): AsyncGenerator<string> {
  let rest = "";
  const decoder = new TextDecoder();
  // node:process, not Deno's namespace: the servers also run bundled under Node (`--runtime`).
  for await (const chunk of process.stdin) {
    rest += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    let nl;
    while ((nl = rest.indexOf("\n")) >= 0) {
      yield rest.slice(0, nl).trim();
      rest = rest.slice(nl + 1);
    }
  }
}

/**
 * Runs the server's tick loop for `seconds`: `send(seq, bytes)` every 1/TICK_HZ s on a
 * self-correcting schedule. Resolves with the ticks sent and how many sends were refused.
 */
export async function tickFor(
  seconds: number,
  send: (seq: number, bytes: Uint8Array) => boolean,
): Promise<{ sent: number; refused: number; late: number }> {
  const start = performance.now();
  const total = Math.round(seconds * TICK_HZ);
  let refused = 0;
  let late = 0;
  for (let seq = 0; seq < total; seq++) {
    const due = start + (seq * 1000) / TICK_HZ;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    else if (wait < -1000 / TICK_HZ) late++;
    if (!send(seq, encodeTick(seq, performance.now()))) refused++;
  }
  return { sent: total, refused, late };
}

/** RTT samples (ms) summarized as p50/p99/count. */
export function rttSummary(rtts: readonly number[]): { p50: number; p99: number; n: number } {
  return { p50: quantile(rtts, 0.5), p99: quantile(rtts, 0.99), n: rtts.length };
}

/**
 * A client process's life: starts `count` clients at once (`join(i)` resolves once client `i` is
 * connected, and counts what it receives in `received[i]`), reports each one's join time (or its
 * error), answers `report` with the counts and, on `quit` or the end of stdin, runs `close()` and
 * exits.
 */
export async function runClients(
  count: number,
  received: number[],
  join: (i: number) => Promise<void>,
  close: () => Promise<void>,
): Promise<never> {
  const joins = await Promise.all(Array.from({ length: count }, async (_, i) => {
    const t0 = Date.now();
    try {
      await join(i);
      const t1 = Date.now();
      return { ms: t1 - t0, t0, t1 };
    } catch (e) {
      return { ms: -1, t0, t1: Date.now(), error: String(e) };
    }
  }));
  say({ joined: joins });
  for await (const line of commands()) {
    if (line === "report") say({ received });
    else if (line === "quit") break;
  }
  await close();
  process.exit(0);
}

/** Rejects after `ms` (a join that never completes). */
export function timeout(ms: number): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), ms));
}
