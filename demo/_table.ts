/**
 * Text rendering of the demo's live status table and final summary (pure).
 *
 * @module
 */
import type { PeerResult, PeerStatus } from "./peer.ts";

/** What the table needs of one peer process. */
export interface TableRow {
  readonly id: number;
  readonly status?: PeerStatus;
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

const triple = (t: readonly number[]) => `${t[2]}/${t[1]}/${t[0]}`;

/**
 * The live table: one line per peer with its id, connected peers, data packets in and out per
 * channel (reliable/ordered/unreliable) and mean RTT.
 *
 * @example
 * ```ts
 * import { renderTable } from "./_table.ts";
 * console.log(renderTable([{ id: 1 }], 2, "0.5").split("\n").length); // 3
 * ```
 */
export function renderTable(rows: readonly TableRow[], expected: number, elapsed: string): string {
  const header = `${pad("peer", 11)} ${pad("phase", 10)} ${pad("mesh", 6)} ` +
    `${pad("in r/o/u", 18)} ${pad("out r/o/u", 18)} ${pad("rtt ms", 7, true)}`;
  const lines = [`t=${elapsed}s  ${header}`];
  for (const row of rows) {
    const s = row.status;
    const id = row.id === 0 ? "?" : String(row.id) + (row.id === 1 ? " (host)" : "");
    const mesh = s ? `${s.peers.length}/${s.wants ?? expected - 1}` : "-";
    const rtt = s && s.rtt >= 0 ? s.rtt.toFixed(2) : "-";
    lines.push(
      `        ${pad(id, 11)} ${pad(s?.phase ?? "starting", 10)} ${pad(mesh, 6)} ` +
        `${pad(s ? triple(s.in) : "-", 18)} ${pad(s ? triple(s.out) : "-", 18)} ${
          pad(rtt, 7, true)
        }`,
    );
  }
  return lines.join("\n");
}

/**
 * The final summary: per receiving peer, per channel, packets received of packets sent to it.
 *
 * @example
 * ```ts
 * import { renderSummary } from "./_table.ts";
 * console.log(renderSummary([], 2).includes("Summary")); // true
 * ```
 */
export function renderSummary(results: readonly PeerResult[], expected: number): string {
  const lines = ["", "Summary (data packets received / sent to that peer, all senders):"];
  lines.push(
    `  ${pad("peer", 11)} ${pad("saw", 5)} ${pad("reliable", 16)} ${pad("ordered", 16)} ` +
      `${pad("unreliable", 16)} ${pad("rtt ms", 7, true)}  verdict`,
  );
  for (const r of [...results].sort((a, b) => a.id - b.id)) {
    const sums = [0, 1, 2].map((ch) => {
      let got = 0;
      let sent = 0;
      for (const per of Object.values(r.from)) {
        got += per[ch][0];
        sent += per[ch][1];
      }
      const pct = sent === 0 ? "-" : `${((100 * got) / sent).toFixed(1)}%`;
      return `${got}/${sent} ${pct}`;
    });
    const id = String(r.id) + (r.id === 1 ? " (host)" : "");
    lines.push(
      `  ${pad(id, 11)} ${pad(`${Object.keys(r.from).length}/${r.wants ?? expected - 1}`, 5)} ` +
        `${pad(sums[2], 16)} ${pad(sums[1], 16)} ${pad(sums[0], 16)} ` +
        `${pad(r.rtt >= 0 ? r.rtt.toFixed(2) : "-", 7, true)}  ${r.ok ? "ok" : "FAILED"}`,
    );
  }
  lines.push(
    "  Required: reliable complete and in order; ordered never reordered; no duplicates anywhere.",
    "  Losses on the ordered/unreliable channels are allowed by design and only reported.",
  );
  return lines.join("\n");
}
