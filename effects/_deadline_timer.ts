/**
 * The interpreter's one timer, the sans-IO way: the reducer's state exposes its next deadline
 * (`livenessDeadline`), the interpreter sets this timer for it after every drain, and when it
 * fires the interpreter feeds a `TimePassed(now)` event. Never one timer per peer.
 *
 * @module
 */

/** One timer kept on a deadline (clock ms, `performance.now()`); re-armed only when it moves. */
export class DeadlineTimer {
  readonly #onDue: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt: number | null = null;

  /** A timer that calls `onDue` when the deadline it is armed for is reached. */
  constructor(onDue: () => void) {
    this.#onDue = onDue;
  }

  /** Sets the timer for `due`, or clears it for `null`; a deadline it is already set for is kept. */
  arm(due: number | null): void {
    if (due === this.#timerAt) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = due;
    if (due === null) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = null;
      this.#onDue();
    }, Math.max(0, due - performance.now()));
  }
}
