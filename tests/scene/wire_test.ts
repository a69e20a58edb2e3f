/**
 * Golden tests of the SceneMultiplayer packet codec: every hex example of
 * `../shared/research/scenemultiplayer-wire.md`, both ways, and every malformed shape named.
 */
import { assertEquals } from "@std/assert";
import { decodeRpcArgs, encodeRpcArgs, rpcNode } from "../../scene/rpc.ts";
import { float, Vector2 } from "../../scene/variant.ts";
import {
  addPeerPacket,
  authConfirmPacket,
  authPacket,
  confirmPathPacket,
  cstring,
  delPeerPacket,
  parsePacket,
  rawPacket,
  relayPacket,
  type RpcPacket,
  rpcPacket,
  simplifyPathPacket,
} from "../../scene/wire.ts";
import { hex, toHex } from "./_hex.ts";

const text = (s: string) => new TextEncoder().encode(s);

Deno.test("notes §2: ADD_PEER, DEL_PEER, RELAY layouts both ways", () => {
  assertEquals(toHex(addPeerPacket(12345678)), "07 01 4e 61 bc 00");
  assertEquals(parsePacket(hex("07 01 4E 61 BC 00")), { kind: "add_peer", peer: 12345678 });
  assertEquals(toHex(delPeerPacket(12345678)), "07 02 4e 61 bc 00");
  assertEquals(parsePacket(hex("07 02 4E 61 BC 00")), { kind: "del_peer", peer: 12345678 });
  // §4: client 1000 -> client 2000 "x", and the server's forward.
  assertEquals(toHex(relayPacket(2000, rawPacket(text("x")))), "07 03 d0 07 00 00 03 78");
  assertEquals(toHex(relayPacket(1000, rawPacket(text("x")))), "07 03 e8 03 00 00 03 78");
  assertEquals(toHex(relayPacket(0, rawPacket(text("x")))), "07 03 00 00 00 00 03 78");
  const r = parsePacket(hex("07 03 D0 07 00 00 03 78"));
  assertEquals(r.kind === "relay" && [r.peer, toHex(r.inner)], [2000, "03 78"]);
  const neg = parsePacket(hex("07 03 fe ff ff ff 03 78"));
  assertEquals(neg.kind === "relay" && neg.peer, -2);
});

Deno.test("notes §3, §4: AUTH data and confirmation, RAW", () => {
  assertEquals(toHex(authPacket(text("pw"))), "07 00 70 77");
  assertEquals(toHex(authConfirmPacket()), "07 00");
  assertEquals(parsePacket(hex("07 00")), { kind: "auth_confirm" });
  assertEquals(parsePacket(hex("07 00 70 77")), { kind: "auth", data: text("pw") });
  assertEquals(toHex(rawPacket(text("abc"))), "03 61 62 63");
  assertEquals(parsePacket(hex("03 61 62 63")), { kind: "raw", data: text("abc") });
});

Deno.test("notes §5.4: SIMPLIFY_PATH and CONFIRM_PATH both ways", () => {
  const md5 = "d41d8cd98f00b204e9800998ecf8427e";
  const p = simplifyPathPacket(md5, 1, "Main");
  assertEquals(p.length, 1 + 33 + 4 + 5);
  assertEquals(toHex(p.subarray(0, 1)), "01");
  assertEquals(cstring(p, 1), md5); // 32 ASCII chars then NUL
  assertEquals(p[33], 0);
  assertEquals(toHex(p.subarray(34)), "01 00 00 00 4d 61 69 6e 00");
  assertEquals(parsePacket(p), { kind: "simplify_path", md5, cacheId: 1, path: "Main" });
  assertEquals(toHex(confirmPathPacket(true, 3)), "02 01 03 00 00 00");
  assertEquals(parsePacket(hex("02 00 03 00 00 00")), {
    kind: "confirm_path",
    valid: false,
    cacheId: 3,
  });
  // test_marshalls.h "C string encoding": "Godot" is 47 6f 64 6f 74 00.
  assertEquals(cstring(hex("47 6f 64 6f 74 00 ff"), 0), "Godot");
});

