/**
 * Story tests of the reducer (SPEC rules 1-9) and of `route`/`admit`, compared with the committed
 * snapshots in `tests/__snapshots__/core/reduce_scenarios_test.ts.snap`, plus plain assertions of
 * the key facts.
 */
import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import { assertSnapshot } from "../_snapshot.ts";
import {
  addNonW3C,
  addPeer,
  chan,
  chanError,
  close,
  conn,
  connect,
  createFailed,
  emits,
  init,
  join,
  mode,
  openChannels,
  refuse,
  remove,
  renderRoute,
  runScenario,
  type Script,
  section,
  stateAfter,
  story,
  target,
} from "./_scenario.ts";
import {
  admit,
  CHANNEL_SPECS,
  ConnectionStatus,
  GodotError,
  initialState,
  reduce,
  route,
  TransferMode,
} from "../../core/mod.ts";

const MAX = 2147483647;

// ---------------------------------------------------------------------------------------------
// Rule 1: initialize

Deno.test("rule 1: initialize with valid ids and the statuses they give", (t) => {
  assertSnapshot(
    t,
    story(
      section("server", [init(1)]),
      section("server with serverCompatibility (still the server)", [init(1, true)]),
      section("client", [init(3)]),
      section("server-compatible client waits for the server", [init(3, true)]),
      section("largest id", [init(MAX)]),
    ),
  );
});

Deno.test("rule 1: initialize refuses bad ids and a non-boolean compat flag", (t) => {
  assertSnapshot(
    t,
    story(
      section("bad ids, each from a fresh mesh", [
        init(0),
        init(-1),
        init(2 ** 31),
        init(1.5),
        init(NaN),
        init(Infinity),
        init("3"),
        init(undefined),
        init(null),
      ]),
      section("bad compat flag", [init(2, "yes"), init(2, 1)]),
    ),
  );
});

Deno.test("rule 1: initialize twice is ERR_ALREADY_IN_USE until close()", (t) => {
  assertSnapshot(
    t,
    story(
      section("same id, other id, compat", [init(2), init(2), init(3), init(3, true)]),
      section("close() then initialize again", [init(2), close(), init(3, true)]),
      section("an id already used by a remote peer added before initialize", [
        addPeer(4),
        init(4),
        init(5),
      ]),
    ),
  );
});

// ---------------------------------------------------------------------------------------------
// Rules 2 and 3: addPeer

Deno.test("rule 2: addPeer checks, one failing at a time", (t) => {
  const ready = stateAfter([init(1), addPeer(2)]);
  assertSnapshot(
    t,
    story(
      section("bad ids", [
        addPeer(0),
        addPeer(-1),
        addPeer(2 ** 31),
        addPeer(2.5),
        addPeer(NaN),
        addPeer("2"),
      ], ready),
      section(
        "bad lifetime",
        [addPeer(3, -1), addPeer(3, 1.5), addPeer(3, NaN), addPeer(3, "1")],
        ready,
      ),
      section("refuseNewConnections", [refuse(true), addPeer(3)], ready),
      section("not a W3C connection", [
        addNonW3C(3, "null"),
        addNonW3C(3, "undefined"),
        addNonW3C(3, "a WebSocket"),
      ], ready),
      section("connection not in state new", [
        addPeer(3, 1, "connecting"),
        addPeer(3, 1, "connected"),
        addPeer(3, 1, "closed"),
      ], ready),
      section("duplicate id", [addPeer(2)], ready),
      section("own id", [addPeer(1)], ready),
      section("largest id is fine", [addPeer(MAX)], ready),
    ),
  );
});

Deno.test("rule 2: an earlier failing check wins when two fail", (t) => {
  const ready = stateAfter([init(1), addPeer(2)]);
  const refusing = stateAfter([refuse(true)], ready);
  assertSnapshot(
    t,
    story(
      section("bad id and bad lifetime -> id", [addPeer(0, -1)], ready),
      section("bad lifetime and refused -> lifetime", [addPeer(3, -1)], refusing),
      section("refused and not W3C -> ERR_UNAUTHORIZED", [addNonW3C(3, "null")], refusing),
      section("refused and duplicate -> ERR_UNAUTHORIZED", [addPeer(2)], refusing),
      section("not W3C and duplicate -> shape", [addNonW3C(2, "null")], ready),
      section("not new and duplicate -> state", [addPeer(2, 1, "connected")], ready),
      section("not new and own id -> state", [addPeer(1, 1, "failed")], ready),
      section("bad id and not W3C -> id", [addNonW3C(-4, "null")], ready),
    ),
  );
});

Deno.test("rule 2: lifetime bounds 0..65535", (t) => {
  const ready = stateAfter([init(1)]);
  assertSnapshot(
    t,
    story(
      section("accepted", [addPeer(2, 0), addPeer(3, 65535), addPeer(4, 250)], ready),
      section("refused", [addPeer(5, -1), addPeer(5, 65536), addPeer(5, Infinity)], ready),
    ),
  );
});

