/**
 * Godot 4's binary variant encoding (`encode_variant` / `decode_variant` of `core/io/marshalls`)
 * and SceneMultiplayer's compressed form of it (`encode_and_compress_variant`), byte for byte.
 * Facts: `../shared/research/scenemultiplayer-wire.md` §9 and Godot's `test_marshalls.h`.
 *
 * JS values for Godot types:
 *
 * | Godot | JS |
 * |---|---|
 * | NIL | `null` |
 * | BOOL | `boolean` |
 * | INT | `number` (a safe integer) or `bigint` (int64); decoded as `number` when safe |
 * | FLOAT | `number` that is not an integer, or {@link Float} (`float(2)`) for any value; decoded integral floats are `Float`s |
 * | STRING | `string` |
 * | STRING_NAME | {@link StringName} |
 * | VECTOR2 / VECTOR2I / VECTOR3 / VECTOR3I | {@link Vector2} / {@link Vector2i} / {@link Vector3} / {@link Vector3i} |
 * | COLOR | {@link Color} |
 * | ARRAY | a JS array; typed: {@link TypedArray} |
 * | DICTIONARY | a `Map` (or, to encode, a plain object); typed: {@link TypedDictionary} |
 * | PACKED_BYTE/INT32/INT64/FLOAT32/FLOAT64_ARRAY | `Uint8Array` / `Int32Array` / `BigInt64Array` / `Float32Array` / `Float64Array` |
 *
 * Every other Godot type (RECT2, TRANSFORM3D, OBJECT, NODE_PATH, ...) is refused by name with a
 * {@link VariantError} of kind `"unsupported"`, on encode and on decode: never a wrong value.
 *
 * @module
 */
import {
  Color,
  Float,
  MAX_DEPTH,
  StringName,
  TypedArray,
  TypedDictionary,
  typeName,
  type Variant,
  VARIANT_MAX,
  VariantError,
  VariantType,
  variantTypeOf,
  Vector2,
  Vector2i,
  Vector3,
  Vector3i,
} from "./values.ts";

export * from "./values.ts";

const FLAG_64 = 1 << 16;
const KIND_NONE = 0;
const KIND_BUILTIN = 1;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** A growable little-endian byte writer. */
export class ByteWriter {
  #buf: Uint8Array;
  #view: DataView;
  /** Bytes written so far. */
  length = 0;
  /** Makes one. @param capacity Initial capacity. */
  constructor(capacity = 64) {
    this.#buf = new Uint8Array(capacity);
    this.#view = new DataView(this.#buf.buffer);
  }
  #room(n: number): number {
    const at = this.length;
    if (at + n > this.#buf.length) {
      const next = new Uint8Array(Math.max(this.#buf.length * 2, at + n));
      next.set(this.#buf.subarray(0, at));
      this.#buf = next;
      this.#view = new DataView(next.buffer);
    }
    this.length = at + n;
    return at;
  }
  /** Appends one byte. */
  u8(v: number): void {
    const at = this.#room(1);
    this.#buf[at] = v;
  }
  /** Appends a u16. */
  u16(v: number): void {
    const at = this.#room(2);
    this.#view.setUint16(at, v, true);
  }
  /** Appends a u32 (also used for i32 bit patterns). */
  u32(v: number): void {
    const at = this.#room(4);
    this.#view.setUint32(at, v >>> 0, true);
  }
  /** Appends an i64. */
  i64(v: bigint): void {
    const at = this.#room(8);
    this.#view.setBigInt64(at, v, true);
  }
  /** Appends an f32. */
  f32(v: number): void {
    const at = this.#room(4);
    this.#view.setFloat32(at, v, true);
  }
  /** Appends an f64. */
  f64(v: number): void {
    const at = this.#room(8);
    this.#view.setFloat64(at, v, true);
  }
  /** Appends bytes. */
  bytes(b: Uint8Array): void {
    const at = this.#room(b.length);
    this.#buf.set(b, at);
  }
  /** Zero bytes after `n` content bytes, up to a multiple of 4 of `n` (padding is per value). */
  pad4(n: number): void {
    const pad = (4 - (n % 4)) % 4;
    const at = this.#room(pad);
    this.#buf.fill(0, at, this.length);
  }
  /** Overwrites one byte already written. */
  setU8(at: number, v: number): void {
    this.#buf[at] = v;
  }
  /** Overwrites a u32 already written. */
  setU32(at: number, v: number): void {
    this.#view.setUint32(at, v >>> 0, true);
  }
  /** A copy of the written bytes. */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.length);
  }
}

