/**
 * The watch over one connection's setup (`_session.ts`): it succeeds once the connection reaches
 * `"connected"`, and fails when the connection ends before (`"failed"`, `"disconnected"` or
 * `"closed"`) or is not connected `timeoutMs` into its setup. A failure is reported once, with what
 * happened; the session decides what follows (a retry, or giving up). `stop()` ends the watch when
 * the session forgets the connection.
 *
 * @module
 */
import { isConnectionEnded } from "../core/state.ts";
import type { ClientPeerConnection } from "./_session_types.ts";

/** Watches `pc`'s setup from now on; see the module doc. */
export class SetupWatch {
  #pc: ClientPeerConnection;
  #onFailed: (reason: string) => void;
  #timer: ReturnType<typeof setTimeout>;
  #connected = false;
  #failed = false;
  #stopped = false;
  #onState = () => this.#checkState();

  /**
   * `onFailed(reason)` is called at most once, `reason` saying what happened (e.g. "failed during
   * setup"), unless the connection connected first or the watch was stopped.
   */
  constructor(pc: ClientPeerConnection, timeoutMs: number, onFailed: (reason: string) => void) {
    this.#pc = pc;
    this.#onFailed = onFailed;
    pc.addEventListener("connectionstatechange", this.#onState);
    this.#timer = setTimeout(
      () => this.#fail(`not connected ${timeoutMs} ms into its setup`),
      timeoutMs,
    );
  }

  /** Whether the connection reached `"connected"` (it is then never set up again). */
  get connected(): boolean {
    return this.#connected;
  }

  /** Whether its setup was seen failing (reported once). */
  get failed(): boolean {
    return this.#failed;
  }

  /** Ends the watch: no further report. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#pc.removeEventListener("connectionstatechange", this.#onState);
  }

  #checkState(): void {
    if (this.#stopped) return;
    const state = this.#pc.connectionState;
    if (state === "connected") {
      this.#connected = true;
      clearTimeout(this.#timer);
    }
    if (isConnectionEnded(state)) this.#fail(`${state} during setup`);
  }

  #fail(reason: string): void {
    if (this.#stopped || this.#connected || this.#failed) return;
    this.#failed = true;
    clearTimeout(this.#timer);
    this.#onFailed(reason);
  }
}
