/**
 * Builds the npm package into `npm/`: ES modules and `.d.ts` types compiled from the same
 * TypeScript sources that JSR publishes (no copy is kept by hand), a `package.json` whose
 * `exports` mirror deno.json's (minus the Deno-only `./signaling/deno`), the README (with the
 * package's npm name in its imports) and the LICENSE.
 *
 * The compiler is TypeScript from `node_modules` (`rewriteRelativeImportExtensions` turns the
 * sources' `./x.ts` imports into `./x.js`). Deno-only files (`signaling/server_deno.ts`,
 * `signaling/cli.ts`, `demo/`, `tests/`) are not reachable from the npm entry points and are checked
 * to be absent from the output, as is any `Deno` reference. The package's command, `webrtc-mesh`
 * (`signaling/cli_node.ts`: `npx webrtc-mesh serve`), is its `bin`.
 *
 * ```sh
 * deno run -A scripts/build_npm.ts          # or: deno task build:npm
 * ```
 *
 * @module
 */

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** The npm package's name. */
export const NPM_NAME = "webrtc-mesh";

/** npm subpath -> source file. Every one must also be a JSR export (checked). */
export const ENTRY_POINTS: Readonly<Record<string, string>> = {
  ".": "mod.ts",
  "./signaling": "signaling/mod.ts",
  "./signaling/node": "signaling/server_node.ts",
  "./node": "adapters/node_datachannel.ts",
  "./browser": "adapters/browser.ts",
  "./wrtc": "adapters/wrtc.ts",
  "./stack": "adapters/stack.ts",
  "./scene": "scene/mod.ts",
};

/** The package's commands (`npx webrtc-mesh serve`): command -> source file (not an entry point). */
export const BINS: Readonly<Record<string, string>> = {
  [NPM_NAME]: "signaling/cli_node.ts",
};

/** Runtime dependencies of the package: npm name -> the deno.json import it is pinned by. */
const DEPENDENCIES: Readonly<Record<string, string>> = {
  "fp-ts": "fp-ts/",
  "node-datachannel": "node-datachannel",
  "ws": "ws",
};

/**
 * Optional dependencies of the package: npm name -> the deno.json import it is pinned by. Only the
 * entry point that needs one imports it (`./wrtc`), so they are optional peer dependencies: npm
 * does not install them unless the user does (`npm install @roamhq/wrtc`), and `npm ci` of a
 * project that does not choose the stack stays without its 26 MB native library.
 */
const OPTIONAL_DEPENDENCIES: Readonly<Record<string, string>> = {
  "@roamhq/wrtc": "@roamhq/wrtc",
};

/** Source files that must never reach the npm package. */
const FORBIDDEN = [
  /^signaling\/server_deno\./,
  /^signaling\/cli\./,
  /^demo\//,
  /^tests\//,
  /_test\./,
];

/** What {@link buildNpm} made. */
export interface NpmBuild {
  /** Absolute path of the package folder. */
  readonly dir: string;
  /** The package's files, relative to `dir`, sorted. */
  readonly files: readonly string[];
  /** The generated `package.json`. */
  readonly packageJson: Record<string, unknown>;
}

async function walk(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const rel = prefix + entry.name;
    if (entry.isDirectory) out.push(...await walk(`${dir}/${entry.name}`, `${rel}/`));
    else out.push(rel);
  }
  return out.sort();
}

/** `npm:fp-ts@2.16.11/` -> `^2.16.11`. */
function versionRange(spec: string, name: string): string {
  const m = /^npm:(?:@[^/]+\/)?[^@/]+@([0-9][^/]*)\/?/.exec(spec);
  if (!m) throw new Error(`deno.json import for ${name} is not a pinned npm: specifier: ${spec}`);
  return `^${m[1]}`;
}

/** The code without block comments and whole-line `//` comments (enough for emitted files). */
function stripComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

/** Bare module specifiers of a compiled file (static and literal dynamic imports, re-exports). */
function bareSpecifiers(code: string): string[] {
  const found = new Set<string>();
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["']([^"']+)["']/g;
  for (const m of code.matchAll(re)) {
    if (!m[1].startsWith(".")) found.add(m[1]);
  }
  return [...found];
}

