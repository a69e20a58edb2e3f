/**
 * Shared by the property tests: event generators, and running reducer scripts with every input
 * state deep-frozen, checked unchanged after each step, each step kept for the properties.
 *
 * @module
 */
import fc from "fast-check";
import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import {
  CHANNEL_STATES,
  type ChannelState,
  type Effect,
  type Event,
  GodotError,
  initialState,
  type MeshState,
  PEER_CONNECTION_STATES,
  type PeerConnectionState,
  reduce,
} from "../../core/mod.ts";
import { renderEffect, renderEvent } from "./_scenario.ts";

/** Freezes a state deeply; the peer map's mutators throw. */
export function deepFreeze(state: MeshState): MeshState {
  const refuse = () => {
    throw new TypeError("reduce mutated its input state's peer map");
  };
  for (const name of ["set", "delete", "clear"]) {
    if (!Object.isFrozen(state.peers)) Object.defineProperty(state.peers, name, { value: refuse });
  }
  for (const peer of state.peers.values()) {
    Object.freeze(peer.channels);
    Object.freeze(peer);
  }
  Object.freeze(state.peers);
  return Object.freeze(state);
}

/** A plain structural copy (Map entries as arrays), for comparing before/after. */
function snapshot(state: MeshState): unknown {
  return {
    ...state,
    peers: [...state.peers.entries()].map(([k, v]) => [k, { ...v, channels: [...v.channels] }]),
  };
}

/** One reduced event. */
export interface Step {
  readonly event: Event;
  readonly before: MeshState;
  readonly after: MeshState;
  readonly effects: readonly Effect[];
}

/**
 * Whether `event` may follow `previous`: the interpreter reports `ChannelCreateFailed` only right
 * after the `AddPeerRequested` of the same id succeeded (it is the failure of that very add).
 */
export function possible(event: Event, previous: Step | undefined): boolean {
  if (event.type !== "ChannelCreateFailed") return true;
  return previous?.event.type === "AddPeerRequested" && previous.event.peerId === event.peerId &&
    previous.effects.some((e) => e.type === "CreateChannels");
}

/** Runs `events` from `start`, skipping impossible ones (see {@link possible}). */
export function run(events: readonly Event[], start: MeshState = initialState): Step[] {
  const steps: Step[] = [];
  let state = start;
  for (const event of events) {
    if (!possible(event, steps.at(-1))) continue;
    const before = deepFreeze(state);
    const copy = snapshot(before);
    const [after, effects] = reduce(before, event);
    assertEquals(snapshot(before), copy, `reduce mutated its input on ${renderEvent(event)}`);
    steps.push({ event, before, after, effects });
    state = after;
  }
  return steps;
}

/** The events that are requests (API calls): each gets exactly one `Reply`. */
export const REQUESTS = new Set<Event["type"]>([
  "InitializeRequested",
  "AddPeerRequested",
  "RemovePeerRequested",
  "CloseRequested",
  "RefuseNewConnectionsSet",
  "TransferModeSet",
  "TargetPeerSet",
  "CreateRequested",
  "DisconnectPeerRequested",
  "TransferChannelSet",
]);

/** A step, rendered for assertion messages. */
export function where(s: Step): string {
  return `${renderEvent(s.event)} -> ${s.effects.map(renderEffect).join(", ")}`;
}

/**
 * A request gets exactly one `Reply`, last; a rejection keeps the very same state, has no other
 * effect and says why; `ChannelCreateFailed` replies `FAILED` for a peer it removes; observations
 * never reply, and those of unknown peers change nothing.
 */
export function assertReplies(s: Step): void {
  const replies = s.effects.filter((e) => e.type === "Reply");
  if (REQUESTS.has(s.event.type)) {
    assertEquals(replies.length, 1, `one Reply: ${where(s)}`);
    const reply = replies[0];
    assert(reply.type === "Reply");
    assertStrictEquals(s.effects.at(-1), reply, `Reply comes last: ${where(s)}`);
    if (reply.error !== GodotError.OK) {
      assertStrictEquals(s.after, s.before, `rejection changed state: ${where(s)}`);
      assertEquals(s.effects.length, 1, `rejection has side effects: ${where(s)}`);
      assert(reply.message.length > 0, `rejection without a reason: ${where(s)}`);
    } else {
      assertEquals(reply.message, "");
    }
  } else if (s.event.type === "ChannelCreateFailed") {
    const had = s.before.peers.has(s.event.peerId);
    assertEquals(replies.length, had ? 1 : 0, where(s));
    if (had) assert(replies[0].type === "Reply" && replies[0].error === GodotError.FAILED);
    assert(!s.after.peers.has(s.event.peerId));
  } else {
    assertEquals(replies.length, 0, `an observation replied: ${where(s)}`);
    const id = (s.event as { peerId: number }).peerId;
    if (!s.before.peers.has(id)) {
      assertStrictEquals(s.after, s.before, `late event: ${where(s)}`);
    }
  }
}