Deno.test("rule 3: the three negotiated channels, and a failed createDataChannel undone", (t) => {
  const ready = stateAfter([init(1)]);
  assertSnapshot(
    t,
    story(
      section("channels", [addPeer(2), addPeer(3, 0)], ready),
      section("createDataChannel threw: undo, FAILED; the id is free again", [
        addPeer(2),
        createFailed(2, "TypeError: bad maxPacketLifeTime"),
        addPeer(2),
      ], ready),
      section("a failure report for a peer not in the mesh is ignored", [createFailed(9)], ready),
    ),
  );
});

// ---------------------------------------------------------------------------------------------
// Rules 4 and 5: connecting and dropping peers

Deno.test("rule 4: peers connecting in different orders are announced once, when ready", (t) => {
  const ready = stateAfter([init(1), addPeer(2), addPeer(3), addPeer(4)]);
  assertSnapshot(
    t,
    story(
      section("connection first, then channels", [conn(2, "connecting"), ...connect(2)], ready),
      section("channels first, connection last", [
        chan(3, 2, "open"),
        chan(3, 0, "open"),
        chan(3, 1, "open"),
        conn(3, "connecting"),
        conn(3, "connected"),
      ], ready),
      section("interleaved; repeated observations change nothing", [
        chan(4, 1, "open"),
        conn(4, "connected"),
        chan(4, 1, "open"),
        chan(4, 0, "open"),
        chan(4, 2, "open"),
        conn(4, "connected"),
        chan(4, 0, "open"),
      ], ready),
      section("connection back to connecting after announce: Godot keeps the peer", [
        ...connect(2),
        conn(2, "connecting"),
        conn(2, "connected"),
      ], ready),
    ),
  );
});

Deno.test("rule 5: a channel closing, closed or erroring removes the peer", (t) => {
  const announced = stateAfter([init(1), ...join(2)]);
  const pending = stateAfter([init(1), addPeer(2), conn(2, "connected")]);
  assertSnapshot(
    t,
    story(
      section("announced: reliable closing", [chan(2, 0, "closing")], announced),
      section("announced: ordered closed", [chan(2, 1, "closed")], announced),
      section("announced: unreliable error", [chanError(2, 2, "OperationError")], announced),
      section("pending: reliable closed (no signal owed)", [chan(2, 0, "closed")], pending),
      section("pending: ordered error", [chanError(2, 1)], pending),
    ),
  );
});

Deno.test("rule 5: connection disconnected, failed or closed removes the peer", (t) => {
  const announced = stateAfter([init(1), ...join(2), ...join(3)]);
  const pending = stateAfter([init(1), addPeer(2), conn(2, "connecting")]);
  assertSnapshot(
    t,
    story(
      section(
        "announced: disconnected, failed",
        [conn(2, "disconnected"), conn(3, "failed")],
        announced,
      ),
      section("announced: closed", [conn(3, "closed")], announced),
      section("pending: failed", [conn(2, "failed")], pending),
      section(
        "pending: closed before ever connecting",
        [conn(2, "closed")],
        stateAfter([init(1), addPeer(2)]),
      ),
    ),
  );
});

Deno.test("observations about unknown peers are ignored (same state object)", (t) => {
  const removed = stateAfter([init(1), ...join(2), remove(2)]);
  assertSnapshot(
    t,
    story(
      section("late events of a removed peer", [
        conn(2, "closed"),
        chan(2, 0, "closed"),
        chanError(2, 1),
        ...connect(2),
      ], removed),
      section("before initialize, no peers", [
        conn(7, "connected"),
        ...openChannels(7),
        chanError(7, 0),
      ]),
    ),
  );
});

// ---------------------------------------------------------------------------------------------
// Rule 6: server compatibility

Deno.test("rule 6: server-compat client: peers 3 and 7 connect, then peer 1, then peer 1 drops", (t) => {
  assertSnapshot(
    t,
    story(
      section("client 5", [
        init(5, true),
        ...join(7),
        ...join(3),
        addPeer(1),
        ...connect(1),
        ...join(9),
        conn(1, "disconnected"),
        conn(3, "failed"),
        ...join(4),
        remove(7),
      ]),
    ),
  );
});

Deno.test("rule 6: server first, later peers announced as they connect", (t) => {
  assertSnapshot(
    t,
    story(
      section("client 2", [
        init(2, true),
        ...join(1),
        ...join(5),
        ...join(3),
        remove(1),
      ]),
    ),
  );
});