Deno.test("notes §5: the full-path RPC example and the cached-id example, both ways", () => {
  const node = rpcNode("Main", { greet: {}, hello: {} });
  assertEquals(node.byName.get("hello")!.id, 1);
  const args = encodeRpcArgs([42, "hi"]);
  const full = rpcPacket({ form: "path", path: "Main" }, 1, args.byteOnly, args.bytes);
  const golden =
    "20 | 15 00 00 80 | 01 | 02 | 02 2A | 04 00 00 00 02 00 00 00 68 69 00 00 | 4D 61 69 6E 00";
  assertEquals(toHex(full), toHex(hex(golden)));
  const parsed = parsePacket(hex(golden)) as RpcPacket;
  assertEquals([parsed.kind, parsed.path, parsed.methodId, parsed.byteOnly], [
    "rpc",
    "Main",
    1,
    false,
  ]);
  assertEquals(decodeRpcArgs(parsed), [42, "hi"]);

  const none = encodeRpcArgs([]);
  assertEquals(
    toHex(rpcPacket({ form: "compact", cacheId: 3 }, 0, none.byteOnly, none.bytes)),
    "80 03 00",
  );
  const cached = parsePacket(hex("80 03 00")) as RpcPacket;
  assertEquals([cached.cacheId, cached.methodId, cached.byteOnly, cached.path], [
    3,
    0,
    true,
    undefined,
  ]);
  assertEquals(decodeRpcArgs(cached), []);
});

Deno.test("RPC meta byte: node id 8/16/32 bits, method id 8/16 bits, byte-only arguments", () => {
  const one = encodeRpcArgs([new Uint8Array([9, 8])]);
  assertEquals(one.byteOnly, true);
  assertEquals(
    toHex(rpcPacket({ form: "compact", cacheId: 300 }, 2, one.byteOnly, one.bytes)),
    "90 2c 01 02 09 08",
  );
  assertEquals(decodeRpcArgs(parsePacket(hex("90 2c 01 02 09 08")) as RpcPacket), [
    new Uint8Array([9, 8]),
  ]);
  const a = encodeRpcArgs([true, float(1)]);
  assertEquals(
    toHex(rpcPacket({ form: "compact", cacheId: 70000 }, 256, a.byteOnly, a.bytes)),
    "60 70 11 01 00 00 01 02 81 03 00 00 00 00 00 80 3f",
  );
  assertEquals(
    toHex(rpcPacket({ form: "id32", cacheId: 5 }, 0, a.byteOnly, a.bytes)),
    "20 05 00 00 00 00 02 81 03 00 00 00 00 00 80 3f",
  );
  const p = parsePacket(hex("60 70 11 01 00 00 01 02 81 03 00 00 00 00 00 80 3f")) as RpcPacket;
  assertEquals([p.cacheId, p.methodId], [70000, 256]);
  assertEquals(decodeRpcArgs(p), [true, float(1)]);
  // Two PackedByteArrays are not "byte only": they get an argc and full headers.
  const two = encodeRpcArgs([new Uint8Array([1]), new Vector2(0, 0)]);
  assertEquals(two.byteOnly, false);
  assertEquals(toHex(two.bytes.subarray(0, 1)), "02");
});

Deno.test("RPC ids: names sorted by code point, as GDScript numbers @rpc methods", () => {
  const node = rpcNode("Main", {
    spawn_bullet: {},
    chat: {},
    _hit: {},
    Zed: {},
    "\u{1F600}x": {},
    "\uFFFFy": {},
  });
  assertEquals(node.methods.map((m) => m.name), [
    "Zed",
    "_hit",
    "chat",
    "spawn_bullet",
    "\uFFFFy",
    "\u{1F600}x",
  ]);
  assertEquals(rpcNode("A", {}).md5, "d41d8cd98f00b204e9800998ecf8427e");
});

