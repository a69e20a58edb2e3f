/**
 * How the tests start Debian's Chromium (through playwright-core): its path and flags, and the
 * bundling of a test page's script.
 *
 * @module
 */
import * as esbuild from "esbuild";

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

/** A test page's script (`entry`, a module's URL) bundled for the browser: one ES module's text. */
export async function bundlePage(entry: URL): Promise<string> {
  const result = await esbuild.build({
    entryPoints: [entry.pathname],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "warning",
  });
  await esbuild.stop();
  return result.outputFiles[0].text;
}
