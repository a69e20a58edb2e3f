/**
 * A fake W3C peer connection for fault injection (the pure core has its own tests; real WebRTC is
 * the default everywhere else).
 *
 * @module
 */
import type { DataChannelInitLike, RTCDataChannelLike } from "../../effects/w3c.ts";

/** A fake data channel: records `close()` and lets the test fire events. */
export class FakeChannel extends EventTarget implements RTCDataChannelLike {
  readyState = "connecting";
  bufferedAmount = 0;
  binaryType = "blob";
  closed = false;
  sent: Uint8Array[] = [];
  readonly ordered: boolean;
  readonly maxPacketLifeTime: number | null;
  readonly id: number | null;
  constructor(readonly label: string, init: DataChannelInitLike) {
    super();
    this.ordered = init.ordered ?? true;
    this.maxPacketLifeTime = init.maxPacketLifeTime ?? null;
    this.id = init.id ?? null;
  }
  send(data: Uint8Array): void {
    this.sent.push(data);
  }
  close(): void {
    this.closed = true;
    this.readyState = "closed";
  }
  fire(type: string, state?: string): void {
    if (state) this.readyState = state;
    this.dispatchEvent(new Event(type));
  }
}

/** A fake connection; `failOnChannel` makes the n-th `createDataChannel` call throw. */
export class FakeConnection extends EventTarget {
  connectionState = "new";
  closed = false;
  channels: FakeChannel[] = [];
  constructor(readonly failOnChannel = -1) {
    super();
  }
  createDataChannel(label: string, init: DataChannelInitLike = {}): FakeChannel {
    if (this.channels.length === this.failOnChannel) throw new Error("SCTP stream limit reached");
    const ch = new FakeChannel(label, init);
    this.channels.push(ch);
    return ch;
  }
  /** As W3C says: the connection's channels become `"closed"` at once, without an event. */
  close(): void {
    this.closed = true;
    this.connectionState = "closed";
    for (const ch of this.channels) ch.readyState = "closed";
  }
  /** Moves to `state` and fires `connectionstatechange`. */
  become(state: string): void {
    this.connectionState = state;
    this.dispatchEvent(new Event("connectionstatechange"));
  }
  /** Connects and opens all channels. */
  connectAll(): void {
    this.become("connected");
    for (const ch of this.channels) ch.fire("open", "open");
  }
}
