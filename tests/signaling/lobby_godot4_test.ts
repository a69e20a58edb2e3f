/**
 * The lobby rules with Godot 4 clients: JSON frames, client/server lobbies, mixed lobbies of
 * Godot 3 and Godot 4 clients, and Godot's close reasons for JSON frames.
 */
import { assert, assertEquals } from "@std/assert";
import {
  DEFAULT_LIMITS,
  GODOT4_FIRST_ID,
  type Lobby,
  memberIdRange,
  type MemberIds,
  nextDeadline,
  permutedMemberIds,
  reduceServer,
  type ServerState,
} from "../../signaling/lobby.ts";
import type { PersistentMap } from "../../signaling/_pmap.ts";
import { Reasons } from "../../signaling/protocol.ts";
import { assertFirstFrameRefused, close, harness, send } from "./_lobby_harness.ts";

/** A Godot 4 frame, as `ws_webrtc_client.gd` and `server.js` write them. */
const j = (type: number, id: number, data = "") => JSON.stringify({ type, id, data });
const G = GODOT4_FIRST_ID;

Deno.test("godot4 mesh lobby: ID with data true, PEER_CONNECT both ways, JOIN last", () => {
  const h = harness({}, [G + 5, G + 6]);
  for (const k of [1, 2, 3]) h.open(k);
  assertEquals(h.text(1, j(0, 0)), [send(1, j(1, 1, "true")), send(1, j(0, 0, "L1"))]);
  assertEquals(h.text(2, j(0, 0, "L1")), [
    send(2, j(1, G + 5, "true")),
    send(1, j(2, G + 5)),
    send(2, j(2, 1)),
    send(2, j(0, 0, "L1")),
  ]);
  assertEquals(h.text(3, j(0, 1, "L1")).length, 6, "a joiner's flag is ignored: mesh");
  // Relays: destination replaced by the sender's id, candidate data kept byte for byte.
  assertEquals(h.text(2, j(4, 1, "v=0")), [send(1, j(4, G + 5, "v=0"))]);
  assertEquals(h.text(1, j(5, G + 5, "sdp")), [send(2, j(5, 1, "sdp"))]);
  assertEquals(h.text(3, j(6, G + 5, "\n0\n0\ncand")), [send(2, j(6, G + 6, "\n0\n0\ncand"))]);
  // Seal, leave, host leave.
  h.at(100);
  assertEquals(h.text(1, j(7, 0)), [1, 2, 3].map((k) => send(k, j(7, 0))));
  assertEquals(h.closed(3), [send(1, j(3, G + 6)), send(2, j(3, G + 6))]);
  assertEquals(h.closed(1), [close(2, Reasons.HOST_DISCONNECTED)]);
});

Deno.test("client/server lobby: ID data empty, only host and newcomer announced, host is 1", () => {
  const h = harness({}, [G + 1, G + 2, G + 3]);
  for (const k of [1, 2, 3, 4]) h.open(k);
  assertEquals(h.text(1, j(0, 1)), [send(1, j(1, 1)), send(1, j(0, 0, "L1"))]);
  assertEquals(h.state.lobbies.get("L1")?.mesh, false);
  assertEquals(h.text(2, j(0, 0, "L1")), [
    send(2, j(1, G + 1)),
    send(1, j(2, G + 1)),
    send(2, j(2, 1)),
    send(2, j(0, 0, "L1")),
  ]);
  assertEquals(h.text(3, j(0, 1, "L1")), [
    send(3, j(1, G + 2)),
    send(1, j(2, G + 2)),
    send(3, j(2, 1)),
    send(3, j(0, 0, "L1")),
  ]);
  h.text(4, j(0, 1, "L1"));
  // Clients talk to the host; the host to any client; a client to another client is refused.
  assertEquals(h.text(2, j(4, 1, "offer")), [send(1, j(4, G + 1, "offer"))]);
  assertEquals(h.text(1, j(5, G + 1, "answer")), [send(2, j(5, 1, "answer"))]);
  assertEquals(h.text(1, j(6, G + 2, "\n0\n0\nc")), [send(3, j(6, 1, "\n0\n0\nc"))]);
  // A client leaving is told to the host alone.
  assertEquals(h.closed(4), [send(1, j(3, G + 3))]);
  assertEquals(h.text(3, j(4, G + 1, "x")), [
    close(3, Reasons.INVALID_DEST),
    send(1, j(3, G + 2)),
  ]);
  // Seal goes to everyone; the host leaving closes everyone.
  assertEquals(h.text(1, j(7, 0)), [send(1, j(7, 0)), send(2, j(7, 0))]);
  assertEquals(h.closed(1), [close(2, Reasons.HOST_DISCONNECTED)]);
  assertEquals(h.state.lobbies.size, 0);
});

