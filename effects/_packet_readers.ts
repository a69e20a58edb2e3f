/**
 * The readers of the inbound queue: the async iterators `packets()` returns, each waiting for the
 * next packet, and the hand-off of a delivered packet to the longest-waiting one.
 *
 * @module
 */
import type { Inbox } from "./inbox.ts";

interface Waiter<P> {
  resolve(result: IteratorResult<P>): void;
}

/** The async readers of one {@link Inbox}. */
export class PacketReaders<P extends { readonly peerId: number }> {
  readonly #inbox: Inbox<P>;
  #waiters: Waiter<P>[] = [];

  constructor(inbox: Inbox<P>) {
    this.#inbox = inbox;
  }

  /** An async iterator over the packets (see `MultiplayerInterpreter.packets`). */
  packets(signal?: AbortSignal): AsyncIterableIterator<P> {
    let done = signal?.aborted ?? false;
    let waiter: Waiter<P> | undefined;
    const finish = (): IteratorResult<P> => {
      done = true;
      signal?.removeEventListener("abort", onAbort);
      return { done: true, value: undefined };
    };
    const onAbort = () => {
      if (waiter !== undefined) {
        const w = waiter;
        waiter = undefined;
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(finish());
      } else finish();
    };
    signal?.addEventListener("abort", onAbort);
    const iterator: AsyncIterableIterator<P> = {
      next: (): Promise<IteratorResult<P>> => {
        if (done) return Promise.resolve({ done: true, value: undefined });
        const packet = this.#inbox.shift();
        if (packet !== undefined) return Promise.resolve({ done: false, value: packet });
        return new Promise((resolve) => {
          const w: Waiter<P> = {
            resolve: (result) => {
              waiter = undefined;
              if (result.done) finish();
              resolve(result);
            },
          };
          waiter = w;
          this.#waiters.push(w);
        });
      },
      return: (): Promise<IteratorResult<P>> => {
        if (waiter !== undefined) {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          waiter = undefined;
        }
        return Promise.resolve(finish());
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  /** Queues `packet` (see `Inbox.push`) and hands it to the longest-waiting reader, if any. */
  deliver(packet: P, turn: number, lane: number): void {
    if (!this.#inbox.push(packet, turn, lane)) return;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter.resolve({ done: false, value: this.#inbox.shift()! });
  }

  /** Ends every waiting reader (the mesh dropped its packets). */
  end(): void {
    for (const w of this.#waiters.splice(0)) w.resolve({ done: true, value: undefined });
  }
}
