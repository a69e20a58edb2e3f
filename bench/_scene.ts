/**
 * SceneMultiplayer's CPU cost per packet, measured on the pure rules (no transport): the sender's
 * reducer builds the packet, the receiver's reducer parses and delivers it. RPCs (compact node id,
 * path confirmed) against `sendBytes` of the same payload size, and a client-to-client relay
 * through the server against a direct send.
 *
 * @module
 */
import { TransferMode } from "../core/constants.ts";
import { reduceScene } from "../scene/reduce.ts";
import { encodeRpcArgs, RpcMode, rpcNode } from "../scene/rpc.ts";
import { initialSceneState, type SceneEvent, type SceneState } from "../scene/state.ts";
import { type Variant, Vector2 } from "../scene/variant.ts";

const R = TransferMode.RELIABLE;
const NODE = rpcNode("Game", {
  move: { mode: RpcMode.ANY_PEER },
  pack: { mode: RpcMode.ANY_PEER },
});

function run(s: SceneState, events: SceneEvent[]): SceneState {
  for (const e of events) s = reduceScene(s, e)[0];
  return s;
}

function sentData(s: SceneState, e: SceneEvent): Uint8Array {
  const [, effects] = reduceScene(s, e);
  const send = effects.find((x) => x.type === "Send");
  if (!send || send.type !== "Send") throw new Error(`no Send for ${e.type}`);
  return send.data;
}

/** A transport-connected state with admitted peers and the node registered. */
function connected(uniqueId: number, peers: number[]): SceneState {
  return run(initialSceneState, [
    { type: "TransportConnected", uniqueId, relaySupported: true },
    { type: "NodeRegistered", node: NODE },
    ...peers.map((peer): SceneEvent => ({ type: "PeerConnected", peer, now: 0 })),
  ]);
}

/** Server 1 and client 2 with "Game" cached both ways (server -> client confirmed). */
function pair(): { server: SceneState; client: SceneState } {
  let server = connected(1, [2]);
  let client = connected(2, [1]);
  const rpc: SceneEvent = {
    type: "RpcRequested",
    path: "Game",
    method: "move",
    args: [],
    target: 2,
  };
  const [s1, out] = reduceScene(server, rpc);
  server = s1;
  for (const e of out) {
    if (e.type !== "Send") continue;
    const [c1, back] = reduceScene(client, {
      type: "PacketReceived",
      from: 1,
      data: e.data,
      mode: R,
      channel: 0,
      now: 0,
    });
    client = c1;
    for (const b of back) {
      if (b.type === "Send") {
        server = reduceScene(server, {
          type: "PacketReceived",
          from: 2,
          data: b.data,
          mode: R,
          channel: 0,
          now: 0,
        })[0];
      }
    }
  }
  if (!server.sent.get("Game")?.confirmed.get(2)) throw new Error("path not confirmed");
  return { server, client };
}

/** µs per packet of `once()`, measured for about `ms` milliseconds. */
function perPacket(ms: number, once: () => number): number {
  let n = 0;
  let sink = 0;
  for (let i = 0; i < 2000; i++) sink += once(); // warm up
  const t0 = performance.now();
  let now = t0;
  while (now - t0 < ms) {
    for (let i = 0; i < 200; i++) sink += once();
    n += 200;
    now = performance.now();
  }
  if (sink < 0) throw new Error("unreachable");
  return ((now - t0) * 1000) / n;
}

/** The figures of one size: µs per packet, sender and receiver rules together. */
export interface SceneCosts {
  /** Payload bytes. */
  readonly size: number;
  /** `sendBytes` server -> client. */
  readonly bytesUs: number;
  /** RPC with one PackedByteArray of `size` bytes (byte-only form). */
  readonly rpcBytesUs: number;
  /** RPC with mixed arguments (int, float, Vector2, String) whose argument section is `size` bytes. */
  readonly rpcMixedUs: number;
  /** `sendBytes` client -> client through the relay server (3 reducers). */
  readonly relayUs: number;
}

/** Mixed RPC arguments whose encoded section is exactly `size` bytes (size >= 32). */
function mixedArgs(size: number): Variant[] {
  const base: Variant[] = [42, 0.5, new Vector2(1, 2)];
  const fixed = encodeRpcArgs([...base, ""]).bytes.length;
  const args = [...base, "x".repeat(Math.max(0, size - fixed))];
  // Strings pad to 4: trim until the section is not longer than asked.
  while (encodeRpcArgs(args).bytes.length > size) args[3] = (args[3] as string).slice(1);
  return args;
}

/** Measures one payload size for about `ms` milliseconds per figure. */
export function sceneCosts(size: number, ms: number): SceneCosts {
  const { server, client } = pair();
  const payload = new Uint8Array(size).fill(7);
  const recv = (s: SceneState, from: number, data: Uint8Array) =>
    reduceScene(s, { type: "PacketReceived", from, data, mode: R, channel: 0, now: 0 })[1].length;

  const bytesUs = perPacket(ms, () => {
    const data = sentData(server, {
      type: "SendBytesRequested",
      data: payload,
      target: 2,
      mode: R,
      channel: 0,
    });
    return recv(client, 1, data);
  });
  const rpcBytes: SceneEvent = {
    type: "RpcRequested",
    path: "Game",
    method: "pack",
    args: [payload],
    target: 2,
  };
  const rpcBytesUs = perPacket(ms, () => recv(client, 1, sentData(server, rpcBytes)));
  const rpcMixed: SceneEvent = {
    type: "RpcRequested",
    path: "Game",
    method: "move",
    args: mixedArgs(size),
    target: 2,
  };
  const rpcMixedUs = perPacket(ms, () => recv(client, 1, sentData(server, rpcMixed)));

  const hub = connected(1, [2, 3]);
  const c2 = connected(2, [1]);
  const c2k = reduceScene(c2, {
    type: "PacketReceived",
    from: 1,
    data: new Uint8Array([7, 1, 3, 0, 0, 0]),
    mode: R,
    channel: 0,
    now: 0,
  })[0];
  const c3 = connected(3, [1]);
  const relayUs = perPacket(ms, () => {
    const wrapped = sentData(c2k, {
      type: "SendBytesRequested",
      data: payload,
      target: 3,
      mode: R,
      channel: 0,
    });
    const forwarded = sentData(hub, {
      type: "PacketReceived",
      from: 2,
      data: wrapped,
      mode: R,
      channel: 0,
      now: 0,
    });
    return recv(c3, 1, forwarded);
  });
  return { size, bytesUs, rpcBytesUs, rpcMixedUs, relayUs };
}
