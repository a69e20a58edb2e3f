/**
 * The SceneMultiplayer rules, event by event, on the pure reducer: authentication (both orders,
 * timeout, refusals), relay (every row of the notes' table, and the hex examples), client
 * wrapping, announcements, the path cache both ways, RPCs in and out, and malformed packets
 * counted without disturbing anything else.
 */
import { assert, assertEquals } from "@std/assert";
import { GodotError, TransferMode } from "../../core/constants.ts";
import { nextDeadline, reduceScene, type SceneStep } from "../../scene/reduce.ts";
import { RpcMode, rpcNode } from "../../scene/rpc.ts";
import {
  initialSceneState,
  type SceneEffect,
  type SceneEvent,
  type SceneState,
} from "../../scene/state.ts";
import type { Variant } from "../../scene/variant.ts";
import { hex, toHex } from "./_hex.ts";

const R = TransferMode.RELIABLE;
const text = (s: string) => new TextEncoder().encode(s);

/** One effect as a line: `Send 3 [2/0] 07 01 ...`, `Emit peer_connected(2)`, ... */
function line(e: SceneEffect): string {
  switch (e.type) {
    case "Send":
      return `Send ${e.to} [${e.mode}/${e.channel}] ${toHex(e.data)}`;
    case "Emit":
      return `Emit ${e.signal}(${e.peer})`;
    case "DisconnectTransportPeer":
      return `Disconnect ${e.peer}`;
    case "AuthReceived":
      return `Auth ${e.peer} ${toHex(e.data)}`;
    case "PeerPacket":
      return `PeerPacket ${e.from} ${toHex(e.data)}`;
    case "RpcCalled":
      return `Rpc ${e.from} ${e.path}.${e.method}(${
        JSON.stringify(e.args, (_, v) => typeof v === "bigint" ? `${v}n` : v)
      })`;
    case "ReplicationReceived":
      return `Replication ${e.from} ${e.command} ${toHex(e.data)}`;
    case "Rejected":
      return `Rejected ${e.from} ${e.reason}`;
    case "Reply":
      return `Reply ${GodotError[e.error]}`;
  }
}

class Machine {
  constructor(public s: SceneState) {}
  step(e: SceneEvent): string[] {
    const [next, effects]: SceneStep = reduceScene(this.s, e);
    this.s = next;
    return effects.map(line);
  }
  packet(from: number, bytes: string | Uint8Array, mode = R, channel = 0, now = 0): string[] {
    const data = typeof bytes === "string" ? hex(bytes) : bytes;
    return this.step({ type: "PacketReceived", from, data, mode, channel, now });
  }
  connect(peer: number, now = 0): string[] {
    return this.step({ type: "PeerConnected", peer, now });
  }
}

/** A transport-connected machine: server (id 1) or client, relay possible, with options. */
function machine(
  uniqueId: number,
  opts: { auth?: boolean; relay?: boolean; mesh?: boolean } = {},
): Machine {
  const m = new Machine(initialSceneState);
  m.step({ type: "TransportConnected", uniqueId, relaySupported: !opts.mesh });
  m.step({ type: "OptionsSet", authEnabled: opts.auth ?? false, serverRelay: opts.relay ?? true });
  return m;
}

/** A relay server with admitted peers. */
function server(peers: number[], opts: { auth?: boolean } = {}): Machine {
  const m = machine(1, opts);
  const auth = m.s.authEnabled;
  m.step({ type: "OptionsSet", authEnabled: false });
  for (const p of peers) m.connect(p);
  m.step({ type: "OptionsSet", authEnabled: auth });
  return m;
}

Deno.test("auth: data reaches the callback, packets before admission are dropped, admission needs both sides", () => {
  const m = server([3], { auth: true });
  assertEquals(m.connect(2, 100), ["Emit peer_authenticating(2)"]);
  assertEquals(m.packet(2, "07 00 70 77"), ["Auth 2 70 77"]);
  assertEquals(m.packet(2, "03 61"), ["Rejected 2 not_admitted"]);
  assertEquals(m.packet(2, "07 01 05 00 00 00"), ["Rejected 2 not_admitted"]);
  assertEquals(m.step({ type: "SendAuthRequested", peer: 2, data: text("ok") }), [
    "Send 2 [2/0] 07 00 6f 6b",
  ]);
  // Remote side completes first: nothing is admitted yet.
  assertEquals(m.packet(2, "07 00"), []);
  assertEquals(m.s.connected, [3]);
  // Our completion: confirmation first, then the relay announcements, then the signal.
  assertEquals(m.step({ type: "CompleteAuthRequested", peer: 2 }), [
    "Send 2 [2/0] 07 00",
    "Send 3 [2/0] 07 01 02 00 00 00",
    "Send 2 [2/0] 07 01 03 00 00 00",
    "Emit peer_connected(2)",
  ]);
  assertEquals(m.s.connected, [3, 2]);
  assertEquals(m.s.pending.size, 0);
  // A late confirmation is ignored; auth data from an admitted peer is refused.
  assertEquals(m.packet(2, "07 00"), []);
  assertEquals(m.packet(2, "07 00 01"), ["Rejected 2 auth_confirm_bad_size"]);
});

