/**
 * Building blocks of the lab scenarios: a signaling server in the wan, peers (`_lab_peer.ts`) in
 * any namespace with events to wait for, and the scenario table (`deno task lab` prints it; each
 * scenario appends one row to `.test-results/lab-table.jsonl`).
 *
 * @module
 */
import type { JoinOptions } from "../../signaling/client.ts";
import { type Lab, type LabProcess, type NodeName, WAN_IP } from "./_lab.ts";

const deno = Deno.execPath();
const ROOT = new URL("../../", import.meta.url).pathname;
const PEER = new URL("./_lab_peer.ts", import.meta.url).pathname;
/** Stack log lines that tell a setup's story (see {@link LabPeer.stackLog}). */
const STACK_LOG_OF_INTEREST =
  /state to|TURN|STUN|[Aa]llocat|[Pp]ermission|[Cc]hannel|DTLS|SCTP|Warning|Error|[Ff]atal|Using|candidate pair|[Nn]ominat/;

/** Where scenario rows go (the runner and `deno task lab` print them as a table). */
export const TABLE_FILE = `${ROOT}.test-results/lab-table.jsonl`;

/** One row of the lab table. */
export interface Row {
  scenario: string;
  /** Selected candidate types per connection, `local↔remote` as seen by the first side. */
  candidates: string;
  /** Setup time(s), ms: from joining to connected. */
  setupMs: number[];
  /** Packets moved (and lost, where that is the point). */
  packets: string;
  verdict: string;
}

/** Appends a row to the table file and prints it. */
export async function addRow(row: Row): Promise<void> {
  await Deno.mkdir(`${ROOT}.test-results`, { recursive: true });
  await Deno.writeTextFile(TABLE_FILE, JSON.stringify(row) + "\n", { append: true });
  console.log(
    `| ${row.scenario} | ${row.candidates} | ${
      row.setupMs.join(", ")
    } ms | ${row.packets} | ${row.verdict} |`,
  );
}

/** Starts the signaling server (Deno) in the wan; `args` are extra `signaling/cli.ts` flags. */
export async function startSignaling(
  lab: Lab,
  args: string[] = [],
  port = 9080,
): Promise<{ url: string; proc: LabProcess }> {
  const proc = lab.exec("wan", [
    deno,
    "run",
    "-A",
    `${ROOT}signaling/cli.ts`,
    "--host",
    WAN_IP,
    "--port",
    String(port),
    ...args,
  ], { cwd: ROOT });
  // Read with next(), never `for await` + return: that would cancel the pipe (and hang on it).
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    const next = await proc.lines.next();
    if (next.done) break;
    if (next.value.includes("signaling server listening on")) {
      // Keep draining its log so the pipe never fills.
      (async () => {
        while (!(await proc.lines.next()).done) { /* drain */ }
      })();
      return { url: `ws://${WAN_IP}:${port}`, proc };
    }
  }
  throw new Error(`signaling server did not start: ${proc.stderr()}`);
}

/** One event line of a lab peer. */
// deno-lint-ignore no-explicit-any
export type PeerEvent = { type: string; [key: string]: any };

/** A `_lab_peer.ts` process and the events it reported. */
export class LabPeer {
  readonly proc: LabProcess;
  readonly events: PeerEvent[] = [];
  readonly name: string;
  #waiters = new Set<() => void>();
  #ended = false;

