/**
 * Story tests of the Godot 4 rules (SPEC-GODOT4.md; reducer rules 10-14) on the one reducer,
 * compared with `tests/__snapshots__/core/godot4_scenarios_test.ts.snap`, plus plain assertions of
 * the key facts. The inbox's Godot 4 order (insertion order, lowest channel first, peek) is a story
 * too: it is the interpreter's queue, driven by the reducer's `turn`.
 */
import { assert, assertEquals } from "@std/assert";
import { assertSnapshot } from "../_snapshot.ts";
import {
  addNonW3C,
  addPeer,
  chan,
  chanError,
  close,
  conn,
  connect,
  create,
  disconnect,
  emits,
  init,
  join,
  mode,
  refuse,
  remove,
  renderRoute,
  runGodot4,
  runScenario,
  type Script,
  section as titled,
  story,
  target,
  transferChannel,
} from "./_scenario.ts";
import {
  channelSpecs,
  ConnectionStatus,
  initialGodot4State,
  initialState,
  type MeshState,
  reduce,
  route,
  TransferMode,
} from "../../core/mod.ts";
import { Inbox } from "../../effects/inbox.ts";
import type { ChannelPacket } from "../../effects/multiplayer_peer.ts";

const { RELIABLE, UNRELIABLE_ORDERED, UNRELIABLE } = TransferMode;
const MAX = 2147483647;

/** A titled Godot 4 story, from `initialGodot4State` unless told. */
function section(title: string, script: Script, start: MeshState = initialGodot4State): string {
  return titled(title, script, start);
}

function stateAfter4(script: Script): MeshState {
  return runGodot4(script).final;
}

// ---------------------------------------------------------------------------------------------
// Rule 10: createMesh / createServer / createClient

Deno.test("godot4 create: the three network modes and the statuses they give", (t) => {
  assertSnapshot(
    t,
    story(
      section("createMesh(3)", [create("mesh", 3)]),
      section("createMesh(1) is a mesh peer that is also 'the server' by id", [create("mesh", 1)]),
      section("createServer()", [create("server")]),
      section("createClient(7) waits for peer 1", [create("client", 7)]),
      section("createMesh(MAX, [RELIABLE, UNRELIABLE_ORDERED, UNRELIABLE])", [
        create("mesh", MAX, [RELIABLE, UNRELIABLE_ORDERED, UNRELIABLE]),
      ]),
    ),
  );
});

Deno.test("godot4 create: checks in order, each failing one at a time", (t) => {
  assertSnapshot(
    t,
    story(
      section("client id 1 is refused before anything else", [
        create("client", 1),
        create("client", 1, [7]),
      ]),
      section("bad ids", [
        create("mesh", 0),
        create("mesh", -1),
        create("mesh", 2 ** 31),
        create("client", 2.5),
        create("client", NaN),
        create("mesh", "3"),
      ]),
      section("bad channelsConfig (the id is checked first)", [
        create("mesh", 0, [9]),
        create("mesh", 2, [3]),
        create("mesh", 2, [RELIABLE, -1]),
        create("server", 1, ["2"]),
        create("server", 1, [1.5]),
        create("client", 4, null),
        create("client", 4, "RELIABLE"),
        create("mesh", 2, Array(256).fill(RELIABLE)),
      ]),
      section("already created: ERR_ALREADY_IN_USE until close()", [
        create("mesh", 2),
        create("mesh", 2),
        create("server"),
        create("client", 1),
        close(),
        create("server", 1, [UNRELIABLE]),
      ]),
      section("a client whose server left holds a new peer 1: not re-created until close()", [
        create("client", 2),
        ...join(1),
        conn(1, "failed"),
        addPeer(1),
        create("mesh", 1),
        remove(1),
        create("mesh", 1),
      ]),
      section("the other API's calls are refused on a Godot 4 peer", [init(2), init(1, true)]),
      section("and Godot 4's calls on a Godot 3 mesh", [
        create("mesh", 2),
        create("client", 3),
        init(2),
        create("server"),
      ], initialState),
    ),
  );
});

// ---------------------------------------------------------------------------------------------
// Rule 11: addPeer