Deno.test("rule 6: the server dropping when it was never announced", (t) => {
  assertSnapshot(
    t,
    story(
      section("server fails before connecting, is re-added, then removed", [
        init(5, true),
        ...join(3),
        addPeer(1),
        conn(1, "connected"),
        chan(1, 0, "open"),
        chan(1, 1, "closed"),
        addPeer(1),
        remove(1),
      ]),
      section("server removed by the caller while pending", [init(5, true), addPeer(1), remove(1)]),
    ),
  );
});

Deno.test("rule 6: no connection_succeeded/server_disconnected without server compatibility", (t) => {
  assertSnapshot(
    t,
    story(
      section("client 5 without compat: peer 1 is an ordinary peer", [
        init(5),
        ...join(3),
        ...join(1),
        conn(1, "failed"),
      ]),
      section("server 1 with compat flag", [init(1, true), ...join(2), conn(2, "closed")]),
    ),
  );
});

Deno.test("rule 6: addPeer before initialize, then initialize announces ready peers", (t) => {
  const before: Script = [...join(3), ...join(2), addPeer(4), conn(4, "connected")];
  assertSnapshot(
    t,
    story(
      section("nothing is announced while uninitialized", before),
      section("initialize(1)", [init(1)], stateAfter(before)),
      section(
        "initialize(5, compat) without the server: still gated",
        [init(5, true)],
        stateAfter(before),
      ),
      section(
        "initialize(5, compat) with the server ready",
        [init(5, true)],
        stateAfter([...before, ...join(1)]),
      ),
    ),
  );
});

// ---------------------------------------------------------------------------------------------
// Rules 7, 8, 9 and the setters

Deno.test("rule 7: removePeer", (t) => {
  const start = stateAfter([init(1), ...join(2), addPeer(3)]);
  assertSnapshot(
    t,
    story(
      section("unknown ids", [
        remove(9),
        remove(0),
        remove(-2),
        remove("2"),
        remove(NaN),
        remove(1),
      ], start),
      section("announced, then twice", [remove(2), remove(2)], start),
      section("not yet announced", [remove(3)], start),
    ),
  );
});

Deno.test("rule 8: close()", (t) => {
  assertSnapshot(
    t,
    story(
      section("with peers and settings", [
        init(1),
        ...join(3),
        addPeer(2),
        refuse(true),
        mode(TransferMode.UNRELIABLE),
        target(3),
        close(),
        close(),
        init(4, true),
      ]),
      section("on a fresh mesh", [close()]),
      section("on an uninitialized mesh with peers", [addPeer(2), close()]),
    ),
  );
});

Deno.test("rule 9: refuseNewConnections only affects addPeer", (t) => {
  assertSnapshot(
    t,
    story(
      section("refuse while a peer is pending", [
        init(1),
        addPeer(2),
        refuse(true),
        addPeer(3),
        ...connect(2),
        remove(2),
        refuse(false),
        addPeer(3),
      ]),
    ),
  );
});

Deno.test("setters validate their value", (t) => {
  assertSnapshot(
    t,
    story(
      section("transferMode", [
        mode(0),
        mode(1),
        mode(2),
        mode(3),
        mode(-1),
        mode("2"),
        mode(1.5),
        mode(null),
      ]),
      section("targetPeer", [
        target(5),
        target(-5),
        target(-0),
        target(MAX),
        target(-MAX),
        target(2 ** 31),
        target(-(2 ** 31)),
        target(1.5),
        target(NaN),
        target("1"),
        target(undefined),
      ]),
      section("refuseNewConnections", [
        refuse(true),
        refuse(false),
        refuse(1),
        refuse("true"),
        refuse(null),
      ]),
    ),
  );
});

// ---------------------------------------------------------------------------------------------
// route() and admit()

Deno.test("route: where a packet goes", (t) => {
  const mesh = stateAfter([
    init(1),
    ...join(2),
    ...join(3),
    addPeer(4),
    chan(4, 0, "open"),
    ...join(5),
  ]);
  const serverLeft = stateAfter([init(5, true), ...join(1), ...join(2), conn(1, "failed")]);
  const waiting = stateAfter([init(5, true), ...join(2), addPeer(1)]);
  const lines: string[] = [
    `uninitialized: ${renderRoute(route(initialState))}`,
    `uninitialized with a target: ${renderRoute(route(stateAfter([target(2)])))}`,
    `after the server left: ${renderRoute(route(serverLeft))}`,
    `compat client still connecting, broadcast: ${renderRoute(route(waiting))}`,
    `compat client still connecting, to ready peer 2: ${renderRoute(route(waiting, 2))}`,
  ];
  for (
    const m of [TransferMode.RELIABLE, TransferMode.UNRELIABLE_ORDERED, TransferMode.UNRELIABLE]
  ) {
    for (const tp of [0, 2, 4, 9, 1, -3, -4, -9]) {
      lines.push(`mesh ${TransferMode[m]} target ${tp}: ${renderRoute(route(mesh, tp, m))}`);
    }
  }
  lines.push(
    `state's own target and mode: ${
      renderRoute(route(stateAfter([target(-2), mode(TransferMode.UNRELIABLE)], mesh)))
    }`,
  );
  assertSnapshot(t, lines.join("\n"));
});

