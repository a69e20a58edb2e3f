/**
 * Raw reproduction attempt, no mesh code: geckos.io's order of closing on node-datachannel's
 * native API. Each round opens an in-process pair with one channel, then on one side registers an
 * `onClosed` handler that does not reach the channel, closes the channel and the connection, drops
 * the only reference to the channel and collects garbage (`--v8-flags=--expose-gc`) before the
 * `onClosed` delivery runs.
 *
 * Usage: deno run -A --v8-flags=--expose-gc tests/stack/_ndc_closed_gc.ts [rounds] [mode]
 * mode: "drop" (geckos.io: the channel's only reference dropped), "keep" (a reference kept),
 * "pc-only" (only the connection closed, as geckos.io does for a channel not yet open),
 * "collect-open" (the channel collected while open, then the connection closed), "handler-holds"
 * (as "collect-open", but the `onClosed` handler reaches the channel, as in the polyfill).
 *
 * @module
 */
import { cleanup, PeerConnection } from "node-datachannel";

// deno-lint-ignore no-explicit-any
type Any = any;

const rounds = Number(Deno.args[0] ?? 50);
const mode = Deno.args[1] ?? "drop";
const gc = (globalThis as Any).gc as () => void;
const kept: Any[] = [];
let closedSeen = 0;

async function round(i: number): Promise<void> {
  let a: Any = new PeerConnection(`a${i}`, { iceServers: [] });
  const b: Any = new PeerConnection(`b${i}`, { iceServers: [] });
  a.onLocalDescription((sdp: string, type: string) => b.setRemoteDescription(sdp, type));
  b.onLocalDescription((sdp: string, type: string) => a.setRemoteDescription(sdp, type));
  a.onLocalCandidate((c: string, mid: string) => b.addRemoteCandidate(c, mid));
  b.onLocalCandidate((c: string, mid: string) => a.addRemoteCandidate(c, mid));
  let remote: Any;
  const remoteOpen = new Promise<void>((resolve) => {
    b.onDataChannel((dc: Any) => {
      remote = dc;
      resolve();
    });
  });
  let dc: Any = a.createDataChannel("c");
  await new Promise<void>((resolve) => dc.onOpen(resolve));
  await remoteOpen;
  if (mode === "handler-holds") {
    // As node-datachannel's polyfill does: the handler reaches the channel.
    const channel = dc;
    dc.onClosed(() => closedSeen += channel ? 1 : 0);
  } else dc.onClosed(() => closedSeen++);
  if (mode === "collect-open" || mode === "handler-holds") {
    // The channel's only reference dropped while it is open: collected, its destructor closes it.
    dc = null;
    gc();
    await new Promise((r) => setTimeout(r, 1));
    gc();
    a.close();
  } else {
    if (mode !== "pc-only") dc.close();
    a.close();
    if (mode === "keep") kept.push(dc);
    dc = null;
    a = null;
    gc();
  }
  await new Promise((r) => setTimeout(r, 1));
  gc();
  remote.close();
  b.close();
  await new Promise((r) => setTimeout(r, 5));
}

for (let i = 0; i < rounds; i++) {
  await round(i);
  if (i % 10 === 9) console.log(`round ${i + 1}: ${closedSeen} onClosed delivered`);
}
console.log(`done: ${rounds} rounds, ${closedSeen} onClosed delivered`);
if (Deno.env.get("CLEANUP") === "1") cleanup();
// Without it the process took up to 40 s to exit after the last round here (not traced).
Deno.exit(0);