Deno.test("godot4 addPeer: checks in order (mode, network, id, lifetime, refuse, shape, state, duplicate, own id)", (t) => {
  const mesh = stateAfter4([create("mesh", 1), addPeer(2)]);
  const server = stateAfter4([create("server")]);
  const client = stateAfter4([create("client", 5)]);
  assertSnapshot(
    t,
    story(
      section("not created: ERR_UNCONFIGURED before any argument check", [
        addPeer(2),
        addPeer(0),
        addNonW3C(2, "null"),
      ]),
      section("a client adds only peer 1", [addPeer(2, 1), addPeer(0), addPeer(1)], client),
      section("a server never adds peer 1", [addPeer(1), addPeer(0), addPeer(2)], server),
      section("id, then lifetime", [addPeer(0), addPeer(3, -1), addPeer(3, 65536)], mesh),
      section("refuseNewConnections", [refuse(true), addPeer(3), addPeer(3, -1)], mesh),
      section("shape, state", [
        addNonW3C(3, "a WebSocket"),
        addPeer(3, 1, "connecting"),
        addPeer(3, 1, "closed"),
      ], mesh),
      section("duplicate, own id", [addPeer(2), addPeer(1)], mesh),
      section("an earlier check wins: client with a bad id and refusing", [
        refuse(true),
        addPeer(0),
        addPeer(2),
        addPeer(1),
      ], client),
    ),
  );
});

Deno.test("godot4 extra channels: negotiated ids 4+, labels '4', '5', ...; ready only when all are open", (t) => {
  assertSnapshot(
    t,
    story(
      section("three extra channels, lifetime 5", [
        create("mesh", 1, [RELIABLE, UNRELIABLE_ORDERED, UNRELIABLE]),
        addPeer(2, 5),
        conn(2, "connected"),
        chan(2, 0, "open"),
        chan(2, 1, "open"),
        chan(2, 2, "open"),
        chan(2, 3, "open"),
        chan(2, 5, "open"),
        chan(2, 4, "open"),
      ]),
      section("an extra channel closing removes the peer", [
        create("mesh", 1, [UNRELIABLE]),
        ...join(2, 1, 1),
        chan(2, 3, "closing"),
      ]),
      section("an extra channel erroring removes the peer", [
        create("mesh", 1, [UNRELIABLE]),
        ...join(2, 1, 1),
        chanError(2, 3),
      ]),
      section("events of channels the peer does not have change nothing", [
        create("mesh", 1, [UNRELIABLE]),
        addPeer(2),
        chan(2, 4, "open"),
        chan(2, -1, "open"),
        chan(2, 1.5, "open"),
      ]),
    ),
  );
});

Deno.test("godot4 insertion order: each added peer gets the next turn; close() starts over", (t) => {
  assertSnapshot(
    t,
    story(
      section("peers 9, 2, 5 added in that order, 2 removed and added again", [
        create("mesh", 1),
        addPeer(9),
        addPeer(2),
        addPeer(5),
        remove(2),
        addPeer(2),
        close(),
        create("mesh", 1),
        addPeer(5),
      ]),
    ),
  );
});

// ---------------------------------------------------------------------------------------------
// Rule 12: signals of a mesh, a server and a client

Deno.test("godot4 mesh and server: peer_connected when ready, peer_disconnected when a connected peer goes", (t) => {
  assertSnapshot(
    t,
    story(
      section("mesh", [
        create("mesh", 3),
        ...join(1),
        addPeer(2),
        conn(2, "failed"),
        conn(1, "disconnected"),
      ]),
      section("server", [create("server"), ...join(4), ...join(2), remove(4), remove(2)]),
    ),
  );
});

