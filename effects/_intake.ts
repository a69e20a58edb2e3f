/**
 * How the stack's reports reach the reducer (for `./interpreter.ts`): an observation of a link
 * that is still its peer's is reduced at once (`autoPoll`) or queued for `poll()`; a report of a
 * link removed or replaced since is stale and dropped. Beacons are batched: those of one turn of
 * the event loop (`./_loop.ts`), or those in a row in `poll()`'s queue, are one `BeaconsReceived`,
 * and the beacons that carry counts get the journal as it is when the reducer sees them
 * ({@link withJournal}). The data messages heard and sent go in `TimePassed`
 * ({@link Intake.timePassed}), a resend's losses in `JournalOverflowed`. No rule lives here.
 *
 * @module
 */
import type { BeaconReceipt, Event as MeshEvent, Observation } from "../core/events.ts";
import type { Journals } from "./_journal.ts";
import type { Link, Links } from "./_links.ts";
import type { ReducerLoop } from "./_loop.ts";

/** The reports of the links, on their way to the reducer. */
export class Intake {
  readonly #loop: ReducerLoop;
  readonly #links: Links;
  readonly #autoPoll: boolean;
  /** Observations and beacons waiting for `poll()` (autoPoll off), with the link they came from. */
  #pending: Array<readonly [Observation | BeaconReceipt, Link]> = [];

  /** Reports of `links` for `loop`: reduced as they come (`autoPoll`) or at each {@link poll}. */
  constructor(loop: ReducerLoop, links: Links, autoPoll: boolean) {
    this.#loop = loop;
    this.#links = links;
    this.#autoPoll = autoPoll;
  }

  /** An observation from `link`: reduced now, or at the next `poll()`. */
  observe(link: Link, event: Observation): void {
    if (this.#links.get(event.peerId) !== link) return;
    if (this.#autoPoll) this.#loop.run(event);
    else this.#pending.push([event, link]);
  }

  /** A beacon from `link`: reduced with the others of this turn, or at the next `poll()`. */
  beacon(link: Link, receipt: BeaconReceipt): void {
    if (this.#links.get(receipt.peerId) !== link) return;
    if (this.#autoPoll) this.#loop.beacon(receipt);
    else this.#pending.push([receipt, link]);
  }

  /** Reduces what waited for `poll()`, in order: beacons in a row as one step. */
  poll(): void {
    const pending = this.#pending;
    this.#pending = [];
    for (const [event, link] of pending) {
      // A report of a connection that was removed (or replaced) since is stale.
      if (this.#links.get(event.peerId) !== link) continue;
      if ("type" in event) this.#loop.run(event);
      else this.#loop.beacon(event);
    }
    this.#loop.flushBeacons();
  }

  /**
   * `TimePassed`, with the latest data message of every peer heard from, and sent to, since the
   * last one (liveness rules L2, L4).
   */
  timePassed(): void {
    this.#loop.run({ type: "TimePassed", now: performance.now(), ...this.#links.report() });
  }

  /** `JournalOverflowed` for each peer whose resend lost a message it owed (reconnect rule R7). */
  journalsOverflowed(journals: Journals): void {
    for (const peerId of journals.lost.splice(0)) {
      this.#loop.run({ type: "JournalOverflowed", peerId });
    }
  }

  /** Forgets what waited for `poll()` (`close()` drops it). */
  clear(): void {
    this.#pending = [];
  }
}

/**
 * `event` as the reducer is to see it: beacons with counts carry the peer's journal span as it is
 * now (core/reconnect.ts, R2, R5).
 */
export function withJournal(journals: Journals, event: MeshEvent): MeshEvent {
  if (event.type !== "BeaconsReceived" || journals.size === 0) return event;
  return {
    ...event,
    receipts: event.receipts.map((receipt) => {
      if (receipt.counts === undefined) return receipt;
      const journal = journals.get(receipt.peerId)?.span();
      return journal === undefined ? receipt : { ...receipt, journal };
    }),
  };
}
