/**
 * `SceneMultiplayer` over `WebRTCMultiplayerPeer` on real node-datachannel connections in one
 * process: a server with authentication and three clients that see each other through relay;
 * `sendBytes` broadcast, unicast and relayed; RPCs both ways with every supported type; a client
 * that fails authentication dropped at the timeout; the server leaving.
 */
import { assert, assertEquals } from "@std/assert";
import { TransferMode } from "../../core/constants.ts";
import type { WebRTCMultiplayerPeer } from "../../effects/multiplayer_peer.ts";
import { SceneMultiplayer } from "../../scene/multiplayer.ts";
import { RpcMode } from "../../scene/rpc.ts";
import {
  Color,
  float,
  StringName,
  TypedArray,
  type Variant,
  VariantType,
  Vector2,
  Vector2i,
  Vector3,
  Vector3i,
} from "../../scene/variant.ts";
import { closeAll, cluster4, link, until } from "../_mesh.ts";

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

/** One value of every supported type (Godot's float precision where it applies). */
const EVERY_TYPE: Variant[] = [
  null,
  true,
  false,
  7,
  -300,
  2 ** 40,
  -(2n ** 62n),
  float(2),
  0.1,
  "héllo",
  new StringName("name"),
  new Vector2(1.5, -2),
  new Vector2i(3, -4),
  new Vector3(0.5, 1, 2),
  new Vector3i(1, 2, 3),
  new Color(1, 0.5, 0.25, 1),
  [1, "a", [true, null]],
  new TypedArray(VariantType.INT, [1, 2]),
  new Map<Variant, Variant>([["k", 1], [2, [3]]]),
  new Uint8Array([1, 2, 3]),
  new Int32Array([-1, 5]),
  new BigInt64Array([9n]),
  new Float32Array([0.5]),
  new Float64Array([0.1]),
];

interface Side {
  mp: SceneMultiplayer;
  signals: string[];
  packets: string[];
  calls: string[];
  rejected: string[];
}

function attach(peer: WebRTCMultiplayerPeer, auth: boolean, authTimeout = 3000): Side {
  const side: Side = { mp: undefined!, signals: [], packets: [], calls: [], rejected: [] };
  const mp = new SceneMultiplayer(peer, {
    authTimeout,
    log: () => {},
    authCallback: auth ? (id, data) => onAuth(side, id, data) : undefined,
  });
  side.mp = mp;
  for (
    const name of [
      "peer_connected",
      "peer_disconnected",
      "connected_to_server",
      "connection_failed",
      "server_disconnected",
      "peer_authenticating",
      "peer_authentication_failed",
    ] as const
  ) {
    mp.addEventListener(name, (e) => {
      const d = (e as CustomEvent).detail;
      side.signals.push(d === undefined ? name : `${name}(${d})`);
    });
  }
  mp.addEventListener(
    "peer_packet",
    (e) => side.packets.push(`${e.detail.from}:${str(e.detail.data)}`),
  );
  mp.addEventListener(
    "packet_rejected",
    (e) => side.rejected.push(`${e.detail.from}:${e.detail.reason}`),
  );
  const methods = {
    // ANY_PEER: everyone may call it; echo back the arguments to the caller.
    echo: {
      mode: RpcMode.ANY_PEER,
      handler: (args: readonly Variant[], from: number) => {
        side.calls.push(`echo from ${from}`);
        mp.rpcId(from, "World", "echoed", args);
      },
    },
    echoed: {
      mode: RpcMode.ANY_PEER,
      handler: (args: readonly Variant[], from: number) => {
        side.calls.push(`echoed from ${from}`);
        echoes.push({ to: mp.getUniqueId(), from, args });
      },
    },
    // AUTHORITY (default): only the server may call it.
    announce: {
      handler: (args: readonly Variant[], from: number) =>
        side.calls.push(`announce ${args[0]} from ${from}`),
    },
    shout: {
      mode: RpcMode.ANY_PEER,
      transferMode: TransferMode.UNRELIABLE_ORDERED,
      callLocal: true,
      handler: (args: readonly Variant[], from: number) =>
        side.calls.push(`shout ${args[0]} from ${from}`),
    },
  };
  mp.registerRpc("World", methods);
  return side;
}

const echoes: { to: number; from: number; args: readonly Variant[] }[] = [];

/** Server and clients agree: a client sends its password; the server checks it and answers. */
function onAuth(side: Side, id: number, data: Uint8Array): void {
  const mp = side.mp;
  if (mp.getUniqueId() === 1) {
    if (str(data) === "open sesame") {
      mp.sendAuth(id, text("welcome"));
      mp.completeAuth(id);
    }
    // A wrong password: no answer, the peer times out.
  } else if (str(data) === "welcome") {
    mp.completeAuth(1);
  }
}

