/**
 * The interpreter's reducer loop (`./interpreter.ts`): it holds the reducer's state and runs an
 * event, and every event its effects cause, through {@link reduce} one at a time: an event that
 * arrives while effects are being applied waits in the work queue, so the reducer is never
 * re-entered. Signals the effects raise wait in their own queue and are dispatched once the drain
 * has ended, so a listener sees the settled state and may call the API again.
 *
 * Beacons are batched: those received in one turn of the event loop wait in {@link beacon}'s list
 * and enter the reducer as one `BeaconsReceived` at the end of the turn (a microtask), or at once
 * before any other event, so the order of events stays the order they arrived in (liveness rule
 * L3; one reducer step per batch, not per beacon).
 *
 * @module
 */
import type { Effect } from "../core/effects.ts";
import type { BeaconReceipt, Event as MeshEvent } from "../core/events.ts";
import { reduce } from "../core/reduce.ts";
import type { MeshState } from "../core/state.ts";

/** What the loop needs from the interpreter that owns it. */
export interface LoopHost {
  /** The event as the reducer is to see it (the interpreter adds what only it knows). */
  prepare(event: MeshEvent): MeshEvent;
  /** Carries out one of the reducer's effects (`./_apply.ts`). */
  apply(effect: Effect): void;
  /** Called when a drain has ended, before its signals are dispatched. */
  settled(): void;
  /** Dispatches one signal to the listeners. */
  dispatch(signal: Event): void;
}

/** The reducer's state, the work queue and the signal queue. */
export class ReducerLoop {
  #state: MeshState;
  readonly #host: LoopHost;
  /** Events waiting for the reducer while an earlier one's effects are applied. */
  #work: MeshEvent[] = [];
  #draining = false;
  /** Signals waiting to be dispatched once the reducer is idle. */
  #signals: Event[] = [];
  #firing = false;
  /** Beacons received this turn, not yet reduced. */
  #beacons: BeaconReceipt[] = [];

  /** A loop starting from `initial`. */
  constructor(initial: MeshState, host: LoopHost) {
    this.#state = initial;
    this.#host = host;
  }

  /** The reducer's current state. */
  get state(): MeshState {
    return this.#state;
  }

  /** Queues an event for the drain under way (or the next one), without starting a drain. */
  defer(event: MeshEvent): void {
    this.#takeBeacons();
    this.#work.push(event);
  }

  /** A beacon received: reduced with the rest of its turn at the end, or before any later event. */
  beacon(receipt: BeaconReceipt): void {
    if (this.#beacons.length === 0) queueMicrotask(() => this.flushBeacons());
    this.#beacons.push(receipt);
  }

  /** Reduces the beacons received and not yet reduced, if any, as one event. */
  flushBeacons(): void {
    if (this.#beacons.length === 0) return;
    this.#takeBeacons();
    this.#drain();
  }

  /** Moves the waiting beacons to the work queue as one `BeaconsReceived`. */
  #takeBeacons(): void {
    if (this.#beacons.length === 0) return;
    this.#work.push({ type: "BeaconsReceived", receipts: this.#beacons });
    this.#beacons = [];
  }

  /** Queues a signal, dispatched once the reducer is idle. */
  signal(signal: Event): void {
    this.#signals.push(signal);
  }

  /**
   * Runs an event (after the beacons still waiting) and everything it causes through the reducer,
   * then fires the signals.
   */
  run(event: MeshEvent): void {
    this.#takeBeacons();
    this.#work.push(event);
    this.#drain();
  }

  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (let next = this.#work.shift(); next !== undefined; next = this.#work.shift()) {
        const [state, effects] = reduce(this.#state, this.#host.prepare(next));
        this.#state = state;
        for (const effect of effects) this.#host.apply(effect);
      }
    } finally {
      this.#draining = false;
    }
    this.#host.settled();
    this.#fireSignals();
  }

  #fireSignals(): void {
    if (this.#firing) return;
    this.#firing = true;
    try {
      for (let s = this.#signals.shift(); s !== undefined; s = this.#signals.shift()) {
        this.#host.dispatch(s);
      }
    } finally {
      this.#firing = false;
    }
  }
}
