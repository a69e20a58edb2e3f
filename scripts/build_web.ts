/**
 * Builds the browser demo: bundles `web/app.ts` (the library, the browser adapter and the
 * signaling client) with esbuild into `web/dist/app.js`, an ES module for browsers. Refuses a
 * bundle that pulls in Node-only packages (`node-datachannel`, `ws`).
 *
 * ```sh
 * deno run -A scripts/build_web.ts [--minify]
 * ```
 *
 * @module
 */
import * as esbuild from "esbuild";

const root = new URL("..", import.meta.url).pathname;

/** Packages that must never reach the browser bundle. */
const NODE_ONLY = ["node-datachannel", "ws"];

/** What {@link buildWeb} made. */
export interface WebBuild {
  /** Absolute path of the bundle. */
  readonly outfile: string;
  /** Its size in bytes. */
  readonly bytes: number;
  /** The source files in it, relative to the project root. */
  readonly inputs: readonly string[];
}

/**
 * Bundles the demo page's script. Throws if the bundle would contain a Node-only package.
 *
 * @example
 * ```ts ignore
 * import { buildWeb } from "./build_web.ts";
 * const build = await buildWeb();
 * console.log(build.outfile.endsWith("web/dist/app.js")); // true
 * ```
 */
export async function buildWeb(options: { minify?: boolean } = {}): Promise<WebBuild> {
  const outfile = `${root}web/dist/app.js`;
  try {
    const result = await esbuild.build({
      absWorkingDir: root,
      entryPoints: ["web/app.ts"],
      outfile,
      bundle: true,
      format: "esm",
      platform: "browser",
      target: ["es2022"],
      minify: options.minify ?? false,
      sourcemap: true,
      metafile: true,
      write: false,
      logLevel: "silent",
      // Keep them out even if something imports them statically by mistake: the check below
      // then fails the build with a readable message instead of a broken bundle.
      external: NODE_ONLY,
      legalComments: "none",
    });
    const inputs = Object.keys(result.metafile.inputs);
    const imports = Object.values(result.metafile.outputs)
      .flatMap((o) => o.imports.map((i) => i.path));
    const leaked = [...inputs, ...imports].filter((path) =>
      NODE_ONLY.some((name) => path === name || path.includes(`node_modules/${name}/`))
    );
    const js = result.outputFiles.find((f) => f.path === outfile);
    if (!js) throw new Error(`esbuild made no ${outfile}`);
    const text = js.text;
    // A module specifier naming a Node-only package (in an import, export or require).
    const named = NODE_ONLY.filter((name) =>
      new RegExp(`(?:from|import|require)\\s*\\(?\\s*["'\`]${name}(?:/[^"'\`]*)?["'\`]`).test(text)
    );
    if (leaked.length > 0 || named.length > 0) {
      throw new Error(
        `the browser bundle references Node-only code: ${[...leaked, ...named].join(", ")}`,
      );
    }
    // Written only once checked, each file atomically (a rename): concurrent builds (two test
    // files) and a server reading the bundle meanwhile never see half a file.
    await Deno.mkdir(`${root}web/dist`, { recursive: true });
    for (const file of result.outputFiles) {
      const temp = `${file.path}.${Deno.pid}.${crypto.randomUUID()}.tmp`;
      await Deno.writeFile(temp, file.contents);
      await Deno.rename(temp, file.path);
    }
    return { outfile, bytes: js.contents.byteLength, inputs };
  } finally {
    await esbuild.stop();
  }
}

if (import.meta.main) {
  const build = await buildWeb({ minify: Deno.args.includes("--minify") });
  console.log(
    `web/dist/app.js: ${(build.bytes / 1024).toFixed(1)} KiB from ${build.inputs.length} files`,
  );
}
