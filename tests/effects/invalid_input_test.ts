/**
 * Every invalid call through the public classes (Godot 3's `WebRTCMultiplayer`, Godot 4's
 * `WebRTCMultiplayerPeer`) returns its Godot error and a readable reason, and leaves the peer
 * exactly as it was.
 */
import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import { createPeerConnection } from "../_stack.ts";
import { GodotError, TransferMode } from "../../core/constants.ts";
import { WebRTCMultiplayer } from "../../effects/multiplayer.ts";
import { WebRTCMultiplayerPeer } from "../../effects/multiplayer_peer.ts";
import { type AnyMesh, closeAll, cluster, fullMesh } from "../_mesh.ts";
import { FakeConnection } from "./_fake.ts";

type Call<M = WebRTCMultiplayer> = (mesh: M) => GodotError | void;
/** [description, call, expected error, a fragment of the reason, setup before the call]. */
type Case<M> = [string, Call<M>, GodotError, string, Call<M>?];

const fake = () => new FakeConnection();
// deno-lint-ignore no-explicit-any
const any = (v: unknown) => v as any;

const cases: Array<Case<WebRTCMultiplayer>> = [
  ["initialize(0)", (m) => m.initialize(0), GodotError.ERR_INVALID_PARAMETER, "got 0"],
  ["initialize(-1)", (m) => m.initialize(-1), GodotError.ERR_INVALID_PARAMETER, "got -1"],
  [
    "initialize(2^31)",
    (m) => m.initialize(2 ** 31),
    GodotError.ERR_INVALID_PARAMETER,
    "2147483648",
  ],
  ["initialize(1.5)", (m) => m.initialize(1.5), GodotError.ERR_INVALID_PARAMETER, "1.5"],
  ["initialize(NaN)", (m) => m.initialize(NaN), GodotError.ERR_INVALID_PARAMETER, "NaN"],
  [
    "initialize(Infinity)",
    (m) => m.initialize(Infinity),
    GodotError.ERR_INVALID_PARAMETER,
    "Infinity",
  ],
  ["initialize('3')", (m) => m.initialize(any("3")), GodotError.ERR_INVALID_PARAMETER, '"3"'],
  ["initialize(3n)", (m) => m.initialize(any(3n)), GodotError.ERR_INVALID_PARAMETER, "3n"],
  ["initialize(null)", (m) => m.initialize(any(null)), GodotError.ERR_INVALID_PARAMETER, "null"],
  [
    "initialize(3, 'yes')",
    (m) => m.initialize(3, any("yes")),
    GodotError.ERR_INVALID_PARAMETER,
    "boolean",
  ],
  ["initialize twice", (m) => m.initialize(7), GodotError.ERR_ALREADY_IN_USE, "close() first"],
  ["addPeer(pc, 0)", (m) => m.addPeer(fake(), 0), GodotError.ERR_INVALID_PARAMETER, "got 0"],
  ["addPeer(pc, -3)", (m) => m.addPeer(fake(), -3), GodotError.ERR_INVALID_PARAMETER, "-3"],
  [
    "addPeer(pc, 2^31)",
    (m) => m.addPeer(fake(), 2 ** 31),
    GodotError.ERR_INVALID_PARAMETER,
    "2147483648",
  ],
  ["addPeer(pc, 2.5)", (m) => m.addPeer(fake(), 2.5), GodotError.ERR_INVALID_PARAMETER, "2.5"],
  ["addPeer(pc, NaN)", (m) => m.addPeer(fake(), NaN), GodotError.ERR_INVALID_PARAMETER, "NaN"],
  ["addPeer(pc, '4')", (m) => m.addPeer(fake(), any("4")), GodotError.ERR_INVALID_PARAMETER, '"4"'],
  [
    "addPeer(pc, 4, -1)",
    (m) => m.addPeer(fake(), 4, -1),
    GodotError.ERR_INVALID_PARAMETER,
    "unreliableLifetime",
  ],
  [
    "addPeer(pc, 4, 0.5)",
    (m) => m.addPeer(fake(), 4, 0.5),
    GodotError.ERR_INVALID_PARAMETER,
    "0.5",
  ],
  [
    "addPeer(pc, 4, NaN)",
    (m) => m.addPeer(fake(), 4, NaN),
    GodotError.ERR_INVALID_PARAMETER,
    "NaN",
  ],
  [
    "addPeer(pc, 4, 70000)",
    (m) => m.addPeer(fake(), 4, 70000),
    GodotError.ERR_INVALID_PARAMETER,
    "65535",
  ],
  [
    "addPeer(pc, 4, '1')",
    (m) => m.addPeer(fake(), 4, any("1")),
    GodotError.ERR_INVALID_PARAMETER,
    '"1"',
  ],
  ["addPeer(null, 4)", (m) => m.addPeer(any(null), 4), GodotError.ERR_INVALID_PARAMETER, "null"],
  [
    "addPeer(undefined, 4)",
    (m) => m.addPeer(any(undefined), 4),
    GodotError.ERR_INVALID_PARAMETER,
    "undefined",
  ],
  [
    "addPeer({}, 4)",
    (m) => m.addPeer(any({}), 4),
    GodotError.ERR_INVALID_PARAMETER,
    "RTCPeerConnection",
  ],
  ["addPeer('pc', 4)", (m) => m.addPeer(any("pc"), 4), GodotError.ERR_INVALID_PARAMETER, '"pc"'],
  ["addPeer(42, 4)", (m) => m.addPeer(any(42), 4), GodotError.ERR_INVALID_PARAMETER, "42"],
  [
    "addPeer(look-alike without createDataChannel, 4)",
    (m) => m.addPeer(any({ connectionState: "new", close() {}, addEventListener() {} }), 4),
    GodotError.ERR_INVALID_PARAMETER,
    "createDataChannel",
  ],
  [
    "addPeer(object whose connectionState getter throws, 4)",
    (m) =>
      m.addPeer(
        any({
          get connectionState(): string {
            throw new Error("disposed");
          },
          createDataChannel() {},
          close() {},
          addEventListener() {},
          removeEventListener() {},
        }),
        4,
      ),
    GodotError.ERR_INVALID_PARAMETER,
    "RTCPeerConnection",
  ],
  [
    "addPeer(connecting connection, 4)",
    (m) => {
      const c = fake();
      c.connectionState = "connecting";
      return m.addPeer(c, 4);
    },
    GodotError.ERR_INVALID_PARAMETER,
    '"connecting"',
  ],
  [
    "addPeer(closed connection, 4)",
    (m) => {
      const c = fake();
      c.close();
      return m.addPeer(c, 4);
    },
    GodotError.ERR_INVALID_PARAMETER,
    '"closed"',
  ],
  [
    "addPeer(pc, 2) duplicate",
    (m) => m.addPeer(fake(), 2),
    GodotError.ERR_ALREADY_EXISTS,
    "already in the mesh",
  ],
  [
    "addPeer(pc, own id 1)",
    (m) => m.addPeer(fake(), 1),
    GodotError.ERR_INVALID_PARAMETER,
    "own id",
  ],
  [
    "addPeer while refusing",
    (m) => m.addPeer(fake(), 4),
    GodotError.ERR_UNAUTHORIZED,
    "refuseNewConnections",
    (m) => void (m.refuseNewConnections = true),
  ],
  [
    "removePeer(9) unknown",
    (m) => m.removePeer(9),
    GodotError.ERR_DOES_NOT_EXIST,
    "not in the mesh",
  ],
  ["removePeer(NaN)", (m) => m.removePeer(NaN), GodotError.ERR_DOES_NOT_EXIST, "NaN"],
  ["removePeer('2')", (m) => m.removePeer(any("2")), GodotError.ERR_DOES_NOT_EXIST, '"2"'],
  [
    "transferMode = 3",
    (m) => void (m.transferMode = any(3)),
    GodotError.ERR_INVALID_PARAMETER,
    "transferMode",
  ],
  [
    "transferMode = -1",
    (m) => void (m.transferMode = any(-1)),
    GodotError.ERR_INVALID_PARAMETER,
    "-1",
  ],
  [
    "transferMode = '2'",
    (m) => void (m.transferMode = any("2")),
    GodotError.ERR_INVALID_PARAMETER,
    '"2"',
  ],
  ["targetPeer = 1.5", (m) => void (m.targetPeer = 1.5), GodotError.ERR_INVALID_PARAMETER, "1.5"],
  ["targetPeer = NaN", (m) => void (m.targetPeer = NaN), GodotError.ERR_INVALID_PARAMETER, "NaN"],
  [
    "targetPeer = 2^31",
    (m) => void (m.targetPeer = 2 ** 31),
    GodotError.ERR_INVALID_PARAMETER,
    "2147483648",
  ],
  [
    "targetPeer = -(2^31)",
    (m) => void (m.targetPeer = -(2 ** 31)),
    GodotError.ERR_INVALID_PARAMETER,
    "-2147483648",
  ],
  [
    "refuseNewConnections = 1",
    (m) => void (m.refuseNewConnections = any(1)),
    GodotError.ERR_INVALID_PARAMETER,
    "boolean",
  ],
  [
    "putPacket('text')",
    (m) => m.putPacket(any("text")),
    GodotError.ERR_INVALID_PARAMETER,
    "Uint8Array",
  ],
  ["putPacket([1,2])", (m) => m.putPacket(any([1, 2])), GodotError.ERR_INVALID_PARAMETER, "Array"],
  [
    "putPacket to unknown target",
    (m) => m.putPacket(new Uint8Array(1)),
    GodotError.ERR_INVALID_PARAMETER,
    "12",
    (m) => void (m.targetPeer = 12),
  ],
  [
    "putPacket to a peer whose channels are not open yet",
    (m) => m.putPacket(new Uint8Array(1)),
    GodotError.ERR_UNAVAILABLE,
    "not open",
    (m) => void (m.targetPeer = 2),
  ],
];