Deno.test("auth: local completion first, then the remote confirmation admits", () => {
  const m = server([], { auth: true });
  m.connect(2);
  assertEquals(m.step({ type: "CompleteAuthRequested", peer: 2 }), ["Send 2 [2/0] 07 00"]);
  assertEquals(m.step({ type: "SendAuthRequested", peer: 2, data: text("x") }), [
    "Reply ERR_FILE_CANT_WRITE",
  ]);
  assertEquals(m.step({ type: "CompleteAuthRequested", peer: 2 }), ["Reply ERR_FILE_CANT_WRITE"]);
  assertEquals(m.packet(2, "07 00"), ["Emit peer_connected(2)"]);
  assertEquals(m.step({ type: "SendAuthRequested", peer: 2, data: text("x") }), [
    "Reply ERR_INVALID_PARAMETER",
  ]);
});

Deno.test("auth: refusals of sendAuth/completeAuth change nothing", () => {
  const m = server([], { auth: true });
  m.connect(2);
  const before = m.s;
  assertEquals(m.step({ type: "SendAuthRequested", peer: 9, data: text("x") }), [
    "Reply ERR_INVALID_PARAMETER",
  ]);
  assertEquals(m.step({ type: "SendAuthRequested", peer: 2, data: new Uint8Array() }), [
    "Reply ERR_INVALID_PARAMETER",
  ]);
  assertEquals(m.step({ type: "CompleteAuthRequested", peer: 9 }), ["Reply ERR_INVALID_PARAMETER"]);
  m.packet(2, "07 00");
  assertEquals(m.step({ type: "SendAuthRequested", peer: 2, data: text("x") }), [
    "Reply ERR_FILE_CANT_WRITE",
  ]);
  assert(before.pending.get(2)!.remote === false);
});

Deno.test("auth: timeout at since + authTimeout disconnects with peer_authentication_failed; 0 disables", () => {
  const m = server([], { auth: true });
  m.connect(2, 100);
  m.connect(3, 500);
  assertEquals(nextDeadline(m.s), 3100);
  assertEquals(m.step({ type: "TimePassed", now: 3099 }), []);
  assertEquals(m.step({ type: "TimePassed", now: 3100 }), [
    "Disconnect 2",
    "Emit peer_authentication_failed(2)",
  ]);
  assertEquals(nextDeadline(m.s), 3500);
  // Losing a pending peer is an authentication failure too, never peer_disconnected.
  assertEquals(m.step({ type: "PeerDisconnected", peer: 3 }), [
    "Emit peer_authentication_failed(3)",
  ]);
  assertEquals(nextDeadline(m.s), undefined);
  m.step({ type: "OptionsSet", authTimeout: 0 });
  m.connect(4, 0);
  assertEquals(nextDeadline(m.s), undefined);
  assertEquals(m.step({ type: "TimePassed", now: 1e9 }), []);
  assertEquals(m.step({ type: "OptionsSet", authTimeout: -1 }), ["Reply ERR_INVALID_PARAMETER"]);
});

Deno.test("auth on a client: the server is pending too; admission gives connected_to_server", () => {
  const m = machine(7, { auth: true });
  assertEquals(m.connect(1), ["Emit peer_authenticating(1)"]);
  m.step({ type: "CompleteAuthRequested", peer: 1 });
  assertEquals(m.packet(1, "07 00"), ["Emit connected_to_server(1)", "Emit peer_connected(1)"]);
});