function checkInt32(n: number, what: string): number {
  if (!Number.isInteger(n) || n < INT32_MIN || n > INT32_MAX) {
    throw new VariantError("range", `${what} must be an int32, got ${n}`);
  }
  return n;
}

function checkContainerType(t: VariantType, what: string): void {
  if (!Number.isInteger(t) || t < 0 || t >= VARIANT_MAX || t === VariantType.OBJECT) {
    throw new VariantError("unsupported", `${what} ${typeName(t)} is not a builtin container type`);
  }
}

function intValue(v: number | bigint): bigint {
  const b = typeof v === "bigint" ? v : BigInt(v);
  if (b < INT64_MIN || b > INT64_MAX) throw new VariantError("range", `${b} is outside int64`);
  return b;
}

function writeString(w: ByteWriter, s: string): void {
  const b = utf8.encode(s);
  w.u32(b.length);
  w.bytes(b);
  w.pad4(b.length);
}

/** Writes `encode_variant(v)` (Godot's plain, uncompressed form) into `w`. */
export function writeVariant(w: ByteWriter, v: Variant, depth = 0): void {
  if (depth > MAX_DEPTH) throw new VariantError("too_deep", `nested deeper than ${MAX_DEPTH}`);
  const type = variantTypeOf(v);
  switch (type) {
    case VariantType.NIL:
      w.u32(type);
      return;
    case VariantType.BOOL:
      w.u32(type);
      w.u32(v ? 1 : 0);
      return;
    case VariantType.INT: {
      const b = intValue(v as number | bigint);
      if (b < BigInt(INT32_MIN) || b > BigInt(INT32_MAX)) {
        w.u32(type | FLAG_64);
        w.i64(b);
      } else {
        w.u32(type);
        w.u32(Number(b));
      }
      return;
    }
    case VariantType.FLOAT: {
      const d = Number(v);
      if (Math.fround(d) === d) {
        w.u32(type);
        w.f32(d);
      } else {
        w.u32(type | FLAG_64);
        w.f64(d);
      }
      return;
    }
    case VariantType.STRING:
      w.u32(type);
      writeString(w, v as string);
      return;
    case VariantType.STRING_NAME:
      w.u32(type);
      writeString(w, (v as StringName).value);
      return;
    case VariantType.VECTOR2: {
      const p = v as Vector2;
      w.u32(type);
      w.f32(p.x);
      w.f32(p.y);
      return;
    }
    case VariantType.VECTOR2I: {
      const p = v as Vector2i;
      w.u32(type);
      w.u32(checkInt32(p.x, "Vector2i.x"));
      w.u32(checkInt32(p.y, "Vector2i.y"));
      return;
    }
    case VariantType.VECTOR3: {
      const p = v as Vector3;
      w.u32(type);
      w.f32(p.x);
      w.f32(p.y);
      w.f32(p.z);
      return;
    }
    case VariantType.VECTOR3I: {
      const p = v as Vector3i;
      w.u32(type);
      w.u32(checkInt32(p.x, "Vector3i.x"));
      w.u32(checkInt32(p.y, "Vector3i.y"));
      w.u32(checkInt32(p.z, "Vector3i.z"));
      return;
    }
    case VariantType.COLOR: {
      const c = v as Color;
      w.u32(type);
      w.f32(c.r);
      w.f32(c.g);
      w.f32(c.b);
      w.f32(c.a);
      return;
    }
    case VariantType.ARRAY: {
      let items: readonly Variant[];
      if (v instanceof TypedArray) {
        checkContainerType(v.elementType, "Array element type");
        w.u32(type | (KIND_BUILTIN << 16));
        w.u32(v.elementType);
        items = v.items;
      } else {
        w.u32(type);
        items = v as readonly Variant[];
      }
      w.u32(items.length);
      for (const item of items) writeVariant(w, item, depth + 1);
      return;
    }
    case VariantType.DICTIONARY: {
      let entries: Iterable<readonly [Variant, Variant]>;
      let size: number;
      if (v instanceof TypedDictionary) {
        const k = v.keyType === VariantType.NIL ? KIND_NONE : KIND_BUILTIN;
        const val = v.valueType === VariantType.NIL ? KIND_NONE : KIND_BUILTIN;
        w.u32(type | (k << 16) | (val << 18));
        if (k) {
          checkContainerType(v.keyType, "Dictionary key type");
          w.u32(v.keyType);
        }
        if (val) {
          checkContainerType(v.valueType, "Dictionary value type");
          w.u32(v.valueType);
        }
        entries = v.entries;
        size = v.entries.size;
      } else if (v instanceof Map) {
        w.u32(type);
        entries = v as ReadonlyMap<Variant, Variant>;
        size = (v as ReadonlyMap<Variant, Variant>).size;
      } else {
        const obj = v as { readonly [key: string]: Variant };
        const keys = Object.keys(obj);
        w.u32(type);
        entries = keys.map((k) => [k, obj[k]] as const);
        size = keys.length;
      }
      w.u32(size);
      for (const [key, value] of entries) {
        writeVariant(w, key, depth + 1);
        writeVariant(w, value, depth + 1);
      }
      return;
    }
    case VariantType.PACKED_BYTE_ARRAY: {
      const b = v as Uint8Array;
      w.u32(type);
      w.u32(b.length);
      w.bytes(b);
      w.pad4(b.length);
      return;
    }
    case VariantType.PACKED_INT32_ARRAY:
    case VariantType.PACKED_FLOAT32_ARRAY:
    case VariantType.PACKED_INT64_ARRAY:
    case VariantType.PACKED_FLOAT64_ARRAY: {
      const a = v as Int32Array | Float32Array | BigInt64Array | Float64Array;
      w.u32(type);
      w.u32(a.length);
      // Typed arrays are little-endian on every platform JS runs on today; write explicitly anyway.
      for (let i = 0; i < a.length; i++) {
        if (type === VariantType.PACKED_INT32_ARRAY) w.u32(a[i] as number);
        else if (type === VariantType.PACKED_FLOAT32_ARRAY) w.f32(a[i] as number);
        else if (type === VariantType.PACKED_INT64_ARRAY) w.i64(a[i] as bigint);
        else w.f64(a[i] as number);
      }
      return;
    }
  }
  throw new VariantError("unsupported", `encoding ${typeName(type)} is not supported`);
}

