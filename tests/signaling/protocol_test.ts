import { assertEquals } from "@std/assert";
import {
  formatCandidate,
  formatClientMessage,
  formatServerMessage,
  parseClientMessage,
  parsePeerId,
  parseServerMessage,
  Reasons,
} from "../../signaling/protocol.ts";
import { SERVER_MESSAGES } from "./_messages.ts";

Deno.test("parseClientMessage: every command", () => {
  assertEquals(parseClientMessage("J: \n"), { ok: true, value: { type: "join", lobby: "" } });
  assertEquals(parseClientMessage("J: abc \n"), {
    ok: true,
    value: { type: "join", lobby: "abc" },
  });
  assertEquals(parseClientMessage("S: \n"), { ok: true, value: { type: "seal" } });
  assertEquals(parseClientMessage("O: 1\nv=0\r\no=- 1\r\n"), {
    ok: true,
    value: { type: "relay", command: "O", dest: 1, payload: "v=0\r\no=- 1\r\n" },
  });
  assertEquals(parseClientMessage("A: 2147483647\nsdp"), {
    ok: true,
    value: { type: "relay", command: "A", dest: 2147483647, payload: "sdp" },
  });
  assertEquals(parseClientMessage("C: 5\n0\n0\ncandidate:1 1 UDP 1 127.0.0.1 9 typ host"), {
    ok: true,
    value: {
      type: "relay",
      command: "C",
      dest: 5,
      payload: "0\n0\ncandidate:1 1 UDP 1 127.0.0.1 9 typ host",
    },
  });
});

Deno.test("parseClientMessage: every error", () => {
  const bad = (text: string, error: string) =>
    assertEquals(parseClientMessage(text), { ok: false, error }, JSON.stringify(text));
  bad("", Reasons.INVALID_FORMAT);
  bad("J: abc", Reasons.INVALID_FORMAT); // no newline
  bad("J:\n", Reasons.INVALID_FORMAT); // command line shorter than 3
  bad("\n", Reasons.INVALID_FORMAT);
  bad("X: 2\n", Reasons.INVALID_CMD);
  bad("j: \n", Reasons.INVALID_CMD);
  bad("I: 2\n", Reasons.INVALID_CMD); // server-only command
  bad("O: \nsdp", Reasons.INVALID_DEST);
  bad("O: abc\nsdp", Reasons.INVALID_DEST);
  bad("A: 0\nsdp", Reasons.INVALID_DEST);
  bad("C: -3\nx", Reasons.INVALID_DEST);
  bad("C: 2147483648\nx", Reasons.INVALID_DEST);
  bad("O: 5x\nsdp", Reasons.INVALID_DEST);
});

Deno.test("parsePeerId accepts 1..2^31-1 in plain decimal only", () => {
  assertEquals(parsePeerId("1"), 1);
  assertEquals(parsePeerId("2147483647"), 2147483647);
  for (const t of ["", "0", "-1", "+1", "1.5", "1e3", "2147483648", "99999999999", " 1"]) {
    assertEquals(parsePeerId(t), undefined, t);
  }
});

Deno.test("format functions produce the demo's exact bytes", () => {
  assertEquals(formatClientMessage({ type: "join", lobby: "" }), "J: \n");
  assertEquals(formatClientMessage({ type: "join", lobby: "L" }), "J: L\n");
  assertEquals(formatClientMessage({ type: "seal" }), "S: \n");
  assertEquals(
    formatClientMessage({ type: "relay", command: "O", dest: 3, payload: "x" }),
    "O: 3\nx",
  );
  assertEquals(formatServerMessage({ type: "id", id: 1 }), "I: 1\n");
  assertEquals(formatServerMessage({ type: "joined", lobby: "L" }), "J: L\n");
  assertEquals(formatServerMessage({ type: "peer_connected", id: 9 }), "N: 9\n");
  assertEquals(formatServerMessage({ type: "peer_disconnected", id: 9 }), "D: 9\n");
  assertEquals(formatServerMessage({ type: "sealed" }), "S: \n");
  assertEquals(formatServerMessage({ type: "offer", from: 2, sdp: "s" }), "O: 2\ns");
  assertEquals(formatServerMessage({ type: "answer", from: 2, sdp: "s" }), "A: 2\ns");
  assertEquals(
    formatServerMessage({ type: "candidate", from: 2, mid: "0", index: 0, candidate: "c" }),
    "C: 2\n0\n0\nc",
  );
  assertEquals(formatCandidate(1, "data", 3, "c"), "C: 1\ndata\n3\nc");
});

Deno.test("parseServerMessage round-trips every server message", () => {
  for (const m of SERVER_MESSAGES) {
    assertEquals(parseServerMessage(formatServerMessage(m)), { ok: true, value: m });
  }
});

Deno.test("parseServerMessage rejects what the demo client ignores", () => {
  for (
    const t of [
      "I: 1", // no newline
      "I:\n",
      "X: 1\n",
      "N: abc\n",
      "D: 0\n",
      "C: 1\n0\ncandidate", // 2 parts
      "C: 1\n0\nx\ncandidate", // index not an integer
      "C: 1\n\n0\ncandidate", // empty mid is dropped by the demo's split: 2 parts
    ]
  ) {
    assertEquals(parseServerMessage(t).ok, false, JSON.stringify(t));
  }
});