Deno.test("relay server: every row of the notes' table, mode and channel kept", () => {
  const inner = "03 78";
  const m = server([2, 3, 4]);
  assertEquals(m.packet(2, `07 03 03 00 00 00 ${inner}`, TransferMode.UNRELIABLE, 1), [
    "Send 3 [0/1] 07 03 02 00 00 00 03 78",
  ]);
  assertEquals(m.packet(2, `07 03 09 00 00 00 ${inner}`), ["Rejected 2 relay_target_gone"]);
  assertEquals(m.packet(2, `07 03 01 00 00 00 ${inner}`), ["Rejected 2 relay_target_gone"]);
  assertEquals(m.packet(2, `07 03 00 00 00 00 ${inner}`, TransferMode.UNRELIABLE_ORDERED, 0), [
    "Send 3 [1/0] 07 03 02 00 00 00 03 78",
    "Send 4 [1/0] 07 03 02 00 00 00 03 78",
    "PeerPacket 2 78",
  ]);
  assertEquals(m.packet(2, `07 03 ff ff ff ff ${inner}`), [
    "Send 3 [2/0] 07 03 02 00 00 00 03 78",
    "Send 4 [2/0] 07 03 02 00 00 00 03 78",
  ]);
  assertEquals(m.packet(2, `07 03 fd ff ff ff ${inner}`), [
    "Send 4 [2/0] 07 03 02 00 00 00 03 78",
    "PeerPacket 2 78",
  ]);
  assertEquals(m.packet(2, "07 03 03 00 00 00 07 01 05 00 00 00"), ["Rejected 2 relay_inner_sys"]);
});

Deno.test("notes §4 examples: client 1000 -> 2000 and a client broadcast, through the server", () => {
  const client = machine(1000);
  client.connect(1);
  client.packet(1, "07 01 d0 07 00 00");
  assertEquals(
    client.step({ type: "SendBytesRequested", data: text("x"), target: 2000, mode: R, channel: 0 }),
    [
      "Send 1 [2/0] 07 03 d0 07 00 00 03 78",
    ],
  );
  assertEquals(
    client.step({ type: "SendBytesRequested", data: text("x"), target: 0, mode: R, channel: 0 }),
    [
      "Send 1 [2/0] 07 03 00 00 00 00 03 78",
    ],
  );
  const m = server([1000, 2000]);
  assertEquals(m.packet(1000, "07 03 D0 07 00 00 03 78"), [
    "Send 2000 [2/0] 07 03 e8 03 00 00 03 78",
  ]);
  assertEquals(m.packet(1000, "07 03 00 00 00 00 03 78"), [
    "Send 2000 [2/0] 07 03 e8 03 00 00 03 78",
    "PeerPacket 1000 78",
  ]);
  // The receiving client sees the source in the header.
  const c2 = machine(2000);
  c2.connect(1);
  assertEquals(c2.packet(1, "07 03 e8 03 00 00 03 78"), ["PeerPacket 1000 78"]);
  // And the server itself sends RAW directly: "abc" to a client is 03 61 62 63.
  assertEquals(
    m.step({ type: "SendBytesRequested", data: text("abc"), target: 2000, mode: R, channel: 0 }),
    [
      "Send 2000 [2/0] 03 61 62 63",
    ],
  );
});

Deno.test("sending: client wraps all but 1, server and mesh address peers, bad requests replied", () => {
  const c = machine(5);
  c.connect(1);
  c.packet(1, "07 01 06 00 00 00");
  const send = (target: number, mode = R, channel = 0) =>
    c.step({ type: "SendBytesRequested", data: text("z"), target, mode, channel });
  assertEquals(send(1), ["Send 1 [2/0] 03 7a"]);
  assertEquals(send(6, TransferMode.UNRELIABLE, 2), ["Send 1 [0/2] 07 03 06 00 00 00 03 7a"]);
  assertEquals(send(-6), ["Send 1 [2/0] 07 03 fa ff ff ff 03 7a"]);
  assertEquals(send(9), ["Reply ERR_INVALID_PARAMETER"]);
  assertEquals(send(5), ["Reply ERR_INVALID_PARAMETER"]);
  assertEquals(send(1, 7 as TransferMode), ["Reply ERR_INVALID_PARAMETER"]);
  assertEquals(send(1, R, 256), ["Reply ERR_INVALID_PARAMETER"]);
  assertEquals(
    c.step({ type: "SendBytesRequested", data: new Uint8Array(), target: 1, mode: R, channel: 0 }),
    [
      "Reply ERR_INVALID_DATA",
    ],
  );
  const mesh = machine(2, { mesh: true });
  mesh.connect(1);
  mesh.connect(3);
  assertEquals(
    mesh.step({ type: "SendBytesRequested", data: text("z"), target: 0, mode: R, channel: 0 }),
    [
      "Send 1 [2/0] 03 7a",
      "Send 3 [2/0] 03 7a",
    ],
  );
  assertEquals(mesh.packet(3, "07 03 00 00 00 00 03 7a"), ["Rejected 3 relay_not_supported"]);
  assertEquals(mesh.packet(1, "07 01 04 00 00 00"), ["Rejected 1 sys_not_from_server"]);
  const off = machine(1, { relay: false });
  off.connect(2);
  assertEquals(off.packet(2, "07 03 00 00 00 00 03 7a"), ["Rejected 2 relay_not_supported"]);
  const none = new Machine(initialSceneState);
  assertEquals(
    none.step({ type: "SendBytesRequested", data: text("z"), target: 0, mode: R, channel: 0 }),
    [
      "Reply ERR_UNCONFIGURED",
    ],
  );
});