/** `encode_variant(v)`: Godot's plain variant bytes. Throws a {@link VariantError}. */
export function encodeVariant(v: Variant): Uint8Array {
  const w = new ByteWriter();
  writeVariant(w, v);
  return w.finish();
}

/** Writes SceneMultiplayer's compressed form of one value (`encode_and_compress_variant`). */
export function writeCompressed(w: ByteWriter, v: Variant): void {
  const type = variantTypeOf(v);
  if (type === VariantType.BOOL) {
    w.u8((v ? 0x80 : 0) | VariantType.BOOL);
    return;
  }
  if (type === VariantType.INT) {
    const b = intValue(v as number | bigint);
    if (b >= -128n && b <= 127n) {
      w.u8(VariantType.INT);
      w.u8(Number(b) & 0xff);
    } else if (b >= -32768n && b <= 32767n) {
      w.u8(0x40 | VariantType.INT);
      w.u16(Number(b) & 0xffff);
    } else if (b >= BigInt(INT32_MIN) && b <= BigInt(INT32_MAX)) {
      w.u8(0x80 | VariantType.INT);
      w.u32(Number(b));
    } else {
      w.u8(0xc0 | VariantType.INT);
      w.i64(b);
    }
    return;
  }
  // Any other type: encode_variant, whose byte 0 already is the type.
  writeVariant(w, v);
}

/** `encode_and_compress_variant(v)`. Throws a {@link VariantError}. */
export function encodeCompressed(v: Variant): Uint8Array {
  const w = new ByteWriter(16);
  writeCompressed(w, v);
  return w.finish();
}

/** A decoded value and the number of bytes it took. */
export interface Decoded {
  /** The value. */
  readonly value: Variant;
  /** Bytes consumed. */
  readonly length: number;
}

