import { assert, assertEquals, assertMatch, assertThrows } from "@std/assert";
import {
  assertSnapshot,
  assertTextSnapshot,
  diffLines,
  formatSnapshots,
  parseSnapshots,
  snapshotFileOf,
} from "./_snapshot.ts";

async function withTempFile(run: (file: string) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await run(`${dir}/sub/x_test.ts.snap`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function errorOf(run: () => void): Error {
  const error = assertThrows(run);
  assert(error instanceof Error);
  return error;
}

Deno.test("snapshot: a missing snapshot fails and writes nothing", async () => {
  await withTempFile((file) => {
    const error = errorOf(() => assertTextSnapshot(file, "a", "text", { update: false }));
    assertMatch(error.message, /snapshot "a" is missing/);
    assertMatch(error.message, /deno test -A tests\/ -- --update/);
    assertThrows(() => Deno.statSync(file)); // not created
  });
});

Deno.test("snapshot: update writes, then the same text matches and other text fails", async () => {
  await withTempFile((file) => {
    assertTextSnapshot(file, "story", "one\ntwo\nthree\nfour", { update: true });
    assertTextSnapshot(file, "other", "", { update: true });
    const before = Deno.readTextFileSync(file);
    assertTextSnapshot(file, "story", "one\ntwo\nthree\nfour", { update: false });
    assertTextSnapshot(file, "other", "", { update: false });
    const error = errorOf(() =>
      assertTextSnapshot(file, "story", "one\nTWO\nthree\nfour", { update: false })
    );
    assertMatch(error.message, /snapshot "story" does not match/);
    assertMatch(error.message, /- two\n\+ TWO/);
    assertEquals(Deno.readTextFileSync(file), before, "a mismatch must not rewrite the file");
    // A second name in the same file is still missing.
    assertMatch(
      errorOf(() => assertTextSnapshot(file, "third", "x", { update: false })).message,
      /missing/,
    );
  });
});

Deno.test("snapshot: the file is plain readable text and round-trips", async () => {
  await withTempFile((file) => {
    assertTextSnapshot(file, "first", "a\n\nb\n", { update: true });
    assertTextSnapshot(file, "second", "c", { update: true });
    const text = Deno.readTextFileSync(file);
    assertMatch(text, /^# Text snapshots/);
    assertMatch(text, />>> first\na\n\nb\n\n<<<\n/);
    assertEquals(
      [...parseSnapshots(text)],
      [["first", "a\n\nb\n"], ["second", "c"]],
    );
    assertEquals(formatSnapshots(parseSnapshots(text)), text);
  });
});

Deno.test("snapshot: text that would break the format is refused", () => {
  assertThrows(() => assertTextSnapshot("/nonexistent/x.snap", "n", ">>> header"));
  assertThrows(() => assertTextSnapshot("/nonexistent/x.snap", "n", "a\n<<<"));
  assertThrows(() => assertTextSnapshot("/nonexistent/x.snap", "two\nlines", "a"));
});

Deno.test("snapshot: diffLines shows changes with context", () => {
  assertEquals(diffLines("a\nb\nc", "a\nc\nd"), "  a\n- b\n  c\n+ d");
  const long = Array.from({ length: 20 }, (_, i) => `line ${i}`);
  const changed = long.map((l, i) => (i === 10 ? "changed" : l));
  assertEquals(
    diffLines(long.join("\n"), changed.join("\n")),
    ["  ...", "  line 8", "  line 9", "- line 10", "+ changed", "  line 11", "  line 12", "  ..."]
      .join("\n"),
  );
});

Deno.test("snapshot: files mirror the test path under tests/__snapshots__", () => {
  const file = snapshotFileOf(new URL("./core/x_test.ts", import.meta.url));
  assertMatch(file, /tests\/__snapshots__\/core\/x_test\.ts\.snap$/);
});

Deno.test("snapshot: assertSnapshot names snapshots after the test and counts repeats", async (t) => {
  // Uses this file's own committed snapshot file.
  assertSnapshot(t, "first snapshot of this test");
  assertSnapshot(t, "second snapshot of this test");
  await t.step("a step", (s) => assertSnapshot(s, "inside a step"));
  const stored = parseSnapshots(Deno.readTextFileSync(snapshotFileOf(import.meta.url)));
  const prefix = "snapshot: assertSnapshot names snapshots after the test and counts repeats";
  assertEquals(stored.get(prefix), "first snapshot of this test");
  assertEquals(stored.get(`${prefix} #2`), "second snapshot of this test");
  assertEquals(stored.get(`${prefix} > a step`), "inside a step");
});
