import { assert, assertEquals } from "@std/assert";
import {
  DEFAULT_LIMITS,
  type MemberIds,
  nextDeadline,
  permutedMemberIds,
  randomLobbyName,
} from "../../signaling/lobby.ts";
import { Reasons } from "../../signaling/protocol.ts";
import { assertFirstFrameRefused, close, harness, send } from "./_lobby_harness.ts";

/** Host (key 1) creates L1, key 2 joins as 100, key 3 joins as 101. */
function lobbyOfThree() {
  const h = harness();
  h.open(1);
  h.open(2);
  h.open(3);
  h.text(1, "J: \n");
  h.text(2, "J: L1\n");
  h.text(3, "J: L1\n");
  return h;
}

Deno.test("join: empty lobby creates one, creator is host id 1", () => {
  const h = harness();
  assertEquals(h.open(1), []);
  assertEquals(h.text(1, "J: \n"), [send(1, "I: 1\n"), send(1, "J: L1\n")]);
  assertEquals(h.state.lobbies.get("L1")?.members, [1]);
});

Deno.test("join: I, then N both ways for every member, then J", () => {
  const h = harness();
  h.open(1);
  h.open(2);
  h.open(3);
  h.text(1, "J: \n");
  assertEquals(h.text(2, "J: L1\n"), [
    send(2, "I: 100\n"),
    send(1, "N: 100\n"),
    send(2, "N: 1\n"),
    send(2, "J: L1\n"),
  ]);
  assertEquals(h.text(3, "J:  L1 \n"), [
    send(3, "I: 101\n"),
    send(1, "N: 101\n"),
    send(3, "N: 1\n"),
    send(2, "N: 101\n"),
    send(3, "N: 100\n"),
    send(3, "J: L1\n"),
  ]);
});

Deno.test("relay: sender's id replaces the destination; 1 means the host", () => {
  const h = lobbyOfThree();
  assertEquals(h.text(2, "O: 1\nv=0\r\n"), [send(1, "O: 100\nv=0\r\n")]);
  assertEquals(h.text(1, "A: 100\nsdp"), [send(2, "A: 1\nsdp")]);
  assertEquals(h.text(3, "C: 100\n0\n0\ncand"), [send(2, "C: 101\n0\n0\ncand")]);
  assertEquals(h.text(2, "C: 101\n"), [send(3, "C: 100\n")]);
});

Deno.test("relay: unknown, self and other-lobby destinations close the sender only", () => {
  const h = lobbyOfThree();
  h.open(4);
  h.text(4, "J: \n"); // L2, host key 4
  assertEquals(h.text(2, "O: 555\nx"), [
    close(2, Reasons.INVALID_DEST),
    send(1, "D: 100\n"),
    send(3, "D: 100\n"),
  ]);
  assertEquals(h.text(3, "O: 101\nx"), [close(3, Reasons.INVALID_DEST), send(1, "D: 101\n")]);
  // Host of L2 addressing 1 reaches itself: refused; L1's host is untouched.
  h.open(5);
  h.text(5, "J: L2\n");
  assertEquals(h.text(5, "O: 1\nx"), [send(4, "O: 102\nx")]);
  assertEquals(h.text(4, "O: 1\nx")[0], close(4, Reasons.INVALID_DEST));
  assertEquals(h.state.lobbies.has("L1"), true);
});

Deno.test("relay: to a member that left is dropped, the sender stays (it had not seen D: yet)", () => {
  const h = lobbyOfThree(); // host key 1, members 100 (key 2) and 101 (key 3)
  assertEquals(h.text(3, "C: 100\n0\n0\ncand"), [send(2, "C: 101\n0\n0\ncand")]);
  assertEquals(h.closed(2), [send(1, "D: 100\n"), send(3, "D: 100\n")]);
  // 101's candidate and answer for 100 crossed its D: on the way: dropped, nobody closed.
  assertEquals(h.text(3, "C: 100\n0\n0\ncand"), []);
  assertEquals(h.text(3, "A: 100\nsdp"), []);
  assertEquals(h.state.connections.has(3), true);
  // An id that never was in this lobby still closes the sender.
  assertEquals(h.text(3, "O: 555\nx")[0], close(3, Reasons.INVALID_DEST));
});

