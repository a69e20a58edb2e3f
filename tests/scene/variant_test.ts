/**
 * Golden tests of the variant codec: the byte vectors of Godot's own `tests/core/io/test_marshalls.h`
 * (facts carried over: value -> bytes) and every compressed example of the SceneMultiplayer notes
 * (§9.2), byte-exact both ways; then every way bytes can be bad.
 */
import { assertEquals } from "@std/assert";
import { md5Hex } from "../../scene/md5.ts";
import {
  ByteWriter,
  Color,
  decodeCompressed,
  decodeVariant,
  encodeCompressed,
  encodeVariant,
  Float,
  float,
  StringName,
  TypedArray,
  TypedDictionary,
  type Variant,
  VariantError,
  VariantType,
  Vector2,
  Vector2i,
  Vector3,
  Vector3i,
} from "../../scene/variant.ts";
import { hex, toHex } from "./_hex.ts";

/** The VariantError `fn` throws (fails the test when it throws nothing or something else). */
function thrown(fn: () => unknown): VariantError {
  try {
    fn();
  } catch (e) {
    if (e instanceof VariantError) return e;
    throw e;
  }
  throw new Error("expected a VariantError");
}

/** 0x0f123456789abcdef as Godot's int64 (the test's uint64 stored in a Variant). */
const BIG = BigInt.asIntN(64, 0xf123456789abcdefn);

/** encode(value) is `bytes`, decode(bytes) is `value` using every byte, and re-encodes identically. */
function both(value: Variant, bytes: string, codec: "plain" | "compressed" = "plain") {
  const want = hex(bytes);
  const enc = codec === "plain" ? encodeVariant : encodeCompressed;
  const dec = codec === "plain" ? decodeVariant : decodeCompressed;
  assertEquals(toHex(enc(value)), toHex(want), `encode ${String(value)}`);
  const d = dec(want);
  assertEquals(d.length, want.length, "decode uses every byte");
  assertEquals(d.value, value);
  assertEquals(toHex(enc(d.value)), toHex(want), "decode then encode");
}

Deno.test("test_marshalls.h: integer and float primitives are little-endian", () => {
  const w = new ByteWriter();
  w.u16(0x1234);
  w.u32(0x12345678);
  w.i64(BIG);
  w.f32(0.15625);
  w.f64(0.33333333333333333);
  assertEquals(
    toHex(w.finish()),
    "34 12 78 56 34 12 ef cd ab 89 67 45 23 f1 00 00 20 3e 55 55 55 55 55 55 d5 3f",
  );
});

Deno.test("test_marshalls.h: NIL, INT 32/64, FLOAT single/double variants both ways", () => {
  both(null, "00 00 00 00");
  both(0x12345678, "02 00 00 00 78 56 34 12");
  both(BIG, "02 00 01 00 ef cd ab 89 67 45 23 f1");
  both(0.15625, "03 00 00 00 00 00 20 3e");
  assertEquals(toHex(encodeVariant(float(0.15625))), "03 00 00 00 00 00 20 3e");
  both(0.33333333333333333, "03 00 01 00 55 55 55 55 55 55 d5 3f");
  // A non-integral number is a FLOAT without the wrapper; the decoder returns it as a number.
  assertEquals(decodeVariant(hex("03 00 00 00 00 00 20 3e")).value, 0.15625);
});

Deno.test("test_marshalls.h: typed Array[int] and Dictionary[int, int] both ways", () => {
  both(
    new TypedArray(VariantType.INT, [BIG]),
    "1c 00 01 00 02 00 00 00 01 00 00 00 02 00 01 00 ef cd ab 89 67 45 23 f1",
  );
  both(
    new TypedDictionary(VariantType.INT, VariantType.INT, new Map([[BIG, BIG]])),
    "1b 00 05 00 02 00 00 00 02 00 00 00 01 00 00 00" +
      "02 00 01 00 ef cd ab 89 67 45 23 f1 02 00 01 00 ef cd ab 89 67 45 23 f1",
  );
});

Deno.test("test_marshalls.h: invalid data (1 byte; type 0xff) is refused", () => {
  const short = thrown(() => decodeVariant(hex("00")));
  assertEquals(short.kind, "truncated");
  const type = thrown(() => decodeVariant(hex("ff 00 00 00")));
  assertEquals(type.kind, "invalid");
});

