/**
 * Server messages of every kind, for the round-trip tests of both protocols' codecs.
 *
 * @module
 */
import type { ServerMessage } from "../../signaling/protocol.ts";

/** One message of every kind (ids without the Godot 4-only `mesh` flag). */
export const SERVER_MESSAGES: readonly ServerMessage[] = [
  { type: "id", id: 1 },
  { type: "joined", lobby: "abc" },
  { type: "peer_connected", id: 77 },
  { type: "peer_disconnected", id: 77 },
  { type: "sealed" },
  { type: "offer", from: 1, sdp: "v=0\r\n" },
  { type: "answer", from: 2, sdp: "v=0\r\n" },
  {
    type: "candidate",
    from: 3,
    mid: "0",
    index: 1,
    candidate: "candidate:1 1 UDP 1 ::1 9 typ host",
  },
];