Deno.test("admit: message size and high-water mark", (t) => {
  const hwm = 16 << 20;
  const cases: [number, number, 0 | 1 | 2, number][] = [
    [262_144, 262_144, 0, 0],
    [262_145, 262_144, 0, 0],
    [262_145, 262_144, 2, 0],
    [0, 262_144, 0, 0],
    [100, 262_144, 0, hwm],
    [100, 262_144, 0, hwm + 1],
    [100, 262_144, 1, hwm + 1],
    [100, 262_144, 2, hwm * 4],
    [300_000, 262_144, 0, hwm + 1],
  ];
  const lines = cases.map(([size, max, ch, buffered]) => {
    const r = admit(size, max, ch, buffered, hwm, 7);
    return `size ${size} max ${max} channel ${ch} buffered ${buffered}: ${
      r === undefined ? "admitted" : `${GodotError[r.error]}: ${r.message}`
    }`;
  });
  assertSnapshot(t, lines.join("\n"));
});

// ---------------------------------------------------------------------------------------------
// Plain assertions of the key facts

Deno.test("fact: CreateChannels carries exactly the SPEC rule 3 inits, in order", () => {
  const [, effects] = reduce(stateAfter([init(1)]), addPeer(2, 7));
  assertEquals(effects, [
    {
      type: "CreateChannels",
      peerId: 2,
      channels: [
        { label: "reliable", init: { negotiated: true, id: 1, ordered: true } },
        {
          label: "ordered",
          init: { negotiated: true, id: 2, ordered: true, maxPacketLifeTime: 7 },
        },
        {
          label: "unreliable",
          init: { negotiated: true, id: 3, ordered: false, maxPacketLifeTime: 7 },
        },
      ],
    },
    { type: "Reply", error: GodotError.OK, message: "" },
  ]);
  assertEquals(CHANNEL_SPECS(0)[1].init.maxPacketLifeTime, 0);
  assert(!("maxPacketLifetime" in CHANNEL_SPECS(1)[2].init), "W3C spelling only");
  assert(!("maxPacketLifeTime" in CHANNEL_SPECS(1)[0].init), "reliable has no lifetime");
});

Deno.test("fact: rule 6 emits peer_connected(1), connection_succeeded, others ascending", () => {
  const waiting = stateAfter([init(5, true), ...join(7), ...join(3), ...join(6), addPeer(1)]);
  assertEquals(waiting.status, ConnectionStatus.CONNECTING);
  const run = runScenario(connect(1), waiting);
  assertEquals(emits(run.effects), [
    "peer_connected(1)",
    "connection_succeeded",
    "peer_connected(3)",
    "peer_connected(6)",
    "peer_connected(7)",
  ]);
  assertEquals(run.final.status, ConnectionStatus.CONNECTED);
  const left = runScenario([conn(1, "closed")], run.final);
  assertEquals(left.effects, [
    { type: "ClosePeer", peerId: 1 },
    { type: "Emit", signal: "peer_disconnected", peerId: 1 },
    { type: "Emit", signal: "server_disconnected" },
  ]);
  assertEquals(left.final.status, ConnectionStatus.DISCONNECTED);
});

Deno.test("fact: every rejected request returns the same state object and one Reply", () => {
  const start = stateAfter([init(1), ...join(2)]);
  for (
    const event of [
      init(3),
      addPeer(0),
      addPeer(2),
      addPeer(1),
      remove(9),
      mode(7),
      target(0.5),
      refuse(0),
    ]
  ) {
    const [next, effects] = reduce(start, event);
    assertStrictEquals(next, start);
    assertEquals(effects.length, 1);
    assert(effects[0].type === "Reply" && effects[0].error !== GodotError.OK);
    assert(effects[0].message.length > 0, "a rejection says why");
  }
});

Deno.test("fact: close() closes every peer, drops packets, resets id/target/status, no signals", () => {
  const start = stateAfter([init(2), ...join(3), addPeer(1), target(3)]);
  const [next, effects] = reduce(start, close());
  assertEquals(effects, [
    { type: "ClosePeer", peerId: 1 },
    { type: "ClosePeer", peerId: 3 },
    { type: "DropPackets" },
    { type: "Reply", error: GodotError.OK, message: "" },
  ]);
  assertEquals(next.peers.size, 0);
  assertEquals([next.uniqueId, next.targetPeer, next.status], [
    0,
    0,
    ConnectionStatus.DISCONNECTED,
  ]);
  assertEquals(reduce(next, close())[0].peers.size, 0);
});