Deno.test("godot4 client: gating, status, connected_to_server, server_disconnected, connection_failed", (t) => {
  assertSnapshot(
    t,
    story(
      section("peer 1 connects, then is lost", [
        create("client", 4),
        addPeer(1),
        ...connect(1),
        conn(1, "disconnected"),
        mode(UNRELIABLE),
      ]),
      section("peer 1 fails before it ever connected", [
        create("client", 4),
        addPeer(1),
        conn(1, "connecting"),
        conn(1, "failed"),
      ]),
      section("removePeer(1) before it connected is a failure too", [
        create("client", 4),
        addPeer(1),
        remove(1),
      ]),
      section("removePeer(1) after it connected", [create("client", 4), ...join(1), remove(1)]),
      section("a client may be created again after a failure, without close()", [
        create("client", 4),
        addPeer(1),
        conn(1, "closed"),
        create("client", 6),
        ...join(1),
      ]),
      section("with extra channels, connected only when they are open too", [
        create("client", 4, [RELIABLE]),
        addPeer(1),
        ...connect(1),
        chan(1, 3, "open"),
      ]),
    ),
  );
});

// ---------------------------------------------------------------------------------------------
// Rule 13: disconnectPeer

Deno.test("godot4 disconnectPeer: without force the close is observed and removes; force removes silently", (t) => {
  assertSnapshot(
    t,
    story(
      section("mesh: disconnectPeer(2), the observed close removes it with peer_disconnected", [
        create("mesh", 1),
        ...join(2),
        disconnect(2),
        conn(2, "closed"),
      ]),
      section("mesh: a pending peer disconnected, nothing owed", [
        create("mesh", 1),
        addPeer(2),
        disconnect(2),
        conn(2, "closed"),
      ]),
      section("mesh: force removes at once, no signal", [
        create("mesh", 1),
        ...join(2),
        disconnect(2, true),
      ]),
      section("client: force on peer 1 -> DISCONNECTED, no signal", [
        create("client", 3),
        ...join(1),
        disconnect(1, true),
      ]),
      section("client: force on a pending peer 1 -> DISCONNECTED, no connection_failed", [
        create("client", 3),
        addPeer(1),
        disconnect(1, true),
      ]),
      section("client: disconnectPeer(1) -> the close is observed -> server_disconnected", [
        create("client", 3),
        ...join(1),
        disconnect(1),
        conn(1, "closed"),
      ]),
      section("unknown ids and a bad force flag", [
        create("mesh", 1),
        addPeer(2),
        disconnect(9),
        disconnect(0),
        disconnect("2"),
        disconnect(2, "yes"),
        disconnect(2, 1),
      ]),
    ),
  );
});

// ---------------------------------------------------------------------------------------------
// Rule 14: transferChannel, routing, close()

Deno.test("godot4 transferChannel: validated; routes to the reserved channel of the mode or to an extra channel", (t) => {
  const mesh = stateAfter4([
    create("mesh", 1, [RELIABLE, UNRELIABLE]),
    ...join(2, 1, 2),
    ...join(3, 1, 2),
    addPeer(4),
    chan(4, 4, "open"),
  ]);
  const lines = [
    runGodot4([
      transferChannel(0),
      transferChannel(1),
      transferChannel(255),
      transferChannel(256),
      transferChannel(-1),
      transferChannel(1.5),
      transferChannel("1"),
      transferChannel(NaN),
    ]).text,
    "",
    `not created: ${renderRoute(route(initialGodot4State))}`,
    `client after the server left: ${
      renderRoute(route(stateAfter4([create("client", 2), ...join(1), conn(1, "failed")])))
    }`,
  ];
  for (const channel of [0, 1, 2, 3]) {
    for (const m of [RELIABLE, UNRELIABLE]) {
      for (const tp of [0, 2, 4, -3]) {
        lines.push(
          `channel ${channel} mode ${TransferMode[m]} target ${tp}: ${
            renderRoute(route(mesh, tp, m, channel))
          }`,
        );
      }
    }
  }
  assertSnapshot(t, lines.join("\n"));
});

Deno.test("godot4 close(): resets mode, channels, id, target; keeps transferMode and transferChannel; no signals", (t) => {
  assertSnapshot(
    t,
    story(
      section("a client with a server", [
        create("client", 2, [UNRELIABLE]),
        ...join(1, 1, 1),
        mode(UNRELIABLE),
        transferChannel(1),
        target(-3),
        close(),
        close(),
        addPeer(1),
        create("mesh", 2),
      ]),
    ),
  );
});

