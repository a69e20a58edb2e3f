// A server-side peer of the browser test that runs on Node and uses only the built npm package
// (`scripts/build_npm.ts`): what a Node user of `webrtc-mesh` writes. It speaks the web demo's
// packets (web/protocol.ts): greets every peer that connects with a chat line (reliable), sends a
// dot 20 times a second (unreliable), pings every 500 ms (unreliable ordered) and answers pings,
// and prints a snapshot shaped like web/session.ts's MeshSnapshot as one JSON line every 200 ms.
// Quits when standard input says "quit" (or closes).
//
//   node tests/web/_node_peer.mjs PACKAGE_DIR WS_URL LOBBY [ndc|wrtc]
import { pathToFileURL } from "node:url";

const [pkgDir, url, lobby, stack = "ndc"] = process.argv.slice(2);
if (!pkgDir || !url || lobby === undefined) {
  console.error("usage: node _node_peer.mjs PACKAGE_DIR WS_URL LOBBY");
  process.exit(2);
}
const load = (path) => import(pathToFileURL(`${pkgDir}/${path}`).href);
const { TransferMode } = await load("mod.js");
const { joinLobby } = await load("signaling/mod.js");
// The stack's own entry point (webrtc-mesh/node or webrtc-mesh/wrtc), as a user imports it.
const { createPeerConnection } = await load(
  stack === "wrtc" ? "adapters/wrtc.js" : "adapters/node_datachannel.js",
);

const CHAT = 16, DOT = 17, PING = 1, PONG = 2;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

let client;
try {
  client = await joinLobby(url, lobby, { createPeerConnection });
} catch (error) {
  console.log(JSON.stringify({ type: "error", message: String(error?.message ?? error) }));
  process.exit(1);
}
const mesh = client.mesh;
const id = client.id;
/** @type {Map<number, {id: number, connected: boolean, left: boolean, in: number[], out: number[], rtt: number | null}>} */
const peers = new Map();
const disconnected = [];
const chat = [];
const peer = (pid) => {
  if (!peers.has(pid)) {
    peers.set(pid, {
      id: pid,
      connected: false,
      left: false,
      in: [0, 0, 0],
      out: [0, 0, 0],
      rtt: null,
    });
  }
  return peers.get(pid);
};
const connectedIds = () =>
  [...peers.values()].filter((p) => p.connected).map((p) => p.id).sort((a, b) => a - b);

function send(pid, mode, bytes) {
  mesh.targetPeer = pid;
  mesh.transferMode = mode;
  const ok = mesh.putPacket(bytes) === 0;
  if (ok) peer(pid).out[mode]++;
  return ok;
}
function timePacket(kind, time) {
  const out = new Uint8Array(9);
  out[0] = kind;
  new DataView(out.buffer).setFloat64(1, time);
  return out;
}

mesh.addEventListener("peer_connected", (e) => {
  const p = peer(e.detail);
  p.connected = true;
  const text = `hello from Node peer ${id}`;
  chat.push({ from: id, text, at: Date.now() });
  send(e.detail, TransferMode.RELIABLE, new Uint8Array([CHAT, ...encoder.encode(text)]));
});
mesh.addEventListener("peer_disconnected", (e) => {
  const p = peer(e.detail);
  p.connected = false;
  p.left = true;
  disconnected.push(e.detail);
});

const stopReading = new AbortController();
const reading = (async () => {
  for await (const packet of mesh.packets(stopReading.signal)) {
    const p = peer(packet.peerId);
    p.in[packet.channel]++;
    const bytes = packet.data;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes[0] === CHAT) {
      try {
        chat.push({ from: packet.peerId, text: decoder.decode(bytes.subarray(1)), at: Date.now() });
      } catch { /* not UTF-8: ignored */ }
    } else if (bytes[0] === PING && bytes.length === 9) {
      send(packet.peerId, packet.channel, timePacket(PONG, view.getFloat64(1)));
    } else if (bytes[0] === PONG && bytes.length === 9) {
      p.rtt = Math.round((performance.now() - view.getFloat64(1)) * 10) / 10;
    }
  }
})();

const started = performance.now();
const dotTimer = setInterval(() => {
  const s = (performance.now() - started) / 1000;
  const out = new Uint8Array(9);
  out[0] = DOT;
  const view = new DataView(out.buffer);
  view.setFloat32(1, 0.5 + 0.4 * Math.cos(s * 0.8));
  view.setFloat32(5, 0.5 + 0.4 * Math.sin(s * 1.1));
  for (const pid of connectedIds()) send(pid, TransferMode.UNRELIABLE, out);
}, 50);
const pingTimer = setInterval(() => {
  for (const pid of connectedIds()) {
    send(pid, TransferMode.UNRELIABLE_ORDERED, timePacket(PING, performance.now()));
  }
}, 500);

function snapshot() {
  return {
    type: "snapshot",
    id,
    lobby: client.lobby,
    status: mesh.getConnectionStatus(),
    connected: connectedIds(),
    disconnected: [...disconnected],
    peers: [...peers.values()].sort((a, b) => a.id - b.id).map((p) => {
      const info = mesh.getPeer(p.id);
      return {
        ...p,
        connectionState: info ? info.connection.connectionState : "gone",
        channels: info ? info.channels.map((c) => c.readyState) : ["gone", "gone", "gone"],
      };
    }),
    chat,
  };
}
const report = () => console.log(JSON.stringify(snapshot()));
report();
const reportTimer = setInterval(report, 200);

const quit = new Promise((resolve) => {
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (text) => {
    if (text.includes("quit")) resolve();
  });
  process.stdin.on("end", resolve);
});
await quit;
clearInterval(dotTimer);
clearInterval(pingTimer);
clearInterval(reportTimer);
stopReading.abort();
await client.close();
await reading;
await mesh.whenClosed();
process.exit(0);