Deno.test("SceneMultiplayer end to end in one process: auth, relay, bytes, RPCs, timeout, server leaving", async () => {
  const c = cluster4([
    [1, (p) => p.createServer()],
    [2, (p) => p.createClient(2)],
    [3, (p) => p.createClient(3)],
    [4, (p) => p.createClient(4)],
    [5, (p) => p.createClient(5)],
  ]);
  const server = attach(c.meshes.get(1)!, true, 1500);
  const clients = new Map([2, 3, 4].map((id) => [id, attach(c.meshes.get(id)!, true)]));
  const intruder = attach(c.meshes.get(5)!, true);
  // Clients start their authentication when the server is authenticating them.
  for (const [id, side] of [...clients, [5, intruder] as const]) {
    side.mp.addEventListener("peer_authenticating", (e) => {
      if (e.detail === 1) side.mp.sendAuth(1, text(id === 5 ? "let me in" : "open sesame"));
    });
  }
  try {
    await Promise.all([2, 3, 4, 5].map((id) => link(c, 1, id)));
    const cl = (id: number) => clients.get(id)!;
    await until(
      () => [2, 3, 4].every((id) => cl(id).mp.getPeers().length === 3),
      15000,
      "clients see each other",
    );
    assertEquals(server.mp.getPeers().sort(), [2, 3, 4]);
    for (const id of [2, 3, 4]) {
      assertEquals(cl(id).mp.getPeers().sort(), [1, 2, 3, 4].filter((p) => p !== id));
      assertEquals(cl(id).signals.slice(0, 3), [
        "peer_authenticating(1)",
        "connected_to_server",
        "peer_connected(1)",
      ]);
    }
    assertEquals(server.signals.filter((s) => s.startsWith("peer_connected")).sort(), [
      "peer_connected(2)",
      "peer_connected(3)",
      "peer_connected(4)",
    ]);

    // The intruder is never admitted: dropped at the server's 1.5 s timeout.
    await until(
      () => server.signals.includes("peer_authentication_failed(5)"),
      5000,
      "intruder timed out",
    );
    assert(!server.mp.getPeers().includes(5));
    await until(
      () =>
        intruder.signals.includes("connection_failed") ||
        intruder.signals.includes("server_disconnected"),
      15000,
      "intruder sees the server go",
    );
    assert(!intruder.signals.includes("connected_to_server"));
    assertEquals(intruder.mp.getPeers(), []);

    // sendBytes: server broadcast, server unicast, client -> client (relayed), client broadcast.
    server.mp.sendBytes(text("all"));
    server.mp.sendBytes(text("just3"), 3);
    cl(2).mp.sendBytes(text("2to4"), 4, TransferMode.UNRELIABLE_ORDERED);
    cl(3).mp.sendBytes(text("3toall"));
    cl(4).mp.sendBytes(text("4notto2"), -2);
    await until(
      () =>
        cl(4).packets.length >= 3 && cl(3).packets.length >= 2 && cl(2).packets.length >= 2 &&
        server.packets.length >= 2,
      10000,
      "bytes delivered",
    );
    assertEquals(server.packets.sort(), ["3:3toall", "4:4notto2"]);
    assertEquals(cl(2).packets.sort(), ["1:all", "3:3toall"]);
    assertEquals(cl(3).packets.sort(), ["1:all", "1:just3", "4:4notto2"]);
    assertEquals(cl(4).packets.sort(), ["1:all", "2:2to4", "3:3toall"]);

    // RPCs with every supported type: client -> server -> client, client -> client (relayed).
    echoes.length = 0;
    assertEquals(cl(2).mp.rpcId(1, "World", "echo", EVERY_TYPE), 0);
    assertEquals(cl(3).mp.rpcId(4, "World", "echo", EVERY_TYPE), 0);
    assertEquals(server.mp.rpcId(4, "World", "echo", [new Uint8Array([9, 9])]), 0);
    await until(() => echoes.length === 3, 10000, "echoes");
    for (const e of echoes) {
      if (e.to === 1) assertEquals(e.args, [new Uint8Array([9, 9])]);
      else assertEquals(e.args, EVERY_TYPE, `echo to ${e.to}`);
    }
    assertEquals(echoes.map((e) => `${e.from}->${e.to}`).sort(), ["1->2", "4->1", "4->3"]);

    // Authority: the server may announce; a client may not (refused where it lands).
    server.mp.rpc("World", "announce", ["hi"]);
    cl(2).mp.rpcId(3, "World", "announce", ["fake"]);
    cl(2).mp.rpc("World", "shout", ["yo"]);
    await until(
      () => [3, 4].every((id) => cl(id).calls.includes("announce hi from 1")),
      5000,
      "announce",
    );
    await until(() => cl(3).rejected.includes("2:rpc_not_allowed"), 5000, "fake announce refused");
    await until(
      () => [1, 3, 4].every((id) => (id === 1 ? server : cl(id)).calls.includes("shout yo from 2")),
      5000,
      "shout",
    );
    assert(cl(2).calls.includes("shout yo from 2"), "callLocal ran locally");
    assert(!cl(3).calls.includes("announce fake from 2"));
    // By now paths are confirmed: the compact form carries later calls.
    assert(server.mp.stats().rejected.rpc_checksum_mismatch === undefined);

    // A client leaving: the others hear DEL_PEER.
    c.meshes.get(4)!.close();
    await until(
      () => [2, 3].every((id) => cl(id).signals.includes("peer_disconnected(4)")),
      15000,
      "4 gone",
    );
    assert(server.signals.includes("peer_disconnected(4)"));

    // The server leaving: clients get server_disconnected and forget everyone.
    server.mp.close();
    await until(
      () => [2, 3].every((id) => cl(id).signals.includes("server_disconnected")),
      15000,
      "server gone",
    );
    for (const id of [2, 3]) assertEquals(cl(id).mp.getPeers(), []);
  } finally {
    for (const s of [server, intruder, ...clients.values()]) s.mp.close();
    await closeAll(c);
  }
});