// ---------------------------------------------------------------------------------------------
// Peek getters and the receive order (the inbox, as the Godot 4 facade uses it)

Deno.test("godot4 receive order: peers by insertion turn, lowest channel first, getters peek", (t) => {
  const inbox = new Inbox<ChannelPacket>(3);
  const lines: string[] = [];
  const modes = [RELIABLE, UNRELIABLE_ORDERED, UNRELIABLE, RELIABLE, UNRELIABLE];
  const push = (peerId: number, turn: number, index: number, n: number) => {
    const channel = index < 3 ? 0 : index - 2;
    const ok = inbox.push(
      { peerId, data: new Uint8Array([n]), channel, mode: modes[index] },
      turn,
      index,
    );
    lines.push(
      `push peer ${peerId} (turn ${turn}) channel index ${index} #${n}${ok ? "" : ": DROPPED"}`,
    );
  };
  const read = () => {
    const next = inbox.peek();
    const got = inbox.shift();
    lines.push(
      next === undefined
        ? `peek: nothing; shift: ${got === undefined ? "nothing" : "SOMETHING"}`
        : `peek peer ${next.peerId} channel ${next.channel} ${TransferMode[next.mode]} -> got #${
          got?.data[0]
        }${got === next ? "" : " (NOT the peeked packet)"}`,
    );
  };
  // Added in the order 9 (turn 1), 2 (turn 2), 5 (turn 3).
  push(5, 3, 0, 1);
  push(9, 1, 4, 2);
  push(2, 2, 2, 3);
  push(9, 1, 0, 4);
  push(2, 2, 3, 5);
  push(2, 2, 1, 6);
  push(2, 2, 0, 7);
  push(5, 3, 4, 8);
  for (let i = 0; i < 9; i++) read();
  lines.push("-- a peer removed and added again gets a new, later turn while its packets wait");
  push(9, 1, 0, 10);
  push(2, 2, 0, 11);
  push(9, 4, 0, 12);
  for (let i = 0; i < 4; i++) read();
  assertSnapshot(t, lines.join("\n"));
});

// ---------------------------------------------------------------------------------------------
// Plain assertions of the key facts

Deno.test("fact: channelSpecs maps each TransferMode as SPEC-GODOT4 section 2 says", () => {
  assertEquals(channelSpecs(7, [RELIABLE, UNRELIABLE_ORDERED, UNRELIABLE]).slice(3), [
    { label: "4", init: { negotiated: true, id: 4, ordered: true } },
    { label: "5", init: { negotiated: true, id: 5, ordered: true, maxPacketLifeTime: 7 } },
    { label: "6", init: { negotiated: true, id: 6, ordered: false, maxPacketLifeTime: 7 } },
  ]);
  assertEquals(channelSpecs(1, []).length, 3);
});

Deno.test("fact: client signals come in Godot's order", () => {
  const waiting = stateAfter4([create("client", 5), addPeer(1)]);
  const up = runScenario(connect(1), waiting);
  assertEquals(emits(up.effects), ["peer_connected(1)", "connected_to_server"]);
  assertEquals(up.final.status, ConnectionStatus.CONNECTED);
  const down = runScenario([conn(1, "closed")], up.final);
  assertEquals(emits(down.effects), ["peer_disconnected(1)", "server_disconnected"]);
  assertEquals(down.final.status, ConnectionStatus.DISCONNECTED);
  const failed = runScenario([conn(1, "failed")], waiting);
  assertEquals(emits(failed.effects), ["connection_failed"]);
  assertEquals(failed.final.status, ConnectionStatus.DISCONNECTED);
});

Deno.test("fact: Godot 3's CreateChannels has no turn; Godot 4's counts additions", () => {
  const [, g3] = reduce(initialState, addPeer(2));
  assert(g3[0].type === "CreateChannels" && !("turn" in g3[0]));
  const run = runGodot4([create("mesh", 1), addPeer(8), addPeer(3)]);
  assertEquals(
    run.effects.flatMap((e) => e.type === "CreateChannels" ? [[e.peerId, e.turn]] : []),
    [[8, 1], [3, 2]],
  );
});