Deno.test("announcements: a relay client accepts ADD_PEER/DEL_PEER from 1 only, for sane ids", () => {
  const c = machine(5);
  c.connect(1);
  assertEquals(c.packet(1, "07 01 06 00 00 00"), ["Emit peer_connected(6)"]);
  assertEquals(c.packet(1, "07 01 06 00 00 00"), ["Rejected 1 add_peer_duplicate"]);
  assertEquals(c.packet(1, "07 01 01 00 00 00"), ["Rejected 1 sys_invalid_peer_id"]);
  assertEquals(c.packet(1, "07 01 05 00 00 00"), ["Rejected 1 sys_invalid_peer_id"]);
  assertEquals(c.packet(1, "07 01 00 00 00 80"), ["Rejected 1 sys_invalid_peer_id"]);
  assertEquals(c.packet(1, "07 02 08 00 00 00"), ["Rejected 1 del_peer_unknown"]);
  assertEquals(c.packet(1, "07 02 06 00 00 00"), ["Emit peer_disconnected(6)"]);
  assertEquals(c.s.connected, [1]);
  const s = server([2, 3]);
  assertEquals(s.packet(2, "07 01 04 00 00 00"), ["Rejected 2 sys_not_from_server"]);
  assertEquals(s.step({ type: "PeerDisconnected", peer: 2 }), [
    "Send 3 [2/0] 07 02 02 00 00 00",
    "Emit peer_disconnected(2)",
  ]);
  assertEquals(s.packet(2, "03 61"), ["Rejected 2 unknown_peer"]);
  // disconnectPeer: announced to the others, no peer_disconnected of our own.
  s.connect(4);
  assertEquals(s.step({ type: "DisconnectPeerRequested", peer: 4 }), [
    "Send 3 [2/0] 07 02 04 00 00 00",
    "Disconnect 4",
  ]);
  assertEquals(s.step({ type: "PeerDisconnected", peer: 4 }), []);
  assertEquals(s.step({ type: "DisconnectPeerRequested", peer: 4 }), ["Reply ERR_DOES_NOT_EXIST"]);
});

const MAIN = rpcNode("Main", {
  greet: {},
  hello: { mode: RpcMode.ANY_PEER },
  shout: { callLocal: true },
});

function rpc(m: Machine, method: string, args: Variant[], target = 0): string[] {
  return m.step({ type: "RpcRequested", path: "Main", method, args, target });
}

