/**
 * The star benchmark's processes for geckos.io, the comparison: `server PORT MODE` is a geckos.io
 * server (node-datachannel, as ours), `client PORT MODE FIRST COUNT` holds COUNT geckos.io clients
 * (its browser client on W3C classes assigned to `globalThis`: `@roamhq/wrtc`'s, or with
 * `STAR_CLIENT_STACK=ndc` node-datachannel's W3C polyfill, `node-datachannel/polyfill`). Unreliable ticks are
 * geckos.io raw messages (binary, the unreliable channel); reliable ticks are its reliable events
 * (JSON, each sent ten times over the same unreliable channel, deduplicated by the receiver).
 * Protocol: `_star_proto.ts`.
 *
 * @module
 */
import geckos, { type ServerChannel } from "@geckos.io/server";
import {
  applySctpSettings,
  ARGS,
  clientStackOf,
  commands,
  decodeTick,
  echoes,
  exit,
  rttSummary,
  runClients,
  say,
  STACK_SETTINGS,
  type StarMode,
  TICK_BYTES,
  tickFor,
  timeout,
} from "./_star_proto.ts";

const [role, port, mode, ...rest] = ARGS as [string, string, StarMode, ...string[]];
const clientStack = clientStackOf("geckos", STACK_SETTINGS.clientStack);
// setSctpSettings is node-datachannel's: only for a process that makes its connections with it.
if (role === "server" || clientStack === "ndc") await applySctpSettings();

/** A reliable tick as JSON of about the same size as the binary one. */
function jsonTick(seq: number, at: number): { s: number; t: number; p: string } {
  const bare = JSON.stringify({ tick: { s: seq, t: at, p: "" } }).length;
  return { s: seq, t: at, p: "x".repeat(Math.max(0, TICK_BYTES - bare)) };
}

function asBytes(raw: unknown): Uint8Array {
  if (raw instanceof Uint8Array) return raw;
  if (raw instanceof ArrayBuffer) return new Uint8Array(raw);
  const v = raw as ArrayBufferView;
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

async function server(): Promise<void> {
  const io = geckos({ iceServers: [] });
  io.listen(Number(port));
  let connected = 0;
  let rtts: number[] = [];
  io.onConnection((channel: ServerChannel) => {
    connected++;
    channel.onDisconnect(() => connected--);
    if (mode === "reliable") {
      channel.on("echo", (d) => rtts.push(performance.now() - (d as { t: number }).t));
    } else {
      channel.onRaw((raw) => rtts.push(performance.now() - decodeTick(asBytes(raw)).at));
    }
  });
  say({ ready: true, lobby: "" });
  for await (const line of commands()) {
    const [cmd, arg] = line.split(" ");
    if (cmd === "connected") say({ connected });
    else if (cmd === "go") {
      rtts = [];
      const r = await tickFor(Number(arg), (seq, bytes) => {
        if (mode === "reliable") {
          io.emit("tick", jsonTick(seq, decodeTick(bytes).at), { reliable: true });
        } else io.raw.emit(bytes);
        return true;
      });
      // geckos.io's reliable resends run 10 x 150 ms after the last tick.
      await new Promise((res) => setTimeout(res, mode === "reliable" ? 1600 : 500));
      say({ done: true, ...r, connected, rtt: rttSummary(rtts) });
    } else if (cmd === "quit") break;
  }
  exit(0);
}

async function client(first: number, count: number): Promise<void> {
  // The browser client finds the W3C classes on globalThis. Only the chosen stack is loaded.
  const w3c = clientStack === "ndc"
    ? await import("node-datachannel/polyfill")
    : (await import("@roamhq/wrtc")).default;
  Object.assign(globalThis, {
    RTCPeerConnection: w3c.RTCPeerConnection,
    RTCSessionDescription: w3c.RTCSessionDescription,
    RTCIceCandidate: w3c.RTCIceCandidate,
  });
  const { default: geckosClient } = await import("@geckos.io/client");
  const received = new Array<number>(count).fill(0);
  const channels: { close(): void }[] = [];
  await runClients(count, received, async (i) => {
    const ch = geckosClient({ url: "http://127.0.0.1", port: Number(port), iceServers: [] });
    channels.push(ch);
    await Promise.race([
      new Promise<void>((resolve, reject) => {
        ch.onConnect((error) => error ? reject(error) : resolve());
      }),
      timeout(60_000),
    ]);
    const index = first + i;
    if (mode === "reliable") {
      ch.on("tick", (d) => {
        const { s, t } = d as { s: number; t: number };
        received[i]++;
        if (echoes(s, index)) ch.emit("echo", { t }, { reliable: true });
      });
    } else {
      ch.onRaw((raw) => {
        const bytes = asBytes(raw);
        received[i]++;
        if (echoes(decodeTick(bytes).seq, index)) ch.raw.emit(bytes);
      });
    }
  }, () => {
    for (const ch of channels) {
      try {
        ch.close();
      } catch { /* geckos.io's close() throws for a channel that never connected */ }
    }
    return Promise.resolve();
  });
}

if (role === "server") await server();
else await client(Number(rest[0]), Number(rest[1]));