Deno.test("every malformed frame closes with 4000 and its reason", () => {
  const cases: [string, string][] = [
    ["J: x", Reasons.INVALID_FORMAT],
    ["J:\n", Reasons.INVALID_FORMAT],
    ["Q: 1\n", Reasons.INVALID_CMD],
    ["O: x\n", Reasons.INVALID_DEST],
    ["S: \n", Reasons.NEED_LOBBY],
    ["O: 1\nx", Reasons.NEED_LOBBY],
    ["J: nope\n", Reasons.LOBBY_DOES_NOT_EXISTS],
  ];
  assertFirstFrameRefused(cases);
});

Deno.test("binary frames: invalid transfer mode", () => {
  const h = harness();
  h.open(1);
  assertEquals(h.binary(1), [close(1, Reasons.INVALID_TRANSFER_MODE)]);
});

Deno.test("join twice: already in a lobby; host leaving then closes the rest", () => {
  const h = lobbyOfThree();
  assertEquals(h.text(2, "J: L1\n"), [
    close(2, Reasons.ALREADY_IN_LOBBY),
    send(1, "D: 100\n"),
    send(3, "D: 100\n"),
  ]);
  assertEquals(h.text(1, "J: \n"), [
    close(1, Reasons.ALREADY_IN_LOBBY),
    close(3, Reasons.HOST_DISCONNECTED),
  ]);
  assertEquals(h.state.lobbies.size, 0);
  assertEquals(h.state.connections.size, 0);
});

Deno.test("member leaves: D to the others; host leaves: everyone closed, lobby gone", () => {
  const h = lobbyOfThree();
  assertEquals(h.closed(3), [send(1, "D: 101\n"), send(2, "D: 101\n")]);
  assertEquals(h.closed(3), [], "a second close changes nothing");
  assertEquals(h.closed(1), [close(2, Reasons.HOST_DISCONNECTED)]);
  assertEquals(h.state.lobbies.size, 0);
  h.open(9);
  assertEquals(h.text(9, "J: L1\n"), [close(9, Reasons.LOBBY_DOES_NOT_EXISTS)]);
});

Deno.test("seal: host only; S to all; sealed lobby refuses joins; closed after timeout", () => {
  const h = lobbyOfThree();
  assertEquals(h.text(2, "S: \n"), [
    close(2, Reasons.ONLY_HOST_CAN_SEAL),
    send(1, "D: 100\n"),
    send(3, "D: 100\n"),
  ]);
  h.at(500);
  assertEquals(h.text(1, "S: \n"), [send(1, "S: \n"), send(3, "S: \n")]);
  assertEquals(h.text(1, "S: \n"), [], "sealing again changes nothing");
  h.open(4);
  assertEquals(h.text(4, "J: L1\n"), [close(4, Reasons.LOBBY_IS_SEALED)]);
  assertEquals(nextDeadline(h.state, h.env.limits), 500 + DEFAULT_LIMITS.sealTimeoutMs);
  h.at(500 + DEFAULT_LIMITS.sealTimeoutMs - 1);
  assertEquals(h.tick(), []);
  h.at(500 + DEFAULT_LIMITS.sealTimeoutMs);
  assertEquals(h.tick(), [
    close(1, Reasons.SEAL_COMPLETE, 1000),
    close(3, Reasons.SEAL_COMPLETE, 1000),
  ]);
  assertEquals(h.state.lobbies.size, 0);
  assertEquals(h.state.connections.size, 0);
});

Deno.test("join timeout: connections that never join are closed", () => {
  const h = harness({ joinTimeoutMs: 1000 });
  h.open(1);
  h.at(10);
  h.open(2);
  h.text(2, "J: \n");
  assertEquals(nextDeadline(h.state, h.env.limits), 1000);
  h.at(999);
  assertEquals(h.tick(), []);
  h.at(1000);
  assertEquals(h.tick(), [close(1, Reasons.NO_LOBBY)]);
  assertEquals(nextDeadline(h.state, h.env.limits), undefined);
});