Deno.test("RPC out: SIMPLIFY_PATH then the notes' full-path packet; compact once confirmed; mixed targets", () => {
  const m = server([2]);
  m.step({ type: "NodeRegistered", node: MAIN });
  const simplify = toHex(hex("01" + toHex(text(MAIN.md5)) + " 00 01 00 00 00 4d 61 69 6e 00"));
  assertEquals(rpc(m, "hello", [42, "hi"]), [
    `Send 2 [2/0] ${simplify}`,
    "Send 2 [2/0] 20 15 00 00 80 01 02 02 2a 04 00 00 00 02 00 00 00 68 69 00 00 4d 61 69 6e 00",
  ]);
  // Not confirmed yet: still the path, and no second SIMPLIFY_PATH.
  assertEquals(rpc(m, "greet", []), ["Send 2 [2/0] a0 06 00 00 80 00 4d 61 69 6e 00"]);
  assertEquals(m.packet(2, "02 01 01 00 00 00"), []);
  assertEquals(rpc(m, "greet", []), ["Send 2 [2/0] 80 01 00"]);
  assertEquals(m.packet(2, "02 01 01 00 00 00"), []); // a repeated confirmation is harmless
  // Peer 3 arrives: 2 confirmed gets the 32-bit id, 3 gets SIMPLIFY_PATH and the path.
  m.connect(3);
  assertEquals(rpc(m, "greet", []), [
    `Send 3 [2/0] ${simplify}`,
    "Send 2 [2/0] a0 01 00 00 00 00",
    "Send 3 [2/0] a0 06 00 00 80 00 4d 61 69 6e 00",
  ]);
  // rpcId to one peer, and all-but-one.
  assertEquals(rpc(m, "greet", [], 2), ["Send 2 [2/0] 80 01 00"]);
  assertEquals(rpc(m, "greet", [], -3), ["Send 2 [2/0] 80 01 00"]);
  // callLocal runs here too on rpc(); to ourselves only with callLocal.
  assertEquals(rpc(m, "shout", [], -3).at(-1), "Rpc 1 Main.shout([])");
  assertEquals(rpc(m, "shout", [], 1), ["Rpc 1 Main.shout([])"]);
  assertEquals(rpc(m, "greet", [], 1), ["Reply ERR_INVALID_PARAMETER"]);
  assertEquals(rpc(m, "nope", []), ["Reply ERR_METHOD_NOT_FOUND"]);
  assertEquals(rpc(m, "greet", [], 9), ["Reply ERR_INVALID_PARAMETER"]);
  assertEquals(
    m.step({ type: "RpcRequested", path: "Other", method: "greet", args: [], target: 0 }),
    [
      "Reply ERR_INVALID_PARAMETER",
    ],
  );
  const bad = m.step({
    type: "RpcRequested",
    path: "Main",
    method: "greet",
    args: [new Date() as never],
    target: 0,
  });
  assertEquals(bad, ["Reply ERR_INVALID_PARAMETER"]);
});

Deno.test("RPC out from a relay client: one RELAY per target, never target 0", () => {
  const c = machine(5);
  c.connect(1);
  c.packet(1, "07 01 06 00 00 00");
  c.step({ type: "NodeRegistered", node: MAIN });
  const out = rpc(c, "greet", []);
  assertEquals(out.length, 4);
  assertEquals(out[0].startsWith("Send 1 [2/0] 01 "), true); // SIMPLIFY_PATH to 1, direct
  assertEquals(out[1].startsWith("Send 1 [2/0] 07 03 06 00 00 00 01 "), true); // wrapped to 6
  assertEquals(out[2], "Send 1 [2/0] a0 06 00 00 80 00 4d 61 69 6e 00");
  assertEquals(out[3], "Send 1 [2/0] 07 03 06 00 00 00 a0 06 00 00 80 00 4d 61 69 6e 00");
});

Deno.test("RPC in: path cache, permission, every refusal counted", () => {
  const m = server([2, 3]);
  m.step({ type: "NodeRegistered", node: MAIN });
  const simplify = (md5: string, id: number) =>
    hex(
      "01" + toHex(text(md5)) + " 00" + toHex(new Uint8Array(new Uint32Array([id]).buffer)) +
        " 4d 61 69 6e 00",
    );
  assertEquals(m.packet(2, simplify(MAIN.md5, 5)), ["Send 2 [2/0] 02 01 05 00 00 00"]);
  assertEquals(m.packet(2, simplify(MAIN.md5, 5)), ["Rejected 2 simplify_path_duplicate_id"]);
  assertEquals(m.packet(3, simplify("0".repeat(32), 5)), [
    "Send 3 [2/0] 02 00 05 00 00 00",
    "Rejected 3 rpc_checksum_mismatch",
  ]);
  const other = hex("01" + toHex(text(MAIN.md5)) + " 00 07 00 00 00 58 00");
  assertEquals(m.packet(2, other), ["Rejected 2 simplify_path_unknown_node"]);
  // hello (id 1) is ANY_PEER: by cached id and by path.
  assertEquals(m.packet(2, "00 05 01 02 02 2a 04 00 00 00 02 00 00 00 68 69 00 00"), [
    'Rpc 2 Main.hello([42,"hi"])',
  ]);
  assertEquals(
    m.packet(3, "20 15 00 00 80 01 02 02 2a 04 00 00 00 02 00 00 00 68 69 00 00 4d 61 69 6e 00"),
    [
      'Rpc 3 Main.hello([42,"hi"])',
    ],
  );
  // greet (id 0) is AUTHORITY (1): refused from 2.
  assertEquals(m.packet(2, "80 05 00"), ["Rejected 2 rpc_not_allowed"]);
  assertEquals(m.packet(2, "80 09 00"), ["Rejected 2 rpc_unknown_cache_id"]);
  assertEquals(m.packet(2, "80 05 07"), ["Rejected 2 rpc_unknown_method"]);
  assertEquals(m.packet(2, "a0 06 00 00 80 01 58 00"), ["Rejected 2 rpc_unknown_node"]);
  assertEquals(m.packet(2, "00 05 01 01 07 00 00 00"), ["Rejected 2 rpc_args_unsupported"]);
  assertEquals(m.packet(2, "00 05 01 02 02 2a"), ["Rejected 2 rpc_args_truncated"]);
  assertEquals(m.packet(2, "02 01 63 00 00 00"), ["Rejected 2 confirm_path_unrequested"]);
  // The client side: the authority (1) may call greet; relayed RPCs come from their source.
  const c = machine(6);
  c.connect(1);
  c.packet(1, "07 01 02 00 00 00");
  c.step({ type: "NodeRegistered", node: MAIN });
  assertEquals(c.packet(1, "a0 06 00 00 80 00 4d 61 69 6e 00"), ["Rpc 1 Main.greet([])"]);
  assertEquals(c.packet(1, "07 03 02 00 00 00 a0 06 00 00 80 00 4d 61 69 6e 00"), [
    "Rejected 2 rpc_not_allowed",
  ]);
  assertEquals(c.packet(1, "07 03 02 00 00 00 a0 06 00 00 80 01 4d 61 69 6e 00"), [
    "Rpc 2 Main.hello([])",
  ]);
  assertEquals(
    c.packet(1, "07 03 02 00 00 00 " + toHex(simplify(MAIN.md5, 9))),
    ["Send 1 [2/0] 07 03 02 00 00 00 02 01 09 00 00 00"],
  );
});