/** Reads variants from a byte range, checking every length against what is there. */
class Reader {
  readonly view: DataView;
  pos: number;
  constructor(readonly bytes: Uint8Array, offset: number, readonly end: number) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = offset;
  }
  need(n: number, what: string): number {
    if (n > this.end - this.pos) {
      throw new VariantError(
        "truncated",
        `${what}: needs ${n} bytes, ${this.end - this.pos} left`,
      );
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }
  u32(what: string): number {
    return this.view.getUint32(this.need(4, what), true);
  }
  i32(what: string): number {
    return this.view.getInt32(this.need(4, what), true);
  }
  i64(what: string): bigint {
    return this.view.getBigInt64(this.need(8, what), true);
  }
  f32(what: string): number {
    return this.view.getFloat32(this.need(4, what), true);
  }
  f64(what: string): number {
    return this.view.getFloat64(this.need(8, what), true);
  }
  real(flag64: boolean, what: string): number {
    return flag64 ? this.f64(what) : this.f32(what);
  }
  count(what: string, unit: number): number {
    const n = this.i32(`${what} count`);
    if (n < 0 || n * unit > this.end - this.pos) {
      throw new VariantError(
        "invalid",
        `${what} count ${n} is absurd for the ${this.end - this.pos} bytes left`,
      );
    }
    return n;
  }
  string(what: string): string {
    const n = this.i32(`${what} length`);
    const pad = (4 - (n % 4)) % 4;
    if (n < 0 || n + pad > this.end - this.pos) {
      throw new VariantError(
        n < 0 ? "invalid" : "truncated",
        `${what} of ${n} bytes (+${pad} padding) but ${this.end - this.pos} left`,
      );
    }
    const at = this.need(n + pad, what);
    try {
      return strictUtf8.decode(this.bytes.subarray(at, at + n));
    } catch {
      throw new VariantError("invalid", `${what} is not valid UTF-8`);
    }
  }
}

function intOut(b: bigint): number | bigint {
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(b)
    : b;
}

function floatOut(d: number): number | Float {
  return Number.isInteger(d) ? new Float(d) : d;
}

function containerType(r: Reader, kind: number, what: string): VariantType {
  if (kind === KIND_NONE) return VariantType.NIL;
  if (kind !== KIND_BUILTIN) {
    throw new VariantError(
      "unsupported",
      `${what} typed by ${kind === 2 ? "class name" : "script"} (objects are not supported)`,
    );
  }
  const t = r.i32(what);
  if (t < 0 || t >= VARIANT_MAX) throw new VariantError("invalid", `${what} ${t} is not a type`);
  if (t === VariantType.OBJECT) {
    throw new VariantError("unsupported", `${what} OBJECT (objects are not supported)`);
  }
  return t;
}