/**
 * Compiles the package into `outDir` (default `npm/`, emptied first) and checks the result. Throws
 * with the compiler's output if anything fails.
 *
 * @example
 * ```ts ignore
 * import { buildNpm } from "./build_npm.ts";
 * const build = await buildNpm();
 * console.log(build.files.includes("mod.js")); // true
 * ```
 */
export async function buildNpm(outDir = `${root}/npm`): Promise<NpmBuild> {
  const denoJson = JSON.parse(await Deno.readTextFile(`${root}/deno.json`));
  const imports: Record<string, string> = denoJson.imports ?? {};
  const jsrExports: Record<string, string> = denoJson.exports ?? {};
  for (const [subpath, file] of Object.entries(ENTRY_POINTS)) {
    if (jsrExports[subpath]?.replace(/^\.\//, "") !== file) {
      throw new Error(`npm entry ${subpath} (${file}) is not the JSR export of the same name`);
    }
  }

  await Deno.remove(outDir, { recursive: true }).catch(() => {});
  await Deno.mkdir(outDir, { recursive: true });
  const work = await Deno.makeTempDir({ prefix: "webrtc_mesh_npm_" });
  try {
    // `ws` ships no types and @types/ws is not a dependency: the sources use it untyped (as Deno
    // sees it), and no emitted declaration mentions it.
    await Deno.writeTextFile(`${work}/ambient.d.ts`, `declare module "ws";\n`);
    const tsconfig = {
      compilerOptions: {
        target: "ES2022",
        lib: ["ES2022", "DOM"],
        module: "NodeNext",
        moduleResolution: "NodeNext",
        rewriteRelativeImportExtensions: true,
        declaration: true,
        sourceMap: false,
        strict: true,
        noImplicitOverride: true,
        noFallthroughCasesInSwitch: true,
        noEmitOnError: true,
        skipLibCheck: true,
        types: [],
        rootDir: root,
        outDir,
        newLine: "lf",
      },
      files: [
        `${work}/ambient.d.ts`,
        ...[...Object.values(ENTRY_POINTS), ...Object.values(BINS)].map((f) => `${root}/${f}`),
      ],
    };
    await Deno.writeTextFile(`${work}/tsconfig.json`, JSON.stringify(tsconfig, null, 2));
    const tsc = await new Deno.Command("node", {
      args: [`${root}/node_modules/typescript/bin/tsc`, "-p", `${work}/tsconfig.json`],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!tsc.success) {
      const text = new TextDecoder().decode(tsc.stdout) + new TextDecoder().decode(tsc.stderr);
      throw new Error(`tsc failed (code ${tsc.code}):\n${text}`);
    }
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }

  // Checks on what tsc emitted.
  const emitted = await walk(outDir);
  const problems: string[] = [];
  for (const file of emitted) {
    if (FORBIDDEN.some((re) => re.test(file))) problems.push(`${file}: must not be in the package`);
    if (!/\.(js|d\.ts)$/.test(file)) problems.push(`${file}: unexpected output`);
    const text = await Deno.readTextFile(`${outDir}/${file}`);
    // Documentation examples show the JSR name; npm users import the npm name. Declarations keep
    // the sources' `./x.ts` specifiers (tsc rewrites only JavaScript); older TypeScript versions
    // and other tools want `./x.js`, which resolves to `./x.d.ts` everywhere.
    const npmText = text
      .replace(/(["'])@webrtc-mesh\/mesh(\/[^"']*)?\1/g, `$1${NPM_NAME}$2$1`)
      .replace(/((?:\bfrom|\bimport)\s*\(?\s*)(["'])(\.\.?\/[^"']*)\.ts\2/g, "$1$2$3.js$2");
    if (npmText !== text) await Deno.writeTextFile(`${outDir}/${file}`, npmText);
    const code = stripComments(npmText);
    if (/\bDeno\b/.test(code)) problems.push(`${file}: refers to Deno`);
    for (const m of code.matchAll(/(?:from\s*|import\s*\(\s*)["'](\.[^"']*)["']/g)) {
      if (!m[1].endsWith(".js")) problems.push(`${file}: relative import ${m[1]} (not .js)`);
    }
    for (const spec of bareSpecifiers(code)) {
      const pkg = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
      if (!(pkg in DEPENDENCIES) && !(pkg in OPTIONAL_DEPENDENCIES)) {
        problems.push(`${file}: imports ${spec}, not a dependency`);
      }
    }
  }
  for (const file of Object.values(ENTRY_POINTS)) {
    for (const ext of [".js", ".d.ts"]) {
      const out = file.replace(/\.ts$/, ext);
      if (!emitted.includes(out)) problems.push(`${out}: entry point missing`);
    }
  }
  const bin: Record<string, string> = {};
  for (const [name, file] of Object.entries(BINS)) {
    const out = file.replace(/\.ts$/, ".js");
    bin[name] = `./${out}`;
    const text = await Deno.readTextFile(`${outDir}/${out}`).catch(() => "");
    if (!text.startsWith("#!/usr/bin/env node\n")) {
      problems.push(`${out}: the ${name} command does not start with #!/usr/bin/env node`);
    } else await Deno.chmod(`${outDir}/${out}`, 0o755);
  }
  if (problems.length > 0) throw new Error(`npm build is wrong:\n  ${problems.join("\n  ")}`);

  // package.json, README, LICENSE.
  const exportsMap: Record<string, unknown> = {};
  for (const [subpath, file] of Object.entries(ENTRY_POINTS)) {
    const base = `./${file.replace(/\.ts$/, "")}`;
    exportsMap[subpath] = { types: `${base}.d.ts`, default: `${base}.js` };
  }
  exportsMap["./package.json"] = "./package.json";
  const pinned = (table: Readonly<Record<string, string>>) => {
    const out: Record<string, string> = {};
    for (const [name, key] of Object.entries(table)) {
      const spec = imports[key];
      if (spec === undefined) throw new Error(`deno.json has no import for ${key}`);
      out[name] = versionRange(spec, name);
    }
    return out;
  };
  const dependencies = pinned(DEPENDENCIES);
  const peerDependencies = pinned(OPTIONAL_DEPENDENCIES);
  const peerDependenciesMeta = Object.fromEntries(
    Object.keys(peerDependencies).map((name) => [name, { optional: true }]),
  );
  const packageJson: Record<string, unknown> = {
    name: NPM_NAME,
    version: denoJson.version,
    description: "A full mesh of WebRTC peer connections with the API of Godot's " +
      "WebRTCMultiplayer, for Node, Deno and browsers, with Godot-demo-compatible signaling.",
    license: denoJson.license ?? "MIT",
    keywords: ["webrtc", "mesh", "multiplayer", "godot", "datachannel", "signaling"],
    type: "module",
    engines: { node: ">=20" },
    exports: exportsMap,
    main: "./mod.js",
    types: "./mod.d.ts",
    // No install scripts: consumers' npm (11 blocks dependencies' scripts by default) needs none
    // of ours; node-datachannel's native addon comes from its optional platform package.
    bin,
    files: ["**/*.js", "**/*.d.ts", "!**/*_test.*", "!tests/", "signaling/PROTOCOL.md"],
    sideEffects: false,
    dependencies,
    peerDependencies,
    peerDependenciesMeta,
  };
  await Deno.writeTextFile(`${outDir}/package.json`, JSON.stringify(packageJson, null, 2) + "\n");
  await Deno.copyFile(`${root}/LICENSE`, `${outDir}/LICENSE`);
  await Deno.copyFile(`${root}/signaling/PROTOCOL.md`, `${outDir}/signaling/PROTOCOL.md`);
  const readme = await Deno.readTextFile(`${root}/README.md`);
  // Same README, with the npm name in imports ("@webrtc-mesh/mesh/node" -> "webrtc-mesh/node").
  await Deno.writeTextFile(
    `${outDir}/README.md`,
    readme.replace(/(["'])@webrtc-mesh\/mesh(\/[^"']*)?\1/g, `$1${NPM_NAME}$2$1`),
  );
  return { dir: outDir, files: await walk(outDir), packageJson };
}

if (import.meta.main) {
  const started = performance.now();
  try {
    const build = await buildNpm(Deno.args[0]);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`npm package ${NPM_NAME}@${build.packageJson.version} built in ${build.dir}`);
    console.log(`${build.files.length} files (${seconds}s)`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    Deno.exit(1);
  }
}
