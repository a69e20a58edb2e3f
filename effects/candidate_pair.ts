/**
 * The ICE candidate pair a connection selected, read from its W3C `getStats()` report: whether a
 * peer is reached directly (`host`), through its NAT's mapping (`srflx`, `prflx`) or through a
 * TURN relay (`relay`). The browser's report and node-datachannel's polyfill (which fills it from
 * libdatachannel's selected pair) have the same shape.
 *
 * @module
 */

/** One end of the selected candidate pair. */
export interface CandidateInfo {
  /** `"host"`, `"srflx"`, `"prflx"` or `"relay"`. */
  readonly type: string;
  /** The candidate's address (may be empty where a browser hides it). */
  readonly address: string;
  /** The candidate's port (0 if unknown). */
  readonly port: number;
}

/** The selected candidate pair of a connection. */
export interface CandidatePair {
  /** Our end. */
  readonly local: CandidateInfo;
  /** The remote peer's end. */
  readonly remote: CandidateInfo;
}

/** A connection that may report W3C statistics. */
export interface StatsSource {
  /** The W3C `getStats()`: a map-like report of stats objects by id. */
  getStats?(): Promise<{ forEach(fn: (value: unknown, key: string) => void): void }>;
}

type Stat = Record<string, unknown> & { id?: string; type?: string };

function candidate(stat: Stat | undefined): CandidateInfo | undefined {
  if (!stat) return undefined;
  const type = stat.candidateType;
  if (typeof type !== "string") return undefined;
  const address = stat.address ?? stat.ip ?? "";
  const port = stat.port;
  return {
    type,
    address: typeof address === "string" ? address : "",
    port: typeof port === "number" ? port : 0,
  };
}

/**
 * Finds the selected pair in a W3C stats report: the transport's `selectedCandidatePairId`, else a
 * succeeded and nominated (or `selected`) candidate pair.
 *
 * @example
 * ```ts
 * import { selectedPairOf } from "./candidate_pair.ts";
 * const report = new Map<string, unknown>([
 *   ["t", { type: "transport", selectedCandidatePairId: "p" }],
 *   ["p", { type: "candidate-pair", localCandidateId: "l", remoteCandidateId: "r" }],
 *   ["l", { type: "local-candidate", candidateType: "srflx", address: "198.18.0.11", port: 5 }],
 *   ["r", { type: "remote-candidate", candidateType: "relay", address: "198.18.0.1", port: 9 }],
 * ]);
 * console.log(selectedPairOf(report)?.local.type); // srflx
 * ```
 */
export function selectedPairOf(
  report: { forEach(fn: (value: unknown, key: string) => void): void },
): CandidatePair | undefined {
  const byId = new Map<string, Stat>();
  report.forEach((value, key) => {
    if (typeof value === "object" && value !== null) byId.set(key, value as Stat);
  });
  let pair: Stat | undefined;
  for (const stat of byId.values()) {
    if (stat.type === "transport" && typeof stat.selectedCandidatePairId === "string") {
      pair = byId.get(stat.selectedCandidatePairId);
      if (pair) break;
    }
  }
  if (!pair) {
    for (const stat of byId.values()) {
      if (
        stat.type === "candidate-pair" &&
        (stat.selected === true || (stat.nominated === true && stat.state === "succeeded"))
      ) {
        pair = stat;
        break;
      }
    }
  }
  if (!pair) return undefined;
  const local = candidate(byId.get(String(pair.localCandidateId)));
  const remote = candidate(byId.get(String(pair.remoteCandidateId)));
  return local && remote ? { local, remote } : undefined;
}

/**
 * Reads the selected pair of a connection, or undefined when the stack reports none (no
 * `getStats`, not connected, or the report failed).
 */
export async function readSelectedPair(connection: object): Promise<CandidatePair | undefined> {
  const source = connection as StatsSource;
  if (typeof source.getStats !== "function") return undefined;
  try {
    return selectedPairOf(await source.getStats());
  } catch {
    return undefined;
  }
}

/** `"srflx↔relay"`: the pair's candidate types, ours first. */
export function pairTypes(pair: CandidatePair | undefined): string {
  return pair ? `${pair.local.type}↔${pair.remote.type}` : "?";
}