Deno.test("godot3 clients are refused by client/server lobbies and by godot4-hosted ones", () => {
  const h = harness({}, [G + 1]);
  for (const k of [1, 2, 3, 4]) h.open(k);
  h.text(1, j(0, 1)); // L1: client/server
  h.text(2, j(0, 0)); // L2: mesh, Godot 4 host
  assertEquals(h.text(3, "J: L1\n"), [close(3, Reasons.CLIENT_SERVER_NEEDS_GODOT4)]);
  assertEquals(h.text(4, "J: L2\n"), [close(4, Reasons.GODOT4_HOST_NEEDS_GODOT4)]);
  // A Godot 3 client creating a lobby always makes a mesh one.
  h.open(5);
  h.text(5, "J: \n");
  assertEquals(h.state.lobbies.get("L3")?.mesh, true);
});

Deno.test("mixed mesh lobby: each member hears everything in its own protocol", () => {
  // The ids handed out, in join order: Godot 4 above 2^30, Godot 3 below.
  const h = harness({}, [G + 9, 5]);
  for (const k of [1, 2, 3]) h.open(k);
  h.text(1, "J: \n"); // Godot 3 host
  assertEquals(h.text(2, j(0, 0, "L1")), [
    send(2, j(1, G + 9, "true")),
    send(1, `N: ${G + 9}\n`),
    send(2, j(2, 1)),
    send(2, j(0, 0, "L1")),
  ]);
  assertEquals(h.text(3, "J: L1\n"), [
    send(3, "I: 5\n"),
    send(1, "N: 5\n"),
    send(3, "N: 1\n"),
    send(2, j(2, 5)),
    send(3, `N: ${G + 9}\n`),
    send(3, "J: L1\n"),
  ]);
  // Godot 3 -> Godot 4: offers, answers and candidates translated (candidates gain the leading \n).
  assertEquals(h.text(3, `O: ${G + 9}\nv=0`), [send(2, j(4, 5, "v=0"))]);
  assertEquals(h.text(1, `C: ${G + 9}\n0\n0\ncand`), [send(2, j(6, 1, "\n0\n0\ncand"))]);
  // Godot 4 -> Godot 3: answers and candidates translated (the leading \n dropped)...
  assertEquals(h.text(2, j(5, 5, "sdp")), [send(3, `A: ${G + 9}\nsdp`)]);
  assertEquals(h.text(2, j(6, 1, "\n0\n0\ncand")), [send(1, `C: ${G + 9}\n0\n0\ncand`)]);
  // ...but its offers are dropped: in a mixed pair both sides offer and the Godot 3 side's counts.
  assertEquals(h.text(2, j(4, 1, "v=0")), []);
  assertEquals(h.text(2, j(4, 5, "v=0")), []);
  assertEquals(h.state.connections.has(2), true);
  // Seal and leave, each in its own protocol.
  assertEquals(h.text(1, "S: \n"), [send(1, "S: \n"), send(2, j(7, 0)), send(3, "S: \n")]);
  assertEquals(h.closed(2), [send(1, `D: ${G + 9}\n`), send(3, `D: ${G + 9}\n`)]);
  assertEquals(h.closed(3), [send(1, "D: 5\n")]);
});

Deno.test("a socket keeps the protocol of its first frame", () => {
  const h = harness({}, [G + 1]);
  for (const k of [1, 2, 3]) h.open(k);
  h.text(1, "J: \n");
  h.text(2, j(0, 0, "L1"));
  assertEquals(h.text(2, "S: \n")[0], close(2, Reasons.INVALID_FORMAT), "text from a JSON socket");
  assertEquals(h.text(1, j(7, 0))[0], close(1, Reasons.INVALID_FORMAT), "JSON from a text socket");
  h.text(3, j(0, 0));
  assertEquals(h.state.connections.get(3)?.protocol, "godot4");
});