Deno.test("notes §9.2: compressed values of every example, both ways", () => {
  both(42, "02 2a", "compressed");
  both(-1, "02 ff", "compressed");
  both(300, "42 2c 01", "compressed");
  both(true, "81", "compressed");
  both(false, "01", "compressed");
  both(1.5, "03 00 00 00 00 00 c0 3f", "compressed");
  both(0.1, "03 00 01 00 9a 99 99 99 99 99 b9 3f", "compressed");
  both("hi", "04 00 00 00 02 00 00 00 68 69 00 00", "compressed");
  both(new Vector2(1, 2), "05 00 00 00 00 00 80 3f 00 00 00 40", "compressed");
  both(
    [1, "a"],
    "1c 00 00 00 02 00 00 00 02 00 00 00 01 00 00 00 04 00 00 00 01 00 00 00 61 00 00 00",
    "compressed",
  );
  both(
    new Map<Variant, Variant>([["k", true]]),
    "1b 00 00 00 01 00 00 00 04 00 00 00 01 00 00 00 6b 00 00 00 01 00 00 00 01 00 00 00",
    "compressed",
  );
  both(new Uint8Array([1, 2, 3]), "1d 00 00 00 03 00 00 00 01 02 03 00", "compressed");
  both(null, "00 00 00 00", "compressed");
  // A plain object encodes as the same Dictionary.
  assertEquals(
    toHex(encodeCompressed({ k: true })),
    toHex(encodeCompressed(new Map([["k", true]]))),
  );
});

Deno.test("compressed INT picks the smallest width at every boundary", () => {
  const cases: [number | bigint, string][] = [
    [127, "02 7f"],
    [-128, "02 80"],
    [128, "42 80 00"],
    [-32768, "42 00 80"],
    [32768, "82 00 80 00 00"],
    [2147483647, "82 ff ff ff 7f"],
    [-2147483648, "82 00 00 00 80"],
    [2147483648, "c2 00 00 00 80 00 00 00 00"],
    [-(2n ** 63n), "c2 00 00 00 00 00 00 00 80"],
  ];
  for (const [v, h] of cases) both(v, h, "compressed");
});

Deno.test("the other supported types round-trip byte-exact", () => {
  both(new Vector2i(-1, 7), "06 00 00 00 ff ff ff ff 07 00 00 00");
  both(new Vector3(1, 2, 3), "09 00 00 00 00 00 80 3f 00 00 00 40 00 00 40 40");
  both(new Vector3i(1, -2, 3), "0a 00 00 00 01 00 00 00 fe ff ff ff 03 00 00 00");
  both(new Color(1, 0.5, 0, 1), "14 00 00 00 00 00 80 3f 00 00 00 3f 00 00 00 00 00 00 80 3f");
  both(new StringName("ab"), "15 00 00 00 02 00 00 00 61 62 00 00");
  both(new Int32Array([1, -1]), "1e 00 00 00 02 00 00 00 01 00 00 00 ff ff ff ff");
  both(new BigInt64Array([1n]), "1f 00 00 00 01 00 00 00 01 00 00 00 00 00 00 00");
  both(new Float32Array([1]), "20 00 00 00 01 00 00 00 00 00 80 3f");
  both(new Float64Array([0.1]), "21 00 00 00 01 00 00 00 9a 99 99 99 99 99 b9 3f");
  both(new Uint8Array([]), "1d 00 00 00 00 00 00 00");
  both(new Uint8Array([9, 8, 7, 6]), "1d 00 00 00 04 00 00 00 09 08 07 06");
  both("", "04 00 00 00 00 00 00 00");
  both("héllo", "04 00 00 00 06 00 00 00 68 c3 a9 6c 6c 6f 00 00");
  both(float(2), "03 00 00 00 00 00 00 40");
  both(
    [[1, [true]], new Map()],
    "1c 00 00 00 02 00 00 00 1c 00 00 00 02 00 00 00 02 00 00 00 01 00 00 00 1c 00 00 00 01 00 00 00 01 00 00 00 01 00 00 00 1b 00 00 00 00 00 00 00",
  );
  // Integral floats decode as Float so they stay FLOAT; Float behaves as its number.
  const d = decodeVariant(hex("03 00 00 00 00 00 00 40")).value as Float;
  assertEquals(d instanceof Float && Number(d) + 1, 3);
  // A double-precision build's Vector2 (FLAG_64, f64 components) decodes too.
  assertEquals(
    decodeVariant(hex("05 00 01 00 00 00 00 00 00 00 f0 3f 00 00 00 00 00 00 00 40")).value,
    new Vector2(1, 2),
  );
});

