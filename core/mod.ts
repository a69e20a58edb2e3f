/**
 * The pure mesh core: state, events, effects, the reducer and packet routing.
 * No I/O, no timers, no clocks.
 *
 * @module
 */
export * from "./constants.ts";
export * from "./state.ts";
export * from "./events.ts";
export * from "./effects.ts";
export * from "./reduce.ts";
export * from "./route.ts";
export * from "./liveness.ts";