Deno.test("every malformed JSON frame closes with 4000 and its reason", () => {
  const cases: [string, string][] = [
    ["{", Reasons.INVALID_FORMAT],
    ["{}", Reasons.INVALID_FORMAT], // no type, no id
    ['{"type":0}', Reasons.INVALID_FORMAT], // no id
    ['{"id":0,"data":""}', Reasons.INVALID_FORMAT], // no type
    ['{"type":"0","id":0,"data":""}', Reasons.INVALID_FORMAT], // type a string
    ['{"type":0,"id":"0","data":""}', Reasons.INVALID_FORMAT], // id a string
    ['{"type":0,"id":0,"data":5}', Reasons.INVALID_FORMAT], // data a number
    ['{"type":0,"id":0,"data":null}', Reasons.INVALID_FORMAT],
    ['{"type":0.5,"id":0,"data":""}', Reasons.INVALID_FORMAT], // float (Godot floors it)
    ['{"type":0,"id":0.25,"data":""}', Reasons.INVALID_FORMAT],
    ['{"type":-1,"id":0,"data":""}', Reasons.INVALID_FORMAT],
    ['{"type":0,"id":-1,"data":""}', Reasons.INVALID_FORMAT],
    ['{"type":1e300,"id":0,"data":""}', Reasons.INVALID_FORMAT], // huge
    ['{"type":1e400,"id":0,"data":""}', Reasons.INVALID_FORMAT], // Infinity
    ['{"type":4,"id":9007199254740993,"data":""}', Reasons.INVALID_FORMAT], // beyond 2^53
    ['{"type":0,"id":2,"data":""}', Reasons.INVALID_FORMAT], // JOIN flag neither 0 nor 1
    ['{"type":true,"id":0,"data":""}', Reasons.INVALID_FORMAT],
    ['{"type":[0],"id":0,"data":""}', Reasons.INVALID_FORMAT],
    [' {"type":1,"id":0,"data":""}', Reasons.INVALID_CMD], // ID is the server's
    ['{"type":2,"id":0,"data":""}', Reasons.INVALID_CMD],
    ['{"type":3,"id":0,"data":""}', Reasons.INVALID_CMD],
    ['{"type":8,"id":0,"data":""}', Reasons.INVALID_CMD],
    ['{"type":4,"id":0,"data":""}', Reasons.INVALID_DEST],
    ['{"type":5,"id":2147483648,"data":""}', Reasons.INVALID_DEST],
    ['{"type":6,"id":1,"data":""}', Reasons.NEED_LOBBY],
    ['{"type":7,"id":0,"data":""}', Reasons.NEED_LOBBY],
    ['{"type":0,"id":0,"data":"nope"}', Reasons.LOBBY_DOES_NOT_EXISTS],
    ['[0,0,""]', Reasons.INVALID_FORMAT], // not an object: Godot 3 rules, no newline
    ["null", Reasons.INVALID_FORMAT],
    ['"{"', Reasons.INVALID_FORMAT],
    ["42\n", Reasons.INVALID_FORMAT], // Godot 3: command line shorter than 3
  ];
  assertFirstFrameRefused(cases);
  // Missing data is "" (as Godot's server), extra fields are ignored.
  const h = harness();
  h.open(1);
  assertEquals(h.text(1, '{"type":0,"id":0,"extra":[1]}'), [
    send(1, j(1, 1, "true")),
    send(1, j(0, 0, "L1")),
  ]);
});

Deno.test("godot4: every close code and reason of Godot's server", () => {
  // No JOIN within 1 s.
  let h = harness({}, [G + 1, G + 2]);
  h.open(1);
  h.at(DEFAULT_LIMITS.joinTimeoutMs);
  assertEquals(h.tick(), [close(1, Reasons.NO_LOBBY)]);
  // Already in a lobby; only host can seal; sealed lobby; seal complete after 10 s.
  h = harness({}, [G + 1, G + 2, G + 3]);
  for (const k of [1, 2, 3, 4]) h.open(k);
  h.text(1, j(0, 0));
  h.text(2, j(0, 0, "L1"));
  h.text(3, j(0, 0, "L1"));
  assertEquals(h.text(3, j(0, 0, "L1"))[0], close(3, Reasons.ALREADY_IN_LOBBY));
  assertEquals(h.text(2, j(7, 0))[0], close(2, Reasons.ONLY_HOST_CAN_SEAL));
  h.open(5);
  h.text(5, j(0, 0, "L1"));
  h.at(50);
  h.text(1, j(7, 0));
  assertEquals(h.text(4, j(0, 0, "L1")), [close(4, Reasons.LOBBY_IS_SEALED)]);
  assertEquals(nextDeadline(h.state, h.env.limits), 50 + DEFAULT_LIMITS.sealTimeoutMs);
  h.at(50 + DEFAULT_LIMITS.sealTimeoutMs);
  assertEquals(h.tick(), [
    close(1, Reasons.SEAL_COMPLETE, 1000),
    close(5, Reasons.SEAL_COMPLETE, 1000),
  ]);
  // Too many lobbies, too many peers (Godot's defaults are the defaults; both configurable).
  assertEquals([DEFAULT_LIMITS.maxLobbies, DEFAULT_LIMITS.maxPeers], [1024, 4096]);
  h = harness({ maxLobbies: 1, maxPeers: 3 });
  for (const k of [1, 2, 3]) h.open(k);
  assertEquals(h.open(4), [close(4, Reasons.TOO_MANY_PEERS)]);
  h.text(1, j(0, 1));
  assertEquals(h.text(2, j(0, 0)), [close(2, Reasons.TOO_MANY_LOBBIES)]);
  // Binary frames.
  assertEquals(h.binary(3), [close(3, Reasons.INVALID_TRANSFER_MODE)]);
  // Host leaving.
  h = harness({}, [G + 1]);
  h.open(1);
  h.open(2);
  h.text(1, j(0, 1));
  h.text(2, j(0, 0, "L1"));
  assertEquals(h.closed(1), [close(2, Reasons.HOST_DISCONNECTED)]);
});