Deno.test("malformed packets of every shape get a named reason", () => {
  const cases: [string, string][] = [
    ["", "empty"],
    ["07", "sys_too_short"],
    ["07 04 00 00 00 00", "sys_unknown_command"],
    ["07 ff", "sys_unknown_command"],
    ["07 01 01 00 00", "sys_too_short"],
    ["07 02", "sys_too_short"],
    ["07 03 02 00 00 00", "relay_empty"],
    ["03", "raw_empty"],
    ["01 00 00", "simplify_path_too_short"],
    ["01" + " 61".repeat(32) + " 00 01 00 00 00 ff fe 00", "simplify_path_bad_utf8"],
    ["02 01 03 00 00", "confirm_path_bad_size"],
    ["02 01 03 00 00 00 00", "confirm_path_bad_size"],
    ["00", "rpc_too_short"],
    ["00 01", "rpc_too_short"],
    ["60 01 00", "rpc_too_short"],
    ["30 01 00", "rpc_bad_node_compression"],
    ["20 ff 00 00 80 00", "rpc_path_offset_out_of_range"],
    ["20 02 00 00 80 00 4d 00", "rpc_path_offset_out_of_range"],
    ["20 06 00 00 80 00 00", "rpc_bad_path"],
    ["20 07 00 00 80 00 00 ff 00", "rpc_bad_path"],
    ["04 00 00", "spawn_too_short"],
    ["05 01 00 00", "despawn_too_short"],
    ["06 00 00 01 00 00 00", "sync_too_short"],
    ["16 00 00", "sync_too_short"],
  ];
  for (const [bytes, reason] of cases) {
    const p = parsePacket(hex(bytes));
    assertEquals<unknown>(
      p.kind === "malformed" && p.reason,
      reason,
      `${bytes}: ${JSON.stringify(p)}`,
    );
  }
  // Arguments: truncated, absurd, unsupported, missing argc.
  const args: [string, string][] = [
    ["00 01 00", "rpc_too_short"], // no argc byte
    ["00 01 00 02 02 2a", "rpc_args_truncated"], // argc 2, one argument
    ["00 01 00 01 42 01", "rpc_args_truncated"], // INT16 with one byte
    ["00 01 00 01 04 00 00 00 ff ff ff 7f", "rpc_args_truncated"], // absurd string length
    ["00 01 00 01 1c 00 00 00 ff ff ff 7f", "rpc_args_invalid"], // absurd array count
    ["00 01 00 01 3f", "rpc_args_invalid"], // type 63
    ["00 01 00 01 07 00 00 00", "rpc_args_unsupported"], // RECT2
    ["00 01 00 01 18 00 00 00", "rpc_args_unsupported"], // OBJECT
  ];
  for (const [bytes, reason] of args) {
    const p = parsePacket(hex(bytes));
    const d = p.kind === "rpc" ? decodeRpcArgs(p) : p;
    assertEquals<unknown>(
      (d as { reason?: string }).reason,
      reason,
      `${bytes}: ${JSON.stringify(d)}`,
    );
  }
});

Deno.test("replication packets parse as raw SPAWN/DESPAWN/SYNC/DELTA", () => {
  assertEquals(parsePacket(hex("05 01 00 00 00")), {
    kind: "replication",
    command: "despawn",
    data: hex("05 01 00 00 00"),
  });
  const sync = parsePacket(hex("06 01 00 01 00 00 80 00 00 00 00"));
  assertEquals(sync.kind === "replication" && sync.command, "sync");
  const delta = parsePacket(hex("16 01 00 01 00 00 80 00 00 00 00"));
  assertEquals(delta.kind === "replication" && delta.command, "delta");
  const spawn = parsePacket(new Uint8Array(18).fill(0).map((_, i) => (i === 0 ? 4 : 0)));
  assertEquals(spawn.kind === "replication" && spawn.command, "spawn");
});
