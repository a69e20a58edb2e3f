/**
 * An `EventTarget` whose `addEventListener` knows the event types of its events.
 *
 * @module
 */
import type { ListenerOptions, ListenerOrObject } from "./w3c.ts";

/**
 * `EventTarget` with typed listeners for the events named in `M` (event name -> event type).
 * Other names are accepted as on any `EventTarget`.
 *
 * @example
 * ```ts
 * import { TypedEventTarget } from "./typed_event_target.ts";
 * class Clock extends TypedEventTarget<{ tick: CustomEvent<number> }> {}
 * const clock = new Clock();
 * clock.addEventListener("tick", (e) => console.log(e.detail + 1)); // e is CustomEvent<number>
 * clock.dispatchEvent(new CustomEvent("tick", { detail: 41 })); // logs 42
 * ```
 */
export class TypedEventTarget<M extends { [K in keyof M]: Event }> extends EventTarget {
  /** Typed `addEventListener` for the events of `M`. */
  override addEventListener<K extends keyof M & string>(
    type: K,
    listener: (event: M[K]) => void,
    options?: boolean | ListenerOptions,
  ): void;
  /** `addEventListener` for any other event type. */
  override addEventListener(
    type: string,
    listener: ListenerOrObject | null,
    options?: boolean | ListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: ListenerOrObject | null | ((event: M[keyof M]) => void),
    options?: boolean | ListenerOptions,
  ): void {
    super.addEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }
}