Deno.test("member id ranges split the id space between the protocols", () => {
  const [l3, h3] = memberIdRange("godot3");
  const [l4, h4] = memberIdRange("godot4");
  assertEquals([l3, h3 + 1, h4], [2, l4, 2147483647]);
  // With real randomness every join finds an id of its range.
  const h = harness();
  (h.env as { memberIds: MemberIds }).memberIds = permutedMemberIds;
  for (let k = 1; k <= 200; k++) h.open(k);
  h.text(1, "J: \n");
  for (let k = 2; k <= 200; k++) h.text(k, k % 2 ? "J: L1\n" : j(0, 0, "L1"));
  for (const c of h.state.connections.values()) {
    if (c.id === 1) continue;
    assert(c.protocol === "godot4" ? c.id >= l4 : c.id <= h3, `${c.protocol} ${c.id}`);
  }
  assertEquals(h.state.lobbies.get("L1")?.members.length, 200);
});

Deno.test("the rate limit scales with the peers a connection signals: a client/server host answers every client at once", () => {
  const h = harness({ rateLimit: { messages: 2, intervalMs: 1000 } }, [G + 1, G + 2, G + 3]);
  for (const k of [1, 2, 3, 4]) h.open(k);
  h.text(1, j(0, 1));
  for (const k of [2, 3, 4]) h.text(k, j(0, 0, "L1"));
  h.at(1000);
  // A client signals the host alone: 2 frames a second.
  assertEquals(h.text(4, j(4, 1, "o")).length, 1);
  assertEquals(h.text(4, j(4, 1, "o")).length, 1);
  assertEquals(h.text(4, j(4, 1, "o"))[0], close(4, Reasons.TOO_MANY_MESSAGES));
  h.closed(4);
  // The host signals its 2 clients: 2 x 2 frames.
  for (const c of [G + 1, G + 2]) {
    assertEquals(h.text(1, j(5, c, "a")).length, 1);
    assertEquals(h.text(1, j(6, c, "\n0\n0\nc")).length, 1);
  }
  assertEquals(h.text(1, j(6, G + 1, "\n0\n0\nc"))[0], close(1, Reasons.TOO_MANY_MESSAGES));
});

Deno.test("a lobby that has handed out every id of a protocol's range is full for that protocol only", () => {
  const h = harness({}, [G + 5]);
  for (const k of [1, 2, 3, 4]) h.open(k);
  h.text(1, "J: \n");
  const lobby = h.state.lobbies.get("L1")!;
  const [low, high] = memberIdRange("godot3");
  // 2^30 - 2 joins are out of a test's reach: the count is set as they would have left it.
  const state = {
    ...h.state,
    lobbies: (h.state.lobbies as PersistentMap<string, Lobby>).with("L1", {
      ...lobby,
      handedOut: { godot3: high - low + 1, godot4: 0 },
    }),
  };
  const join = (s: ServerState, key: number, text: string) =>
    reduceServer(s, { type: "Text", key, text, bytes: text.length, now: 0 }, h.env);
  const [after3, effects3] = join(state, 2, "J: L1\n");
  assertEquals(effects3.filter((e) => e.type !== "Log"), [close(2, Reasons.LOBBY_FULL)]);
  const [, effects4] = join(after3, 3, j(0, 0, "L1"));
  assertEquals(effects4.filter((e) => e.type !== "Log")[0], send(3, j(1, G + 5, "true")));
});
