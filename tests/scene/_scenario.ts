/**
 * One SceneMultiplayer scenario, run over any way of connecting `WebRTCMultiplayerPeer`s (pairs in
 * one process, or the Godot 4 signaling lobby): a server with authentication and three clients
 * that see each other through relay; `sendBytes` broadcast, unicast, relayed and all-but-one;
 * RPCs both ways and client to client with every supported type; authority refused; callLocal;
 * an intruder failing authentication dropped at the timeout; a client leaving; the server leaving.
 *
 * @module
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
import { until } from "../_mesh.ts";

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

/** One value of every supported type (Godot's float precision where it applies). */
export const EVERY_TYPE: Variant[] = [
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

/** A SceneMultiplayer and what it saw. */
export interface Side {
  readonly peer: WebRTCMultiplayerPeer;
  readonly mp: SceneMultiplayer;
  readonly signals: string[];
  readonly packets: string[];
  readonly calls: string[];
  readonly rejected: string[];
  readonly echoes: { from: number; args: readonly Variant[] }[];
}

/**
 * A SceneMultiplayer on `peer` with the scenario's RPC node "World" and password authentication:
 * the server answers "open sesame" with "welcome" and completes; a client completes on "welcome".
 * A client sends `password` as soon as it authenticates the server.
 */
export function attach(
  peer: WebRTCMultiplayerPeer,
  opts: { password?: string; authTimeout?: number } = {},
): Side {
  const signals: string[] = [];
  const side: Side = {
    peer,
    mp: undefined!,
    signals,
    packets: [],
    calls: [],
    rejected: [],
    echoes: [],
  };
  const mp = new SceneMultiplayer(peer, {
    authTimeout: opts.authTimeout ?? 3000,
    log: () => {},
    authCallback: (id, data) => {
      if (mp.getUniqueId() === 1) {
        // A wrong password gets no answer: the peer times out.
        if (str(data) === "open sesame") {
          mp.sendAuth(id, text("welcome"));
          mp.completeAuth(id);
        }
      } else if (str(data) === "welcome") mp.completeAuth(1);
    },
  });
  (side as { mp: SceneMultiplayer }).mp = mp;
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
      signals.push(d === undefined ? name : `${name}(${d})`);
    });
  }
  mp.addEventListener("peer_authenticating", (e) => {
    if (e.detail === 1 && opts.password) mp.sendAuth(1, text(opts.password));
  });
  mp.addEventListener(
    "peer_packet",
    (e) => side.packets.push(`${e.detail.from}:${str(e.detail.data)}`),
  );
  mp.addEventListener(
    "packet_rejected",
    (e) => side.rejected.push(`${e.detail.from}:${e.detail.reason}`),
  );
  mp.registerRpc("World", {
    // ANY_PEER: anyone may call it; it sends the arguments back to the caller.
    echo: {
      mode: RpcMode.ANY_PEER,
      handler: (args, from) => {
        side.calls.push(`echo from ${from}`);
        mp.rpcId(from, "World", "echoed", args);
      },
    },
    echoed: {
      mode: RpcMode.ANY_PEER,
      handler: (args, from) => side.echoes.push({ from, args }),
    },
    // AUTHORITY (the default; authority 1): only the server may call it.
    announce: { handler: (args, from) => side.calls.push(`announce ${args[0]} from ${from}`) },
    shout: {
      mode: RpcMode.ANY_PEER,
      transferMode: TransferMode.UNRELIABLE_ORDERED,
      callLocal: true,
      handler: (args, from) => side.calls.push(`shout ${args[0]} from ${from}`),
    },
  });
  return side;
}

/**
 * Runs the scenario once every side is attached and connecting. `drop(side)` makes a client leave
 * (closes its peer, and its signaling if any).
 */