/** Godot 4: a server with one extra channel (UNRELIABLE) and a pending client 2, then the call. */
const godot4Cases: Array<Case<WebRTCMultiplayerPeer>> = [
  ["createMesh(0)", (m) => m.createMesh(0), GodotError.ERR_INVALID_PARAMETER, "got 0"],
  ["createMesh(2.5)", (m) => m.createMesh(2.5), GodotError.ERR_INVALID_PARAMETER, "2.5"],
  ["createMesh('3')", (m) => m.createMesh(any("3")), GodotError.ERR_INVALID_PARAMETER, '"3"'],
  [
    "createClient(1)",
    (m) => m.createClient(1),
    GodotError.ERR_INVALID_PARAMETER,
    "Clients cannot have ID 1.",
  ],
  ["createClient(-4)", (m) => m.createClient(-4), GodotError.ERR_INVALID_PARAMETER, "-4"],
  [
    "createMesh(2, [3])",
    (m) => m.createMesh(2, any([3])),
    GodotError.ERR_INVALID_PARAMETER,
    "channelsConfig[0] is 3",
  ],
  [
    "createMesh(2, null)",
    (m) => m.createMesh(2, any(null)),
    GodotError.ERR_INVALID_PARAMETER,
    "array",
  ],
  [
    "createServer([2, '0'])",
    (m) => m.createServer(any([2, "0"])),
    GodotError.ERR_INVALID_PARAMETER,
    'channelsConfig[1] is "0"',
  ],
  [
    "createServer(256 channels)",
    (m) => m.createServer(Array(256).fill(2)),
    GodotError.ERR_INVALID_PARAMETER,
    "at most 255",
  ],
  ["createServer() twice", (m) => m.createServer(), GodotError.ERR_ALREADY_IN_USE, "close()"],
  ["createMesh(5) when a server", (m) => m.createMesh(5), GodotError.ERR_ALREADY_IN_USE, "server"],
  [
    "server addPeer(pc, 1)",
    (m) => m.addPeer(fake(), 1),
    GodotError.ERR_INVALID_PARAMETER,
    "peer 1",
  ],
  ["addPeer(pc, 0)", (m) => m.addPeer(fake(), 0), GodotError.ERR_INVALID_PARAMETER, "got 0"],
  ["addPeer(pc, 4, -1)", (m) => m.addPeer(fake(), 4, -1), GodotError.ERR_INVALID_PARAMETER, "-1"],
  ["addPeer(null, 4)", (m) => m.addPeer(any(null), 4), GodotError.ERR_INVALID_PARAMETER, "null"],
  [
    "addPeer(pc, 2) duplicate",
    (m) => m.addPeer(fake(), 2),
    GodotError.ERR_ALREADY_EXISTS,
    "already",
  ],
  [
    "addPeer while refusing",
    (m) => m.addPeer(fake(), 4),
    GodotError.ERR_UNAUTHORIZED,
    "refuseNewConnections",
    (m) => void (m.refuseNewConnections = true),
  ],
  [
    "client addPeer(pc, 3)",
    (m) => m.addPeer(fake(), 3),
    GodotError.ERR_INVALID_PARAMETER,
    "server only",
    (m) => {
      m.close();
      m.createClient(5);
    },
  ],
  [
    "addPeer before create*",
    (m) => m.addPeer(fake(), 3),
    GodotError.ERR_UNCONFIGURED,
    "createMesh",
    (m) => m.close(),
  ],
  [
    "putPacket before create*",
    (m) => m.putPacket(new Uint8Array(1)),
    GodotError.ERR_UNCONFIGURED,
    "createMesh",
    (m) => m.close(),
  ],
  [
    "disconnectPeer(9) unknown",
    (m) => m.disconnectPeer(9),
    GodotError.ERR_DOES_NOT_EXIST,
    "peer 9",
  ],
  ["disconnectPeer(NaN)", (m) => m.disconnectPeer(NaN), GodotError.ERR_DOES_NOT_EXIST, "NaN"],
  [
    "disconnectPeer(2, 'yes')",
    (m) => m.disconnectPeer(2, any("yes")),
    GodotError.ERR_INVALID_PARAMETER,
    "boolean",
  ],
  ["removePeer(9) unknown", (m) => m.removePeer(9), GodotError.ERR_DOES_NOT_EXIST, "peer 9"],
  [
    "transferChannel = 256",
    (m) => void (m.transferChannel = 256),
    GodotError.ERR_INVALID_PARAMETER,
    "0..255",
  ],
  [
    "transferChannel = -1",
    (m) => void (m.transferChannel = -1),
    GodotError.ERR_INVALID_PARAMETER,
    "-1",
  ],
  [
    "transferChannel = 1.5",
    (m) => void (m.transferChannel = 1.5),
    GodotError.ERR_INVALID_PARAMETER,
    "1.5",
  ],
  [
    "transferChannel = '1'",
    (m) => void (m.transferChannel = any("1")),
    GodotError.ERR_INVALID_PARAMETER,
    '"1"',
  ],
  [
    "putPacket on extra channel 2 of 1",
    (m) => m.putPacket(new Uint8Array(1)),
    GodotError.ERR_INVALID_PARAMETER,
    "no channel 2",
    (m) => void (m.transferChannel = 2),
  ],
  [
    "putPacket to unknown target",
    (m) => m.putPacket(new Uint8Array(1)),
    GodotError.ERR_INVALID_PARAMETER,
    "12",
    (m) => void (m.targetPeer = 12),
  ],
  [
    "putPacket on extra channel 1 to a peer not open yet",
    (m) => m.putPacket(new Uint8Array(1)),
    GodotError.ERR_UNAVAILABLE,
    "channel 1 is connecting",
    (m) => {
      m.targetPeer = 2;
      m.transferChannel = 1;
    },
  ],
  [
    "transferMode = 3",
    (m) => void (m.transferMode = any(3)),
    GodotError.ERR_INVALID_PARAMETER,
    "transferMode",
  ],
  ["targetPeer = NaN", (m) => void (m.targetPeer = NaN), GodotError.ERR_INVALID_PARAMETER, "NaN"],
  [
    "putPacket('text')",
    (m) => m.putPacket(any("text")),
    GodotError.ERR_INVALID_PARAMETER,
    "Uint8Array",
  ],
];

