import { assert, assertEquals } from "@std/assert";
import {
  decodeWeb,
  driftPosition,
  encodeWeb,
  MAX_CHAT,
  peerColor,
  WebKind,
} from "../../web/protocol.ts";
import { decode as decodeDemo, encode as encodeDemo } from "../../demo/_wire.ts";

Deno.test("web protocol: every packet kind survives a round trip", () => {
  assertEquals(decodeWeb(encodeWeb({ kind: "chat", text: "héllo 👋" })), {
    kind: "chat",
    text: "héllo 👋",
  });
  assertEquals(decodeWeb(encodeWeb({ kind: "chat", text: "" })), { kind: "chat", text: "" });
  assertEquals(decodeWeb(encodeWeb({ kind: "dot", x: 0.25, y: 0.75 })), {
    kind: "dot",
    x: 0.25,
    y: 0.75,
  });
  assertEquals(decodeWeb(encodeWeb({ kind: "ping", time: 1234.5 })), {
    kind: "ping",
    time: 1234.5,
  });
  assertEquals(decodeWeb(encodeWeb({ kind: "pong", time: 0.125 })), { kind: "pong", time: 0.125 });
});

Deno.test("web protocol: chat is cut at MAX_CHAT characters, dots are clamped", () => {
  const long = decodeWeb(encodeWeb({ kind: "chat", text: "x".repeat(MAX_CHAT + 50) }));
  assertEquals(long, { kind: "chat", text: "x".repeat(MAX_CHAT) });
  assertEquals(decodeWeb(encodeWeb({ kind: "dot", x: -3, y: Number.NaN })), {
    kind: "dot",
    x: 0,
    y: 0,
  });
  assertEquals(decodeWeb(encodeWeb({ kind: "dot", x: 7, y: 1 })), { kind: "dot", x: 1, y: 1 });
});

Deno.test("web protocol: malformed packets decode to undefined", () => {
  assertEquals(decodeWeb(new Uint8Array([])), undefined);
  assertEquals(decodeWeb(new Uint8Array([WebKind.CHAT, 0xff, 0xfe])), undefined); // bad UTF-8
  assertEquals(decodeWeb(new Uint8Array([WebKind.DOT, 0, 0])), undefined);
  const outside = encodeWeb({ kind: "dot", x: 0, y: 0 });
  new DataView(outside.buffer).setFloat32(1, 2);
  assertEquals(decodeWeb(outside), undefined);
  assertEquals(decodeWeb(new Uint8Array([WebKind.PING, 1, 2])), undefined);
  assertEquals(decodeWeb(new Uint8Array([99])), undefined);
});

Deno.test("web protocol: pings are the terminal demo's pings (both demos answer each other)", () => {
  const ours = encodeWeb({ kind: "ping", time: 42.5 });
  assertEquals(decodeDemo(ours), { kind: "ping", time: 42.5 });
  assertEquals(decodeWeb(encodeDemo({ kind: "pong", time: 42.5 })), { kind: "pong", time: 42.5 });
  // The terminal demo's numbered data packets are not web packets.
  assertEquals(decodeWeb(encodeDemo({ kind: "data", channel: 0, seq: 1 })), undefined);
});

Deno.test("web protocol: colours are stable and drift stays on the field", () => {
  assertEquals(peerColor(123), peerColor(123));
  assert(/^hsl\(\d+ 72% \d+%\)$/.test(peerColor(2147483647)));
  for (const id of [1, 2, 999, 2147483647]) {
    for (let t = 0; t < 60000; t += 777) {
      const { x, y } = driftPosition(id, t);
      assert(x >= 0 && x <= 1 && y >= 0 && y <= 1, `${id} at ${t}: ${x},${y}`);
    }
  }
});
