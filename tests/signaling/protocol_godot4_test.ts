import { assertEquals } from "@std/assert";
import {
  formatClientMessage4,
  formatServerMessage4,
  MessageType,
  parseClientMessage4,
  parseServerMessage4,
} from "../../signaling/protocol_godot4.ts";
import { decodeClient, detectProtocol, encodeServer } from "../../signaling/codec.ts";
import { type ClientMessage, Reasons, type ServerMessage } from "../../signaling/protocol.ts";
import { SERVER_MESSAGES } from "./_messages.ts";

const j = (type: number, id: number, data = "") => JSON.stringify({ type, id, data });

Deno.test("godot4 types are the demo's", () => {
  assertEquals(Object.values(MessageType), [0, 1, 2, 3, 4, 5, 6, 7]);
});

Deno.test("godot4 client messages round-trip through format and parse", () => {
  const messages: ClientMessage[] = [
    { type: "join", lobby: "", mesh: true },
    { type: "join", lobby: "abc", mesh: false },
    { type: "seal" },
    { type: "relay", command: "O", dest: 1, payload: "v=0\r\n" },
    { type: "relay", command: "A", dest: 2147483647, payload: "" },
    { type: "relay", command: "C", dest: 5, payload: "0\n0\ncandidate:1 1 UDP 1 ::1 9 typ host" },
  ];
  for (const m of messages) {
    assertEquals(parseClientMessage4(formatClientMessage4(m)), { ok: true, value: m });
  }
  // The exact bytes Godot's client sends.
  assertEquals(formatClientMessage4({ type: "join", lobby: "L" }), j(0, 0, "L"));
  assertEquals(formatClientMessage4({ type: "seal" }), j(7, 0));
  assertEquals(
    formatClientMessage4({ type: "relay", command: "C", dest: 3, payload: "0\n1\nc" }),
    j(6, 3, "\n0\n1\nc"),
  );
});

Deno.test("godot4 server messages round-trip through format and parse", () => {
  // Godot 4's ID says whether the lobby is a mesh.
  const messages: ServerMessage[] = SERVER_MESSAGES.map((m) =>
    m.type === "id" ? { ...m, mesh: true } : m
  );
  messages.push({ type: "id", id: 77, mesh: false });
  assertEquals(
    messages.map((m) => parseServerMessage4(formatServerMessage4(m))),
    messages.map((value) => ({ ok: true as const, value })),
  );
  assertEquals(formatServerMessage4({ type: "id", id: 1 }), j(1, 1, "true"));
  assertEquals(formatServerMessage4({ type: "id", id: 9, mesh: false }), j(1, 9));
  assertEquals(formatServerMessage4({ type: "joined", lobby: "L" }), j(0, 0, "L"));
  assertEquals(formatServerMessage4({ type: "sealed" }), j(7, 0));
});

Deno.test("parseServerMessage4 rejects what Godot's client would not act on", () => {
  for (
    const t of [
      "",
      "{",
      "[]",
      "null",
      j(8, 1),
      j(2, 0),
      j(3, 2147483648),
      '{"type":2,"id":5}', // Godot's client needs a string data
      '{"type":2,"id":5,"data":1}',
      '{"type":2.5,"id":5,"data":""}',
      j(6, 1, "\n0\ncandidate"), // 2 parts
      j(6, 1, "\n0\nx\ncandidate"), // index not an integer
      "I: 1\n", // Godot 3 frame
    ]
  ) {
    assertEquals(parseServerMessage4(t).ok, false, t);
  }
});

Deno.test("codec: detection by the first frame, translation both ways", () => {
  assertEquals(detectProtocol("J: \n"), "godot3");
  assertEquals(detectProtocol("S: \n"), "godot3");
  assertEquals(detectProtocol("garbage"), "godot3");
  assertEquals(detectProtocol(j(0, 0)), "godot4");
  assertEquals(detectProtocol(" \n{"), "godot4");
  assertEquals(decodeClient("godot4", "J: \n"), { ok: false, error: Reasons.INVALID_FORMAT });
  assertEquals(decodeClient("godot3", j(0, 0)), { ok: false, error: Reasons.INVALID_FORMAT });
  // A Godot 4 candidate loses its leading newline on the way in, and gets it back going out.
  const decoded = decodeClient("godot4", j(6, 9, "\n0\n0\nc"));
  assertEquals(decoded, {
    ok: true,
    value: { type: "relay", command: "C", dest: 9, payload: "0\n0\nc" },
  });
  const relay = { type: "relay", command: "C", from: 4, payload: "0\n0\nc" } as const;
  assertEquals(encodeServer("godot4", relay), j(6, 4, "\n0\n0\nc"));
  assertEquals(encodeServer("godot3", relay), "C: 4\n0\n0\nc");
  assertEquals(encodeServer("godot3", { type: "id", id: 4, mesh: true }), "I: 4\n");
  assertEquals(encodeServer("godot4", { type: "peer_disconnected", id: 4 }), j(3, 4));
});