Deno.test("replication: to us surfaced raw; relayed untouched by the server", () => {
  const m = server([2, 3]);
  const sync = "06 01 00 01 00 00 80 04 00 00 00 02 07";
  assertEquals(m.packet(2, sync, TransferMode.UNRELIABLE), [
    `Replication 2 sync ${toHex(hex(sync))}`,
  ]);
  assertEquals(m.packet(2, "07 03 03 00 00 00 " + sync, TransferMode.UNRELIABLE), [
    `Send 3 [0/0] 07 03 02 00 00 00 ${toHex(hex(sync))}`,
  ]);
  assertEquals(m.packet(2, "05 2a 00 00 00"), ["Replication 2 despawn 05 2a 00 00 00"]);
});

Deno.test("malformed packets from an admitted peer: one counted reason each, nothing else changes", () => {
  const m = server([2, 3]);
  m.step({ type: "NodeRegistered", node: MAIN });
  const bad: [string, string][] = [
    ["", "empty"],
    ["07", "sys_too_short"],
    ["07 09 00 00 00 00", "sys_unknown_command"],
    ["07 03 03 00 00", "sys_too_short"],
    ["07 03 03 00 00 00", "relay_empty"],
    ["07 03 00 00 00 00 03", "raw_empty"],
    ["03", "raw_empty"],
    ["01 00", "simplify_path_too_short"],
    ["02 01", "confirm_path_bad_size"],
    ["00", "rpc_too_short"],
    ["30 00 00", "rpc_bad_node_compression"],
    ["20 ff ff 00 80 00", "rpc_path_offset_out_of_range"],
    ["00 01 01 01 1c 00 00 00 ff ff ff 7f", "rpc_unknown_cache_id"],
    ["04 00", "spawn_too_short"],
    ["05 00", "despawn_too_short"],
    ["06 00", "sync_too_short"],
  ];
  const before = m.s;
  for (const [bytes, reason] of bad) {
    assertEquals(m.packet(2, bytes), [`Rejected 2 ${reason}`], bytes);
  }
  const { rejected, ...rest } = m.s;
  const { rejected: _, ...restBefore } = before;
  assertEquals(rest, restBefore);
  assertEquals(Object.values(rejected).reduce((a, b) => a! + b!, 0), bad.length);
  assertEquals(rejected.raw_empty, 2);
  // Still works afterwards.
  assertEquals(m.packet(2, "03 61"), ["PeerPacket 2 61"]);
});

Deno.test("transport closed: peers, pending and caches forgotten; registrations and options kept", () => {
  const m = server([2]);
  m.step({ type: "NodeRegistered", node: MAIN });
  rpc(m, "greet", []);
  m.step({ type: "TransportClosed" });
  assertEquals([m.s.uniqueId, m.s.connected, m.s.sent.size, m.s.nodes.size], [0, [], 0, 1]);
});