Deno.test("unsupported types are refused by name, on encode and on decode", () => {
  for (
    const [bytes, name] of [
      ["07 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", "RECT2"],
      ["12 00 00 00", "TRANSFORM3D"],
      ["18 00 01 00 01 00 00 00 00 00 00 00", "OBJECT"],
      ["16 00 00 00", "NODE_PATH"],
      ["22 00 00 00 00 00 00 00", "PACKED_STRING_ARRAY"],
    ] as const
  ) {
    const e = thrown(() => decodeVariant(hex(bytes)));
    assertEquals(e.kind, "unsupported");
    assertEquals(e.message.includes(name), true, e.message);
  }
  const typedByClass = thrown(() => decodeVariant(hex("1c 00 02 00 00 00 00 00")));
  assertEquals(typedByClass.kind, "unsupported");
  const sym = thrown(() => encodeVariant(Symbol("x") as never));
  assertEquals(sym.kind, "unsupported");
  const date = thrown(() => encodeVariant(new Date() as never));
  assertEquals(date.message.includes("Date"), true);
  assertEquals(thrown(() => encodeVariant(2 ** 60)).kind, "range");
  assertEquals(thrown(() => encodeVariant(2n ** 63n)).kind, "range");
  assertEquals(thrown(() => encodeVariant(new Vector2i(0.5, 0))).kind, "range");
});

Deno.test("truncated, absurd and invalid bytes are refused with their kind, never misread", () => {
  const cases: [string, string][] = [
    ["02 00 00", "truncated"], // INT header only partly there
    ["02 00 00 00 01 02", "truncated"], // INT body short
    ["02 00 01 00 01 02 03 04", "truncated"], // INT64 body short
    ["04 00 00 00 05 00 00 00 61 62", "truncated"], // STRING shorter than its length
    ["04 00 00 00 02 00 00 00 61 62", "truncated"], // STRING missing its padding
    ["04 00 00 00 ff ff ff 7f", "truncated"], // absurd STRING length
    ["04 00 00 00 ff ff ff ff", "invalid"], // negative STRING length
    ["04 00 00 00 02 00 00 00 c3 28 00 00", "invalid"], // not UTF-8
    ["1c 00 00 00 ff ff ff 7f", "invalid"], // absurd ARRAY count
    ["1c 00 00 00 02 00 00 00 02 00 00 00 05 00 00 00", "truncated"], // ARRAY missing an element
    ["1b 00 00 00 01 00 00 00 00 00 00 00", "invalid"], // DICTIONARY: a key but no value
    ["1d 00 00 00 ff ff ff 7f 00", "invalid"], // absurd PACKED_BYTE_ARRAY length
    ["1d 00 00 00 02 00 00 00 01 02", "truncated"], // PBA missing its padding
    ["1e 00 00 00 00 00 00 40 00", "invalid"], // absurd PACKED_INT32 count
    ["1c 00 01 00 63 00 00 00 00 00 00 00", "invalid"], // typed Array of type 99
    ["09 00 00 00 00 00 80 3f", "truncated"], // Vector3 with one component
    ["14 00 00 00 00 00 80 3f 00 00 80 3f 00 00 80 3f", "truncated"], // Color with three
  ];
  for (const [bytes, kind] of cases) {
    const e = thrown(() => decodeVariant(hex(bytes)));
    assertEquals(e.kind, kind, `${bytes}: ${e.message}`);
  }
  // Compressed: INT widths truncated, and a type byte with encode-mode bits on a non-int type.
  for (const bytes of ["02", "42 01", "82 01 02 03", "c2 01 02 03 04 05 06 07"]) {
    assertEquals(thrown(() => decodeCompressed(hex(bytes))).kind, "truncated");
  }
  assertEquals(thrown(() => decodeCompressed(hex("44 00 00 00"))).kind, "invalid");
  assertEquals(thrown(() => decodeCompressed(hex("3f"))).kind, "invalid");
  // Nesting deeper than Godot's 1024 levels.
  const deep = new Uint8Array(8 * 1100);
  for (let i = 0; i < 1100; i++) deep.set(hex("1c 00 00 00 01 00 00 00"), i * 8);
  assertEquals(thrown(() => decodeVariant(deep)).kind, "too_deep");
});

Deno.test("md5 checksum of RPC names is Godot's md5_text (lowercase hex)", () => {
  assertEquals(md5Hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  assertEquals(md5Hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
});