function readVariant(r: Reader, depth: number): Variant {
  if (depth > MAX_DEPTH) throw new VariantError("too_deep", `nested deeper than ${MAX_DEPTH}`);
  const header = r.u32("variant header");
  const type = header & 0xff;
  if (type >= VARIANT_MAX) throw new VariantError("invalid", `type ${type} is not a variant type`);
  const f64 = (header & FLAG_64) !== 0;
  switch (type) {
    case VariantType.NIL:
      return null;
    case VariantType.BOOL:
      return r.u32("BOOL") !== 0;
    case VariantType.INT:
      return f64 ? intOut(r.i64("INT")) : r.i32("INT");
    case VariantType.FLOAT:
      return floatOut(f64 ? r.f64("FLOAT") : r.f32("FLOAT"));
    case VariantType.STRING:
      return r.string("STRING");
    case VariantType.STRING_NAME:
      return new StringName(r.string("STRING_NAME"));
    case VariantType.VECTOR2:
      return new Vector2(r.real(f64, "VECTOR2"), r.real(f64, "VECTOR2"));
    case VariantType.VECTOR2I:
      return new Vector2i(r.i32("VECTOR2I"), r.i32("VECTOR2I"));
    case VariantType.VECTOR3:
      return new Vector3(r.real(f64, "VECTOR3"), r.real(f64, "VECTOR3"), r.real(f64, "VECTOR3"));
    case VariantType.VECTOR3I:
      return new Vector3i(r.i32("VECTOR3I"), r.i32("VECTOR3I"), r.i32("VECTOR3I"));
    case VariantType.COLOR:
      return new Color(r.f32("COLOR"), r.f32("COLOR"), r.f32("COLOR"), r.f32("COLOR"));
    case VariantType.ARRAY: {
      const elementType = containerType(r, (header >> 16) & 3, "Array element type");
      const n = r.u32("ARRAY count") & 0x7fffffff;
      // Every element takes at least 4 bytes: a larger count cannot be real.
      if (n * 4 > r.end - r.pos) {
        throw new VariantError("invalid", `ARRAY count ${n} is absurd for ${r.end - r.pos} bytes`);
      }
      const items: Variant[] = [];
      for (let i = 0; i < n; i++) items.push(readVariant(r, depth + 1));
      return elementType === VariantType.NIL ? items : new TypedArray(elementType, items);
    }
    case VariantType.DICTIONARY: {
      const keyType = containerType(r, (header >> 16) & 3, "Dictionary key type");
      const valueType = containerType(r, (header >> 18) & 3, "Dictionary value type");
      const n = r.u32("DICTIONARY count") & 0x7fffffff;
      if (n * 8 > r.end - r.pos) {
        throw new VariantError(
          "invalid",
          `DICTIONARY count ${n} is absurd for ${r.end - r.pos} bytes`,
        );
      }
      const map = new Map<Variant, Variant>();
      for (let i = 0; i < n; i++) {
        const key = readVariant(r, depth + 1);
        map.set(key, readVariant(r, depth + 1));
      }
      return keyType === VariantType.NIL && valueType === VariantType.NIL
        ? map
        : new TypedDictionary(keyType, valueType, map);
    }
    case VariantType.PACKED_BYTE_ARRAY: {
      const n = r.count("PACKED_BYTE_ARRAY", 1);
      const pad = (4 - (n % 4)) % 4;
      const at = r.need(n + pad, "PACKED_BYTE_ARRAY padding");
      return r.bytes.slice(at, at + n);
    }
    case VariantType.PACKED_INT32_ARRAY: {
      const n = r.count("PACKED_INT32_ARRAY", 4);
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = r.i32("PACKED_INT32_ARRAY");
      return out;
    }
    case VariantType.PACKED_INT64_ARRAY: {
      const n = r.count("PACKED_INT64_ARRAY", 8);
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = r.i64("PACKED_INT64_ARRAY");
      return out;
    }
    case VariantType.PACKED_FLOAT32_ARRAY: {
      const n = r.count("PACKED_FLOAT32_ARRAY", 4);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = r.f32("PACKED_FLOAT32_ARRAY");
      return out;
    }
    case VariantType.PACKED_FLOAT64_ARRAY: {
      const n = r.count("PACKED_FLOAT64_ARRAY", 8);
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = r.f64("PACKED_FLOAT64_ARRAY");
      return out;
    }
  }
  throw new VariantError("unsupported", `decoding ${typeName(type)} is not supported`);
}

/**
 * `decode_variant(bytes)`: one plain variant starting at `offset`, within `end`. Throws a
 * {@link VariantError} for truncated, invalid, too deep or unsupported data.
 */
export function decodeVariant(bytes: Uint8Array, offset = 0, end = bytes.length): Decoded {
  const r = new Reader(bytes, offset, end);
  const value = readVariant(r, 0);
  return { value, length: r.pos - offset };
}

/** `decode_and_decompress_variant`: one compressed value at `offset`. Throws a {@link VariantError}. */
export function decodeCompressed(bytes: Uint8Array, offset = 0, end = bytes.length): Decoded {
  if (offset >= end) throw new VariantError("truncated", "compressed variant: no bytes left");
  const meta = bytes[offset];
  const type = meta & 0x3f;
  if (type >= VARIANT_MAX) throw new VariantError("invalid", `type ${type} is not a variant type`);
  if (type === VariantType.BOOL) return { value: (meta & 0x80) !== 0, length: 1 };
  if (type === VariantType.INT) {
    const r = new Reader(bytes, offset + 1, end);
    const mode = meta >> 6;
    let value: number | bigint;
    if (mode === 0) value = r.view.getInt8(r.need(1, "INT8"));
    else if (mode === 1) value = r.view.getInt16(r.need(2, "INT16"), true);
    else if (mode === 2) value = r.i32("INT32");
    else value = intOut(r.i64("INT64"));
    return { value, length: r.pos - offset };
  }
  return decodeVariant(bytes, offset, end);
}
