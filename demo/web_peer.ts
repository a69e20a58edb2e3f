/**
 * A server-side peer for the browser demo (Deno, node-datachannel): joins a lobby, greets every
 * peer that connects on the reliable channel, moves its dot on the unreliable channel, answers
 * and sends pings on the unreliable-ordered channel: the same {@link MeshSession} as the page.
 *
 * ```sh
 * deno run -A demo/web_peer.ts --url ws://127.0.0.1:9080 --lobby NAME [--json]
 * ```
 *
 * `--json` prints the session's snapshot as one JSON line every 200 ms (the browser test reads
 * them) and quits when standard input says `quit` (or closes); otherwise it prints a line per
 * event and quits on Ctrl-C.
 *
 * @module
 */
import { boolean, oneOf, readFlags, string, webSocketUrl } from "../signaling/_flags.ts";
import { loadStack, STACKS } from "../adapters/stack.ts";
import { driftPosition } from "../web/protocol.ts";
import { MeshSession } from "../web/session.ts";

const args = readFlags(
  {
    name: "demo/web_peer.ts",
    summary: "A server-side peer of the browser demo: joins a lobby, greets, moves its dot.",
    flags: {
      url: string("the signaling server (required)", undefined, "URL", webSocketUrl),
      lobby: string("lobby to join; empty creates one", "", "NAME"),
      stack: oneOf("WebRTC stack: node-datachannel or @roamhq/wrtc (libwebrtc)", STACKS, "ndc"),
      json: boolean("print JSON snapshots and quit on 'quit' from stdin"),
    },
    check: (values: { url: string | undefined }) =>
      values.url === undefined ? "--url is required" : undefined,
  },
  Deno.args,
  { exit: Deno.exit },
);
const url = args.url!;
const { createPeerConnection } = await loadStack(args.stack);

let id = 0;
let session: MeshSession;
try {
  session = await MeshSession.join(url, args.lobby, {
    createPeerConnection,
    position: (now) => driftPosition(id, now),
    onEvent: args.json ? undefined : (line) => console.log(line),
    onChat: args.json ? undefined : (line) => console.log(`chat from ${line.from}: ${line.text}`),
  });
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  if (args.json) console.log(JSON.stringify({ type: "error", message }));
  else console.error(message);
  Deno.exit(1);
}
id = session.client.id;
session.net.addEventListener("peer_connected", (e: Event) => {
  session.say(`hello from Deno peer ${id}`, (e as CustomEvent<number>).detail);
});

const quit = Promise.withResolvers<void>();
let timer: ReturnType<typeof setInterval>;
if (args.json) {
  const report = () => console.log(JSON.stringify({ type: "snapshot", ...session.snapshot() }));
  report();
  timer = setInterval(report, 200);
  (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of Deno.stdin.readable) {
      if (decoder.decode(chunk).includes("quit")) break;
    }
    quit.resolve();
  })();
} else {
  timer = setInterval(() => {
    const s = session.snapshot();
    const rtts = s.peers.filter((p) => p.connected).map((p) => `${p.id}: ${p.rtt ?? "-"} ms`);
    console.log(`connected ${s.connected.length}; rtt ${rtts.join(", ") || "-"}`);
  }, 5000);
  Deno.addSignalListener("SIGINT", () => quit.resolve());
}
session.client.addEventListener("disconnected", () => {
  if (!session.client.sealed) quit.resolve();
});

await quit.promise;
clearInterval(timer);
await session.close();
Deno.exit(0);