/**
 * `peer_connected`/`peer_disconnected` alternate per id and match the `announced` flags (except
 * where a rule removes silently: `close()`, a forced `disconnectPeer`).
 */
export function assertSignalsAlternate(steps: readonly Step[]): void {
  const up = new Set<number>();
  for (const s of steps) {
    if (s.event.type === "CloseRequested") up.clear(); // close() emits no signals (rule 8)
    // Godot 4's disconnectPeer(id, true) removes the peer without a signal (rule 13).
    if (s.event.type === "DisconnectPeerRequested" && !s.after.peers.has(s.event.peerId)) {
      up.delete(s.event.peerId);
    }
    for (const e of s.effects) {
      if (e.type !== "Emit" || e.peerId === undefined) continue;
      if (e.signal === "peer_connected") {
        assert(!up.has(e.peerId), `peer_connected(${e.peerId}) twice: ${where(s)}`);
        up.add(e.peerId);
      } else {
        assert(up.has(e.peerId), `peer_disconnected(${e.peerId}) before connect: ${where(s)}`);
        up.delete(e.peerId);
      }
    }
    const announced = [...s.after.peers.values()].filter((p) => p.announced).map((p) => p.id);
    assertEquals(announced.sort(), [...up].sort(), `announced flags vs signals: ${where(s)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Generators

/** Observations of peers `obsId` names, on channels `channelIndex` names, in any order. */
export function observations(
  obsId: fc.Arbitrary<number>,
  channelIndex: fc.Arbitrary<number>,
): fc.Arbitrary<Event> {
  return fc.oneof(
    {
      arbitrary: fc.record({
        type: fc.constant("ConnectionStateChanged"),
        peerId: obsId,
        state: fc.oneof(
          { arbitrary: fc.constant<PeerConnectionState>("connected"), weight: 4 },
          { arbitrary: fc.constantFrom(...PEER_CONNECTION_STATES), weight: 3 },
        ),
      }),
      weight: 4,
    },
    {
      arbitrary: fc.record({
        type: fc.constant("ChannelStateChanged"),
        peerId: obsId,
        channel: channelIndex,
        state: fc.oneof(
          { arbitrary: fc.constant<ChannelState>("open"), weight: 6 },
          { arbitrary: fc.constantFrom(...CHANNEL_STATES), weight: 2 },
        ),
      }),
      weight: 8,
    },
    {
      arbitrary: fc.record({
        type: fc.constant("ChannelErrored"),
        peerId: obsId,
        channel: channelIndex,
        message: fc.constant("OperationError"),
      }),
      weight: 1,
    },
  ) as fc.Arbitrary<Event>;
}

/**
 * A peer (id 1..`maxId`) becoming ready in one go: connection connected, channels 0..`channels-1`
 * open (`connect`); and the same after a proper `addPeer` (`join`).
 */
export function bursts(
  maxId: number,
  channels: number,
): { connect: fc.Arbitrary<Event[]>; join: fc.Arbitrary<Event[]> } {
  const connect = fc.integer({ min: 1, max: maxId }).map((peerId): Event[] => [
    { type: "ConnectionStateChanged", peerId, state: "connected" },
    ...Array.from({ length: channels }, (_, channel): Event => ({
      type: "ChannelStateChanged",
      peerId,
      channel,
      state: "open",
    })),
  ]);
  const join = connect.map((events): Event[] => [
    {
      type: "AddPeerRequested",
      peerId: (events[0] as { peerId: number }).peerId,
      lifetime: 1,
      connection: { w3c: true, state: "new", description: "RTCPeerConnection" },
    },
    ...events,
  ]);
  return { connect, join };
}

/**
 * An `addPeer` request, sometimes followed by the `createDataChannel` failure the interpreter
 * reports right after the add it belongs to.
 */
export function withCreateFailure(
  add: fc.Arbitrary<{ peerId: unknown }>,
): fc.Arbitrary<Event[]> {
  return fc.tuple(
    add,
    fc.oneof({ arbitrary: fc.constant(false), weight: 9 }, {
      arbitrary: fc.constant(true),
      weight: 1,
    }),
  ).map(([event, fails]): Event[] =>
    fails && typeof event.peerId === "number"
      ? [event as Event, { type: "ChannelCreateFailed", peerId: event.peerId, message: "threw" }]
      : [event as Event]
  );
}