export async function exercise(
  server: Side,
  clients: readonly Side[],
  intruder: Side,
  drop: (side: Side) => Promise<void> | void,
): Promise<void> {
  await until(
    () => clients.every((c) => c.mp.getPeers().length === clients.length),
    20000,
    "clients admitted and seeing each other",
  );
  const [a, b, c] = clients;
  const [ia, ib, ic] = clients.map((s) => s.mp.getUniqueId());
  const ids = [ia, ib, ic];
  assertEquals(server.mp.getPeers().sort(), [...ids].sort());
  for (const s of clients) {
    const me = s.mp.getUniqueId();
    assertEquals(s.mp.getPeers().sort(), [1, ...ids].filter((p) => p !== me).sort());
    assertEquals(s.signals.slice(0, 3), [
      "peer_authenticating(1)",
      "connected_to_server",
      "peer_connected(1)",
    ]);
    // Transport-wise a client holds only the server: the others are relayed.
    assertEquals([...s.peer.getPeers().keys()], [1]);
  }

  // The intruder is never admitted; the server drops it at its timeout.
  const iid = intruder.peer.getUniqueId();
  await until(
    () => server.signals.includes(`peer_authentication_failed(${iid})`),
    10000,
    "intruder timed out",
  );
  assert(!server.mp.getPeers().includes(iid));
  await until(
    () => intruder.signals.some((s) => s === "server_disconnected" || s === "connection_failed"),
    20000,
    "intruder sees the server go",
  );
  assert(!intruder.signals.includes("connected_to_server"));
  assertEquals(intruder.mp.getPeers(), []);

  // sendBytes: server broadcast and unicast, client -> client (relayed), client broadcast,
  // client to all but one.
  server.mp.sendBytes(text("all"));
  server.mp.sendBytes(text("justB"), ib);
  a.mp.sendBytes(text("AtoC"), ic, TransferMode.UNRELIABLE_ORDERED);
  b.mp.sendBytes(text("Btoall"));
  c.mp.sendBytes(text("CnotA"), -ia);
  await until(
    () =>
      c.packets.length >= 3 && b.packets.length >= 3 && a.packets.length >= 2 &&
      server.packets.length >= 2,
    10000,
    "bytes delivered",
  );
  await new Promise((r) => setTimeout(r, 100)); // nothing more arrives
  assertEquals(server.packets.sort(), [`${ib}:Btoall`, `${ic}:CnotA`].sort());
  assertEquals(a.packets.sort(), ["1:all", `${ib}:Btoall`].sort());
  assertEquals(b.packets.sort(), ["1:all", "1:justB", `${ic}:CnotA`].sort());
  assertEquals(c.packets.sort(), ["1:all", `${ia}:AtoC`, `${ib}:Btoall`].sort());

  // RPCs with every supported type: client -> server -> back, client -> client (relayed) -> back,
  // server -> client -> back with one PackedByteArray (the byte-only form).
  assertEquals(a.mp.rpcId(1, "World", "echo", EVERY_TYPE), 0);
  assertEquals(b.mp.rpcId(ic, "World", "echo", EVERY_TYPE), 0);
  assertEquals(server.mp.rpcId(ic, "World", "echo", [new Uint8Array([9, 9])]), 0);
  await until(
    () => a.echoes.length + b.echoes.length + server.echoes.length === 3,
    10000,
    "echoes",
  );
  assertEquals(a.echoes, [{ from: 1, args: EVERY_TYPE }]);
  assertEquals(b.echoes, [{ from: ic, args: EVERY_TYPE }]);
  assertEquals(server.echoes, [{ from: ic, args: [new Uint8Array([9, 9])] }]);

  // Authority: the server may announce; a client may not (refused where it lands). callLocal.
  server.mp.rpc("World", "announce", ["hi"]);
  a.mp.rpcId(ib, "World", "announce", ["fake"]);
  a.mp.rpc("World", "shout", ["yo"]);
  await until(
    () => clients.every((s) => s.calls.includes("announce hi from 1")),
    5000,
    "announce",
  );
  await until(() => b.rejected.includes(`${ia}:rpc_not_allowed`), 5000, "fake refused");
  await until(
    () => [server, b, c].every((s) => s.calls.includes(`shout yo from ${ia}`)),
    5000,
    "shout",
  );
  assert(a.calls.includes(`shout yo from ${ia}`), "callLocal ran locally");
  assert(!b.calls.some((s) => s.startsWith("announce fake")));
  for (const s of [server, ...clients]) assertEquals(s.mp.stats().sendFailures, 0);

  // A client leaving: the others hear DEL_PEER from the server.
  await drop(c);
  await until(
    () => [a, b].every((s) => s.signals.includes(`peer_disconnected(${ic})`)),
    20000,
    "C gone",
  );
  assert(server.signals.includes(`peer_disconnected(${ic})`));

  // The server leaving: the clients get server_disconnected and forget everyone.
  server.mp.close();
  await until(
    () => [a, b].every((s) => s.signals.includes("server_disconnected")),
    20000,
    "server gone",
  );
  for (const s of [a, b]) assertEquals(s.mp.getPeers(), []);
}
