/**
 * What a lab peer does once it joined a lobby, in any runtime (the Deno lab peer
 * `_lab_peer.ts`, and the Chromium page of `tests/liveness/_lab_page.ts`): reports the mesh's and
 * the client's events as JSON objects through `out` (see `_lab_peer.ts` for their shapes), counts
 * what arrives by the demo wire's rules, and runs the `send` and `tally` commands. Not a test file.
 *
 * @module
 */
import { GodotError, TransferMode } from "../../core/constants.ts";
import { LobbyClient } from "../../signaling/client.ts";
import type { Godot4LobbyClient } from "../../signaling/client_godot4.ts";
import { type ChannelTally, decode, encode, judge, newTally, record } from "../../demo/_wire.ts";

/** A lab peer's commands, one JSON object each. */
export interface LabCommand {
  readonly cmd: string;
  readonly count?: number;
  readonly mode?: number;
  readonly size?: number;
  readonly spreadMs?: number;
}

/** The agent of a joined lobby client: `run` carries out a command; `reading` ends with the mesh. */
export interface LabAgent {
  run(command: LabCommand): Promise<void>;
  readonly reading: Promise<void>;
}

/**
 * Wires `client` (joined) to `out`; `ms` in the events counts from `started` (before the join).
 * `trace`: also report the connections' state changes (`{"type":"pcstate"}`).
 */
export function labAgent(
  client: LobbyClient | Godot4LobbyClient,
  out: (value: Record<string, unknown>) => void,
  started: number,
  trace = false,
): LabAgent {
  const ms = () => Math.round(performance.now() - started);
  const sleep = (t: number) => new Promise((r) => setTimeout(r, t));
  // The Godot 3 mesh and the Godot 4 peer share everything this peer uses.
  const mesh = client instanceof LobbyClient ? client.mesh : client.peer;
  const events = mesh as unknown as EventTarget;

  const tallies = new Map<number, ChannelTally[]>();
  const fins = new Map<number, readonly [number, number, number]>();
  const tallyOf = (peer: number) => {
    let t = tallies.get(peer);
    if (!t) tallies.set(peer, t = [newTally(), newTally(), newTally()]);
    return t;
  };

  events.addEventListener("peer_connected", async (e) => {
    const peer = (e as CustomEvent<number>).detail;
    // The selected pair is read from the stack's stats as the connection connects.
    let pair = mesh.stats().peers.get(peer)?.candidatePair;
    for (let i = 0; !pair && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 20));
      pair = mesh.stats().peers.get(peer)?.candidatePair;
    }
    out({ type: "connected", peer, ms: ms(), pair });
    if (trace) {
      const pc = mesh.getPeer(peer)?.connection;
      pc?.addEventListener("connectionstatechange", () => {
        out({ type: "pcstate", state: pc.connectionState, at: Date.now() });
      });
    }
  });
  events.addEventListener(
    "peer_disconnected",
    (e) =>
      out({
        type: "disconnected",
        peer: (e as CustomEvent<number>).detail,
        ms: ms(),
        at: Date.now(),
      }),
  );
  events.addEventListener("peer_interrupted", (e) => {
    out({ type: "interrupted", peer: (e as CustomEvent<number>).detail, ms: ms(), at: Date.now() });
  });
  events.addEventListener("peer_resumed", async (e) => {
    const peer = (e as CustomEvent<number>).detail;
    const at = Date.now();
    await sleep(300); // the new connection's selected pair is read as it connects
    out({ type: "resumed", peer, ms: ms(), at, pair: mesh.stats().peers.get(peer)?.candidatePair });
  });
  client.addEventListener("signaling_error", (e) => {
    out({ type: "error", message: e.detail.message, peer: e.detail.peerId, ms: ms() });
  });

  const reading = (async () => {
    for await (const packet of mesh.packets()) {
      // Data packets may carry padding after the demo's 6-byte header (see `size`).
      const p = decode(packet.data[0] === 0 ? packet.data.subarray(0, 6) : packet.data);
      if (p?.kind === "data") record(tallyOf(packet.peerId)[p.channel], p.seq);
      else if (p?.kind === "fin") fins.set(packet.peerId, p.sent);
    }
  })();

  const totals: [number, number, number] = [0, 0, 0];

  async function send(count: number, mode: number, size = 6, spreadMs = 0): Promise<void> {
    const t0 = performance.now();
    let busy = 0;
    mesh.targetPeer = 0;
    for (let seq = 0; seq < count; seq++) {
      mesh.transferMode = mode;
      const bytes = new Uint8Array(Math.max(6, size));
      bytes.set(encode({ kind: "data", channel: mode, seq }));
      while (mesh.putPacket(bytes) === GodotError.ERR_BUSY) {
        busy++;
        await sleep(5);
      }
      if (spreadMs > 0 && seq % 50 === 49) {
        await sleep(Math.max(0, t0 + (spreadMs * (seq + 1)) / count - performance.now()));
      } else if (seq % 200 === 199) await sleep(mode === TransferMode.UNRELIABLE ? 5 : 0);
    }
    // Sequence numbers restart with each send; the fin carries the totals (one send per mode).
    totals[mode] = count;
    mesh.transferMode = TransferMode.RELIABLE;
    mesh.putPacket(encode({ kind: "fin", sent: [...totals] }));
    out({ type: "sent", count, mode, busy, ms: Math.round(performance.now() - t0) });
  }

  async function run(command: LabCommand): Promise<void> {
    if (command.cmd === "send") {
      await send(command.count ?? 0, command.mode ?? 2, command.size, command.spreadMs);
    } else if (command.cmd === "tally") {
      const from: Record<string, unknown> = {};
      for (const [peer, t] of tallies) {
        const fin = fins.get(peer);
        from[peer] = {
          received: t.map((c) => c.received),
          reordered: t.map((c) => c.reordered),
          fin: fin ?? null,
          problems: fin ? judge(peer, t, fin) : ["no fin yet"],
        };
      }
      out({ type: "tally", from, stats: Object.fromEntries(mesh.stats().peers) });
    }
  }
  return { run, reading };
}
