/**
 * How the tests start Debian's Chromium (through playwright-core): its path and flags.
 *
 * @module
 */

/** Chromium's executable (`CHROMIUM_PATH` overrides). */
export const CHROMIUM: string = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";

/** Flags for a headless Chromium in a container, with WebRTC host candidates as real addresses. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // Host candidates with real addresses (not mDNS names node-datachannel cannot resolve).
  "--disable-features=WebRtcHideLocalIpsWithMdns",
];