  constructor(proc: LabProcess, name: string) {
    this.proc = proc;
    this.name = name;
    (async () => {
      for await (const line of proc.lines) {
        try {
          this.events.push(JSON.parse(line));
        } catch {
          this.events.push({ type: "text", text: line });
        }
        for (const w of this.#waiters) w();
      }
      this.#ended = true;
      for (const w of this.#waiters) w();
    })();
  }

  /** Waits for the first event matching `pred` (earlier ones count), or throws after `ms`. */
  async waitFor(pred: (e: PeerEvent) => boolean, ms: number, what = "event"): Promise<PeerEvent> {
    const deadline = Date.now() + ms;
    while (true) {
      const found = this.events.find(pred);
      if (found) return found;
      if (this.#ended) {
        throw new Error(`${this.name} exited before ${what}: ${this.dump()}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no ${what} within ${ms} ms: ${this.dump()}`);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.#waiters.add(done);
      });
    }
  }

  /** The events and stderr, for failure messages. */
  dump(): string {
    return `${JSON.stringify(this.events)}\nstderr: ${this.proc.stderr().slice(-2000)}`;
  }

  /**
   * The lines of its stack's log (`stackLog`) that say how a setup went: connection, ICE,
   * gathering and signaling states, TURN and STUN results and errors, DTLS and SCTP; the last
   * `max` of them, each with the peer's milliseconds since its start (the `ms` of its events).
   */
  stackLog(max = 80): string {
    return this.proc.stderr().split("\n")
      .filter((l) => /^\d+ /.test(l) && STACK_LOG_OF_INTEREST.test(l))
      .map((l) => l.replace(/rtc::impl::\w+::\w+@\d+: /, ""))
      .slice(-max)
      .join("\n");
  }

  /** Sends a command line. */
  command(command: Record<string, unknown>): Promise<void> {
    return this.proc.write(JSON.stringify(command));
  }

  /** Asks it to close and exit; waits (SIGKILL after 10 s). */
  async quit(): Promise<void> {
    await this.command({ cmd: "quit" });
    const timer = setTimeout(() => this.proc.stop("SIGKILL"), 10000);
    await this.proc.child.status;
    clearTimeout(timer);
  }
}

/**
 * A lab peer's join options; `godot4` joins with `joinLobbyGodot4` (the same ICE options);
 * `stackLog` runs it with `LAB_LOG` at that level (libdatachannel's and libjuice's log on its
 * stderr, each line stamped with the peer's milliseconds since its start; see
 * {@link LabPeer.stackLog}).
 */
export type LabOptions = JoinOptions & {
  readonly godot4?: boolean;
  readonly stackLog?: "Info" | "Debug" | "Verbose";
};

/** Starts a lab peer in `node` that joins `lobby` ("" creates one) with `options`. */
export function startPeer(
  lab: Lab,
  node: NodeName,
  url: string,
  lobby: string,
  labOptions: LabOptions,
  name: string = node,
  iceFromServer = false,
): LabPeer {
  const { godot4, stackLog, ...options } = labOptions;
  const proc = lab.exec(node, [
    deno,
    "run",
    "-A",
    PEER,
    JSON.stringify({ url, lobby, options, iceFromServer, godot4 }),
  ], { cwd: ROOT, env: stackLog ? { LAB_LOG: stackLog } : {} });
  return new LabPeer(proc, name);
}

/** A host in `a` and a guest in `b` in a new lobby; resolves once the guest joined. */
export async function startPair(
  lab: Lab,
  url: string,
  a: NodeName,
  b: NodeName,
  options: LabOptions,
  guestOptions: LabOptions = options,
): Promise<[LabPeer, LabPeer]> {
  const host = startPeer(lab, a, url, "", options, `host in ${a}`);
  const joined = await host.waitFor((e) => e.type === "joined", 20000, "join");
  const guest = startPeer(lab, b, url, joined.lobby, guestOptions, `guest in ${b}`);
  await guest.waitFor((e) => e.type === "joined", 20000, "join");
  return [host, guest];
}

/** `"srflx↔relay"` from a `connected` event. */
export function typesOf(event: PeerEvent): string {
  const pair = event.pair as { local: { type: string }; remote: { type: string } } | undefined;
  return pair ? `${pair.local.type}↔${pair.remote.type}` : "?";
}

/** The median of some numbers. */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Reads the rows written so far (none if the file is missing). */
export async function readRows(file = TABLE_FILE): Promise<Row[]> {
  const text = await Deno.readTextFile(file).catch(() => "");
  return text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Row);
}

/**
 * The lab table as Markdown: one line per scenario (rows of repeated runs merged: candidate types
 * seen, median setup time over all runs, the last run's packets, every verdict seen).
 */
export function renderTable(rows: readonly Row[]): string {
  const byScenario = new Map<string, Row[]>();
  for (const row of rows) {
    byScenario.set(row.scenario, [...(byScenario.get(row.scenario) ?? []), row]);
  }
  const out = [
    "| scenario | candidate types | setup ms (median, runs) | packets | verdict |",
    "|---|---|---|---|---|",
  ];
  for (const [scenario, list] of byScenario) {
    const times = list.flatMap((r) => r.setupMs);
    out.push(
      `| ${scenario} | ${[...new Set(list.map((r) => r.candidates))].join("; ")} | ` +
        `${Math.round(median(times))} (${list.length}) | ${list.at(-1)!.packets} | ` +
        `${[...new Set(list.map((r) => r.verdict))].join("; ")} |`,
    );
  }
  return out.join("\n");
}