/** A comparable picture of everything observable on a peer object (without side effects). */
function picture(m: AnyMesh) {
  return {
    state: m.state,
    peers: [...m.getPeers()].map(([id, p]) => [id, p.connection, p.connected, p.channels.length]),
    status: m.getConnectionStatus(),
    refuse: m.refuseNewConnections,
    mode: m.transferMode,
    target: m.targetPeer,
    queued: m.getAvailablePacketCount(),
  };
}

/** Runs a table: each case on a fresh object made by `make`, which has a pending peer 2. */
function runTable<M extends AnyMesh>(
  cases: Array<Case<M>>,
  make: (peer2: FakeConnection) => M,
): void {
  for (const [what, call, error, reason, setup] of cases) {
    const peer2 = fake();
    const mesh = make(peer2);
    setup?.(mesh);
    const before = picture(mesh);
    const stateBefore = mesh.state;
    const closedBefore = peer2.closed;
    const result = call(mesh);
    if (result !== undefined) assertEquals(result, error, `${what}: return value`);
    assertEquals(mesh.lastError.error, error, `${what}: lastError.error`);
    assert(
      mesh.lastError.message.includes(reason),
      `${what}: reason ${JSON.stringify(mesh.lastError.message)} should mention ${reason}`,
    );
    assertEquals(picture(mesh), before, `${what}: nothing may change`);
    assertStrictEquals(mesh.state, stateBefore, `${what}: same state object`);
    assertEquals(peer2.closed, closedBefore, `${what}: existing peer untouched`);
    mesh.close();
  }
}

