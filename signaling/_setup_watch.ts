/**
 * The watch over one connection's setup (`_session.ts`): it succeeds once the connection reaches
 * `"connected"`, and fails when the connection ends before (`"failed"`, `"disconnected"` or
 * `"closed"`) or is not connected `timeoutMs` into its setup. A failure is reported once, with what
 * happened; the session decides what follows (a retry, or giving up). `stop()` ends the watch when
 * the session forgets the connection.
 *
 * A connection whose ICE policy is `"relay"` fails as soon as its gathering completed without a
 * relay candidate: it has no candidate at all and can never connect, so waiting for the timeout
 * would only delay the retry. That happens when the TURN server refuses the allocation: wrong
 * credentials, or libjuice's 437 (Allocation Mismatch) for an allocation an earlier connection left
 * behind from the same address and port (README, the stack defects under "Reliability"). A TURN
 * server that does not answer at all is not caught this way: libjuice (node-datachannel) keeps
 * gathering for longer than any setup timeout, and the timeout reports it.
 *
 * Completion is `icegatheringstatechange` to `"complete"` or the end-of-candidates event (a null
 * or empty candidate); a relay candidate counts whether it came as an `icecandidate` event or is
 * in the local description (the stacks do not agree on the order of these events).
 *
 * @module
 */
import { isConnectionEnded } from "../core/state.ts";
import type { ClientPeerConnection } from "./_session_types.ts";
import type { IceCandidateLike } from "../adapters/loopback.ts";

/** What the watch needs to know of the connection's setup. */
export interface SetupWatchOptions {
  /** The setup timeout (`setupTimeoutMs`). */
  readonly timeoutMs: number;
  /**
   * The ICE policy the connection was asked for. The connection's own `getConfiguration()` wins
   * where it has one (a factory may make something else than what was asked).
   */
  readonly policy: string;
}

/** The reason a relay-only setup fails with when its gathering found no relay candidate. */
export const NO_RELAY_CANDIDATE =
  "gathered no relay candidate with policy relay: the TURN server refused or did not answer the allocation";

const RELAY = /\btyp relay\b/;

/** Watches `pc`'s setup from now on; see the module doc. */
export class SetupWatch {
  #pc: ClientPeerConnection;
  #onFailed: (reason: string) => void;
  #timer: ReturnType<typeof setTimeout>;
  #connected = false;
  #failed = false;
  #stopped = false;
  #onState = () => this.#checkState();
  #relayOnly: boolean;
  #sawRelay = false;
  #onCandidate = (event: Event) => {
    const c = (event as Event & { candidate?: IceCandidateLike | null }).candidate;
    if (!c || !c.candidate) return this.#gathered();
    if (RELAY.test(c.candidate)) this.#sawRelay = true;
  };
  #onGathering = () => {
    const state = (this.#pc as { iceGatheringState?: string }).iceGatheringState;
    if (state === "complete") this.#gathered();
  };

  /**
   * `onFailed(reason)` is called at most once, `reason` saying what happened (e.g. "failed during
   * setup"), unless the connection connected first or the watch was stopped.
   */
  constructor(
    pc: ClientPeerConnection,
    options: SetupWatchOptions,
    onFailed: (reason: string) => void,
  ) {
    const { timeoutMs } = options;
    this.#pc = pc;
    this.#onFailed = onFailed;
    pc.addEventListener("connectionstatechange", this.#onState);
    const own = (pc as { getConfiguration?: () => { iceTransportPolicy?: string } })
      .getConfiguration?.();
    this.#relayOnly = (own ? own.iceTransportPolicy : options.policy) === "relay";
    if (this.#relayOnly) {
      pc.addEventListener("icecandidate", this.#onCandidate);
      pc.addEventListener("icegatheringstatechange", this.#onGathering);
    }
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
    if (this.#relayOnly) {
      this.#pc.removeEventListener("icecandidate", this.#onCandidate);
      this.#pc.removeEventListener("icegatheringstatechange", this.#onGathering);
    }
  }

  /** Gathering completed: without a relay candidate, a relay-only connection cannot connect. */
  #gathered(): void {
    if (this.#sawRelay || RELAY.test(this.#pc.localDescription?.sdp ?? "")) return;
    this.#fail(NO_RELAY_CANDIDATE);
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
