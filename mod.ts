export * from "./core/mod.ts";
export * from "./effects/mod.ts";
