import { assertEquals, assertMatch } from "@std/assert";
import {
  boolean,
  helpText,
  integer,
  number,
  oneOf,
  parseFlags,
  readFlags,
  string,
  webSocketUrl,
} from "../../signaling/_flags.ts";

const COMMAND = {
  name: "tool",
  summary: "Does things.",
  flags: {
    port: integer("port", { default: 9080, min: 0, max: 65535 }),
    peers: integer("peers", { min: 2, max: 32 }),
    duration: number("seconds", { default: 3, min: 0, max: 600, aboveMin: true }),
    level: oneOf("level", ["info", "warn"] as const, "info"),
    url: string("server", undefined, "URL", webSocketUrl),
    name: string("name", "x"),
    quiet: boolean("quiet"),
  },
  check: (v: { quiet: boolean; peers: number | undefined }) =>
    v.quiet && v.peers === 3 ? "--quiet does not go with --peers 3" : undefined,
};

function error(args: string[]): string {
  const parsed = parseFlags(COMMAND, args);
  return parsed.type === "error" ? parsed.message : `not an error: ${parsed.type}`;
}

Deno.test("flags: defaults, both value forms, booleans, which flags were given", () => {
  const parsed = parseFlags(COMMAND, [
    "--port=0",
    "--peers",
    "6",
    "--duration",
    "0.5",
    "--url",
    "wss://a.example/x",
    "--quiet",
    "--name=--quiet",
    "--port",
    "0",
  ]);
  assertEquals(parsed.type, "values");
  if (parsed.type !== "values") return;
  assertEquals(parsed.values, {
    port: 0,
    peers: 6,
    duration: 0.5,
    level: "info",
    url: "wss://a.example/x",
    name: "--quiet",
    quiet: true,
  });
  assertEquals([...parsed.given].sort(), ["duration", "name", "peers", "port", "quiet", "url"]);
  const none = parseFlags(COMMAND, []);
  assertEquals(none.type === "values" && none.values, {
    port: 9080,
    peers: undefined,
    duration: 3,
    level: "info",
    url: undefined,
    name: "x",
    quiet: false,
  });
});

Deno.test("flags: every bad input is one line naming the flag, the value and what is wanted", () => {
  const cases: [string[], string][] = [
    [["--port", "70000"], "tool: --port 70000: must be an integer in 0..65535 (see --help)"],
    [["--port", "-1"], "tool: --port -1: must be an integer in 0..65535 (see --help)"],
    [["--port", "80.5"], "tool: --port 80.5: must be an integer in 0..65535 (see --help)"],
    [["--port", ""], 'tool: --port "": must be an integer in 0..65535 (see --help)'],
    [["--port", "0x50"], "tool: --port 0x50: must be an integer in 0..65535 (see --help)"],
    [["--peers", "0"], "tool: --peers 0: must be an integer in 2..32 (see --help)"],
    [["--duration", "abc"], "tool: --duration abc: must be a number in (0, 600] (see --help)"],
    [["--duration", "0"], "tool: --duration 0: must be a number in (0, 600] (see --help)"],
    [
      ["--duration", "Infinity"],
      "tool: --duration Infinity: must be a number in (0, 600] (see --help)",
    ],
    [["--level", "debug"], "tool: --level debug: must be one of info, warn (see --help)"],
    [["--url", "http://x"], "tool: --url http://x: must be a ws:// or wss:// URL (see --help)"],
    [["--bogus"], "tool: unknown flag --bogus (see --help)"],
    [["--constructor"], "tool: unknown flag --constructor (see --help)"],
    [["-p", "1"], "tool: unexpected argument -p (see --help)"],
    [["stray"], "tool: unexpected argument stray (see --help)"],
    [["--port"], "tool: --port needs a value (N) (see --help)"],
    [["--name", "--quiet"], "tool: --name needs a value (TEXT) (see --help)"],
    [["--quiet=yes"], "tool: --quiet takes no value (see --help)"],
    [["--quiet", "--peers", "3"], "tool: --quiet does not go with --peers 3 (see --help)"],
  ];
  for (const [args, want] of cases) assertEquals(error(args), want, args.join(" "));
});

Deno.test("flags: --help lists every flag with its default, wins over errors elsewhere", () => {
  const parsed = parseFlags(COMMAND, ["--port", "1", "-h", "--bogus"]);
  assertEquals(parsed.type, "help");
  const text = helpText(COMMAND);
  assertEquals(parsed.type === "help" && parsed.text, text);
  for (const name of Object.keys(COMMAND.flags)) {
    const line = text.split("\n").find((l) => l.trimStart().startsWith(`--${name}`));
    assertEquals(/\(default: [^)]+\)$/.test(line ?? ""), true, `--${name}: ${line}`);
  }
  assertMatch(text, /^ {2}--port N +port \(default: 9080\)$/m);
  assertMatch(text, /^ {2}--peers N +peers \(default: none\)$/m);
  assertMatch(text, /^ {2}--quiet +quiet \(default: off\)$/m);
  assertMatch(text, /^ {2}--level info\|warn +level \(default: info\)$/m);
  assertMatch(text, /^ {2}-h, --help +print this help and exit$/m);
  assertEquals(text.startsWith("Usage: tool [flags]\n\nDoes things.\n"), true);
});

Deno.test("flags: readFlags prints the help (exit 0) or the error (exit 2)", () => {
  const printed: string[] = [];
  const run = (args: string[]) => {
    try {
      readFlags(COMMAND, args, {
        exit: (code) => {
          throw code;
        },
        out: (t) => printed.push(`out ${t.split("\n")[0]}`),
        err: (t) => printed.push(`err ${t}`),
      });
      return "returned";
    } catch (code) {
      return code;
    }
  };
  assertEquals(run(["--help"]), 0);
  assertEquals(run(["--peers", "1"]), 2);
  assertEquals(run(["--peers", "2"]), "returned");
  assertEquals(printed, [
    "out Usage: tool [flags]",
    "err tool: --peers 1: must be an integer in 2..32 (see --help)",
  ]);
});
