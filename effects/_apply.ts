/**
 * How the interpreter (`./interpreter.ts`) carries out each of the reducer's effects: the verbs of
 * `core/effects.ts` done on the connections and channels (`./_links.ts`), the reconnect journals
 * (`./_journal.ts`), the inbound queue and the signals. No rule lives here: each effect is done as
 * it says, and what the stack reports back goes to the reducer again ({@link EffectHost.observe}).
 *
 * @module
 */
import type { GodotError } from "../core/constants.ts";
import type { Effect, SignalName } from "../core/effects.ts";
import type { Observation } from "../core/events.ts";
import { encodeBeacon } from "../core/liveness.ts";
import { reliableChannels } from "../core/reconnect.ts";
import type { MeshState } from "../core/state.ts";
import type { Journals } from "./_journal.ts";
import type { Link, Links } from "./_links.ts";
import type { RTCPeerConnectionLike } from "./w3c.ts";

/** What carrying out an effect needs from the interpreter. */
export interface EffectHost {
  /** The connections and channels by peer id. */
  links(): Links;
  /** The reconnect journals by peer id. */
  journals(): Journals;
  /** The reducer's state after the event whose effects these are. */
  state(): MeshState;
  /** The connection of the `addPeer`/`replacePeer` call being reduced. */
  adding(): RTCPeerConnectionLike | undefined;
  /** An observation of `link` for the reducer (reduced now, or at the next `poll()`). */
  observe(link: Link, event: Observation): void;
  /** Drops the queued packets and pending observations and ends the `packets()` readers. */
  dropPackets(): void;
  /** Queues a signal, dispatched once the reducer is idle. */
  emit(signal: SignalName, peerId: number | undefined): void;
  /** The reply of the request being reduced. */
  reply(error: GodotError, message: string): void;
}

/** Carries out one effect of the reducer. */
export function applyEffect(host: EffectHost, effect: Effect): void {
  const links = host.links();
  const journals = host.journals();
  switch (effect.type) {
    case "CreateChannels":
      links.create(
        host.adding()!,
        effect.peerId,
        effect.channels,
        effect.turn,
        host.state().channelsConfig,
      );
      if ((host.state().liveness.graceMs ?? null) !== null) {
        journals.open(effect.peerId, reliableChannels(host.state().channelsConfig));
      }
      return;
    case "ReplaceConnection":
      links.replace(
        host.adding()!,
        effect.peerId,
        effect.channels,
        effect.liveness,
        host.state().channelsConfig,
      );
      journals.hold(effect.peerId);
      return;
    case "HoldPeer":
      journals.hold(effect.peerId);
      return;
    case "ResendJournal":
      links.releaseReplaced(effect.peerId);
      journals.get(effect.peerId)?.resendFrom(effect.from);
      journals.flush(effect.peerId, links.get(effect.peerId)?.channels);
      return;
    case "AckJournal":
      journals.get(effect.peerId)?.ack(effect.counts);
      return;
    case "CloseConnection": {
      const link = links.get(effect.peerId);
      if (link === undefined) return;
      try {
        link.connection.close();
      } catch {
        // Already closed: its state says so below.
      }
      // A W3C connection closed locally fires no event: observe what we did.
      host.observe(link, {
        type: "ConnectionStateChanged",
        peerId: effect.peerId,
        state: "closed",
      });
      return;
    }
    case "ClosePeer":
      links.close(effect.peerId, true);
      journals.delete(effect.peerId);
      return;
    case "DiscardChannels":
      links.close(effect.peerId, false);
      journals.delete(effect.peerId);
      return;
    case "CreateLivenessChannel":
      links.createLiveness(effect.peerId, effect.channel);
      return;
    case "SendBeacons": {
      const bytes = encodeBeacon(effect.kind);
      for (const id of effect.peerIds) {
        const channel = links.get(id)?.liveness;
        if (channel?.readyState !== "open") continue;
        try {
          // With reconnect, each beacon carries our received counts (core/reconnect.ts, R1).
          channel.send(journals.beacon(id, bytes));
        } catch {
          // Closing under us: its close event says so.
        }
      }
      return;
    }
    case "DropPackets":
      host.dropPackets();
      return;
    case "Emit":
      host.emit(effect.signal, effect.peerId);
      return;
    case "Reply":
      host.reply(effect.error, effect.message);
      return;
    default: {
      const unknown: never = effect;
      throw new Error(`unknown effect ${JSON.stringify(unknown)}`);
    }
  }
}