Deno.test("limits: peers, lobbies, lobby size, frame size, rate", () => {
  let h = harness({ maxPeers: 2 });
  h.open(1);
  h.open(2);
  assertEquals(h.open(3), [close(3, Reasons.TOO_MANY_PEERS)]);
  h.closed(1);
  assertEquals(h.open(4), []);

  h = harness({ maxLobbies: 1 });
  h.open(1);
  h.open(2);
  h.text(1, "J: \n");
  assertEquals(h.text(2, "J: \n"), [close(2, Reasons.TOO_MANY_LOBBIES)]);

  h = harness({ maxLobbyPeers: 2 });
  for (const k of [1, 2, 3]) h.open(k);
  h.text(1, "J: \n");
  h.text(2, "J: L1\n");
  assertEquals(h.text(3, "J: L1\n"), [close(3, Reasons.LOBBY_FULL)]);

  h = lobbyOfThree();
  const big = "O: 1\n" + "x".repeat(65535 - 5);
  assertEquals(h.text(2, big).length, 1, "a 65535-byte frame is relayed");
  assertEquals(h.text(2, big + "x")[0], close(2, Reasons.MESSAGE_TOO_BIG), "65536 bytes is not");
  assertEquals(h.state.lobbies.get("L1")?.members, [1, 3]);

  h = harness({ rateLimit: { messages: 3, intervalMs: 1000 } });
  h.open(1);
  h.open(2);
  h.text(1, "J: \n");
  h.text(2, "J: L1\n");
  h.text(2, "C: 1\n");
  h.text(2, "C: 1\n");
  assertEquals(h.text(2, "C: 1\n")[0], close(2, Reasons.TOO_MANY_MESSAGES), "4th in the same ms");
  h.at(0);
  h.open(3);
  h.text(3, "J: L1\n");
  h.at(400); // 1.2 tokens regained
  assertEquals(h.text(3, "C: 1\n"), [send(1, "C: 101\n")]);
  assertEquals(h.text(3, "C: 1\n"), [send(1, "C: 101\n")]);
  assertEquals(h.text(3, "C: 1\n"), [send(1, "C: 101\n")]);
  assertEquals(h.text(3, "C: 1\n")[0], close(3, Reasons.TOO_MANY_MESSAGES));
});

Deno.test("ids are never reused while the lobby lives; frames to departed members are dropped, to ids never handed out refused", () => {
  // The default ids (a keyed permutation per lobby): 2000 members join and leave one by one.
  const h = harness({ rateLimit: { messages: 1e6, intervalMs: 1 } });
  (h.env as { memberIds: MemberIds }).memberIds = permutedMemberIds;
  h.open(1);
  h.text(1, "J: \n");
  const ids: number[] = [];
  for (let k = 2; k <= 2001; k++) {
    h.open(k);
    const id = Number(/^I: (\d+)\n$/.exec((h.text(k, "J: L1\n")[0] as { text: string }).text)![1]);
    assert(Number.isInteger(id) && id >= 2 && id < 2 ** 30, `${id}`);
    ids.push(id);
    if (k < 2001) h.closed(k);
  }
  assertEquals(new Set(ids).size, ids.length);
  // Not handed out in order: the ids spread over the range.
  assert(ids.some((id) => id > 2 ** 29) && ids.some((id) => id < 2 ** 29));
  const last = ids.at(-1)!;
  // Every departed member's id is known: the frame is dropped, the sender stays.
  for (const id of ids.slice(0, -1)) assertEquals(h.text(2001, `C: ${id}\nx`), []);
  assertEquals(h.text(1, `C: ${ids[0]}\nx`), []);
  assertEquals(h.text(2001, "C: 1\nx"), [send(1, `C: ${last}\nx`)]);
  // An id never handed out in the lobby closes the sender.
  const known = new Set(ids);
  let never = 2;
  while (known.has(never)) never++;
  assertEquals(h.text(2001, `C: ${never}\nx`), [
    close(2001, Reasons.INVALID_DEST),
    send(1, `D: ${last}\n`),
  ]);
  // A second lobby has its own key: its ids are another sequence.
  h.open(3000);
  h.open(3001);
  h.text(3000, "J: \n");
  const other = (h.text(3001, "J: L2\n")[0] as { text: string }).text;
  assert(other !== `I: ${ids[0]}\n`, other);
});

Deno.test("shutdown closes everyone with 1001", () => {
  const h = lobbyOfThree();
  h.open(4);
  assertEquals(h.shutdown(), [1, 2, 3, 4].map((k) => close(k, Reasons.SERVER_SHUTDOWN, 1001)));
  assertEquals(h.state.connections.size + h.state.lobbies.size, 0);
});

Deno.test("random lobby names are in range", () => {
  for (let i = 0; i < 1000; i++) {
    assert(/^[A-Za-z0-9]{16}$/.test(randomLobbyName()));
  }
});