Deno.test(`${cases.length} invalid calls: each returns its error and reason and changes nothing`, () => {
  assert(cases.length >= 45);
  runTable(cases, (peer2) => {
    const mesh = new WebRTCMultiplayer();
    mesh.initialize(1);
    mesh.addPeer(peer2, 2);
    return mesh;
  });
});

Deno.test(`Godot 4: ${godot4Cases.length} invalid calls: each returns its error and reason and changes nothing`, () => {
  assert(godot4Cases.length >= 30);
  runTable(godot4Cases, (peer2) => {
    const peer = new WebRTCMultiplayerPeer();
    peer.createServer([TransferMode.UNRELIABLE]);
    peer.addPeer(peer2, 2);
    return peer;
  });
});

Deno.test("calls after close(): refused with reasons, nothing changes", () => {
  const mesh = new WebRTCMultiplayer();
  mesh.initialize(1);
  mesh.close();
  const before = mesh.state;
  assertEquals(mesh.putPacket(new Uint8Array(1)), GodotError.ERR_UNCONFIGURED);
  assert(mesh.lastError.message.includes("initialize"));
  mesh.removePeer(2);
  assertEquals(mesh.lastError.error, GodotError.ERR_DOES_NOT_EXIST);
  assertStrictEquals(mesh.state, before);
  assertEquals(mesh.getPacket(), undefined);
  assertEquals(mesh.getPacketPeer(), 0);
});

Deno.test("a real connection that is already connected is refused; the mesh keeps working", async () => {
  const c = cluster([1, 2]);
  try {
    await fullMesh(c);
    const m1 = c.meshes.get(1)!;
    const connected = c.connections.get(1)!.get(2)!;
    const other = new WebRTCMultiplayer();
    other.initialize(5);
    assertEquals(other.addPeer(connected, 1), GodotError.ERR_INVALID_PARAMETER);
    assert(other.lastError.message.includes('"connected"'), other.lastError.message);
    assertEquals(other.getPeers().size, 0);
    // A closed native connection is refused too.
    const closed = createPeerConnection();
    closed.close();
    assertEquals(other.addPeer(closed, 3), GodotError.ERR_INVALID_PARAMETER);
    assertEquals(m1.putPacket(new Uint8Array([1])), GodotError.OK);
    other.close();
  } finally {
    await closeAll(c);
  }
});
