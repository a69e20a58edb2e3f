/**
 * The JS values that stand for Godot variants (the table in `variant.ts`), Godot's type numbers,
 * and which type a value encodes as.
 *
 * @module
 */

/** Godot 4's `Variant::Type` values. */
export enum VariantType {
  NIL = 0,
  BOOL = 1,
  INT = 2,
  FLOAT = 3,
  STRING = 4,
  VECTOR2 = 5,
  VECTOR2I = 6,
  RECT2 = 7,
  RECT2I = 8,
  VECTOR3 = 9,
  VECTOR3I = 10,
  TRANSFORM2D = 11,
  VECTOR4 = 12,
  VECTOR4I = 13,
  PLANE = 14,
  QUATERNION = 15,
  AABB = 16,
  BASIS = 17,
  TRANSFORM3D = 18,
  PROJECTION = 19,
  COLOR = 20,
  STRING_NAME = 21,
  NODE_PATH = 22,
  RID = 23,
  OBJECT = 24,
  CALLABLE = 25,
  SIGNAL = 26,
  DICTIONARY = 27,
  ARRAY = 28,
  PACKED_BYTE_ARRAY = 29,
  PACKED_INT32_ARRAY = 30,
  PACKED_INT64_ARRAY = 31,
  PACKED_FLOAT32_ARRAY = 32,
  PACKED_FLOAT64_ARRAY = 33,
  PACKED_STRING_ARRAY = 34,
  PACKED_VECTOR2_ARRAY = 35,
  PACKED_VECTOR3_ARRAY = 36,
  PACKED_COLOR_ARRAY = 37,
  PACKED_VECTOR4_ARRAY = 38,
}

/** One past the last `Variant::Type`. */
export const VARIANT_MAX = 39;
/** Godot's `Variant::MAX_RECURSION_DEPTH`: deeper containers are refused. */
export const MAX_DEPTH = 1024;

/** A FLOAT that is kept a FLOAT even when its value is integral (`float(2)` is `2.0`). */
export class Float {
  /** The number. */
  readonly value: number;
  /** Makes one. @param value The number. */
  constructor(value: number) {
    this.value = value;
  }
  /** The number, so `Number(float(2)) + 1 === 3`. */
  valueOf(): number {
    return this.value;
  }
}
/** `float(x)`: the FLOAT `x`, even when `x` is integral. */
export const float = (x: number): Float => new Float(x);

/** Godot `StringName`: a string with its own type tag. */
export class StringName {
  /** The name. */
  readonly value: string;
  /** Makes one. @param value The name. */
  constructor(value: string) {
    this.value = value;
  }
}
/** Godot `Vector2` (two f32 in standard builds). */
export class Vector2 {
  /** X. */
  readonly x: number;
  /** Y. */
  readonly y: number;
  /** Makes one. @param x X. @param y Y. */
  constructor(x: number, y: number) {
    this.x = x;
    this.y = y;
  }
}
/** Godot `Vector2i` (two int32). */
export class Vector2i {
  /** X. */
  readonly x: number;
  /** Y. */
  readonly y: number;
  /** Makes one. @param x X. @param y Y. */
  constructor(x: number, y: number) {
    this.x = x;
    this.y = y;
  }
}
/** Godot `Vector3` (three f32 in standard builds). */
export class Vector3 {
  /** X. */
  readonly x: number;
  /** Y. */
  readonly y: number;
  /** Z. */
  readonly z: number;
  /** Makes one. @param x X. @param y Y. @param z Z. */
  constructor(x: number, y: number, z: number) {
    this.x = x;
    this.y = y;
    this.z = z;
  }
}
/** Godot `Vector3i` (three int32). */
export class Vector3i {
  /** X. */
  readonly x: number;
  /** Y. */
  readonly y: number;
  /** Z. */
  readonly z: number;
  /** Makes one. @param x X. @param y Y. @param z Z. */
  constructor(x: number, y: number, z: number) {
    this.x = x;
    this.y = y;
    this.z = z;
  }
}
/** Godot `Color` (four f32, always). */
export class Color {
  /** Red. */
  readonly r: number;
  /** Green. */
  readonly g: number;
  /** Blue. */
  readonly b: number;
  /** Alpha. */
  readonly a: number;
  /** Makes one. @param r Red. @param g Green. @param b Blue. @param a Alpha (default 1). */
  constructor(r: number, g: number, b: number, a = 1) {
    this.r = r;
    this.g = g;
    this.b = b;
    this.a = a;
  }
}
/** An `Array[T]` typed with a builtin type `T`. */
export class TypedArray {
  /** The builtin element type. */
  readonly elementType: VariantType;
  /** The elements. */
  readonly items: readonly Variant[];
  /** Makes one. @param elementType The builtin element type. @param items The elements. */
  constructor(elementType: VariantType, items: readonly Variant[]) {
    this.elementType = elementType;
    this.items = items;
  }
}
/** A `Dictionary[K, V]` typed with builtin key and value types (`NIL` = untyped side). */
export class TypedDictionary {
  /** Builtin key type, or NIL. */
  readonly keyType: VariantType;
  /** Builtin value type, or NIL. */
  readonly valueType: VariantType;
  /** The entries, in order. */
  readonly entries: ReadonlyMap<Variant, Variant>;
  /** Makes one. @param keyType Builtin key type or NIL. @param valueType Builtin value type or NIL. @param entries The entries. */
  constructor(
    keyType: VariantType,
    valueType: VariantType,
    entries: ReadonlyMap<Variant, Variant>,
  ) {
    this.keyType = keyType;
    this.valueType = valueType;
    this.entries = entries;
  }
}

/** A JS value that stands for a Godot variant (see the module table). */
export type Variant =
  | null
  | boolean
  | number
  | bigint
  | string
  | Float
  | StringName
  | Vector2
  | Vector2i
  | Vector3
  | Vector3i
  | Color
  | Uint8Array
  | Int32Array
  | BigInt64Array
  | Float32Array
  | Float64Array
  | TypedArray
  | TypedDictionary
  | readonly Variant[]
  | ReadonlyMap<Variant, Variant>
  | { readonly [key: string]: Variant };

/** Why a value could not be encoded or bytes could not be decoded. */
export type VariantErrorKind = "truncated" | "invalid" | "unsupported" | "too_deep" | "range";

/** A value that cannot be encoded, or bytes that are not a valid (supported) variant. */
export class VariantError extends Error {
  /** What went wrong. */
  readonly kind: VariantErrorKind;
  /** Makes one. @param kind What went wrong. @param message Details, naming the type where there is one. */
  constructor(kind: VariantErrorKind, message: string) {
    super(message);
    this.kind = kind;
    this.name = "VariantError";
  }
}

/** The Godot name of a type number, e.g. `typeName(7)` is `"RECT2"`. */
export function typeName(type: number): string {
  return VariantType[type] ?? `type ${type}`;
}

function isPlainObject(v: object): v is { readonly [key: string]: Variant } {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The Godot type a JS value encodes as, or a `VariantError` naming what it is. */
export function variantTypeOf(v: Variant): VariantType {
  if (v === null) return VariantType.NIL;
  switch (typeof v) {
    case "boolean":
      return VariantType.BOOL;
    case "bigint":
      return VariantType.INT;
    case "string":
      return VariantType.STRING;
    case "number":
      if (!Number.isFinite(v) || !Number.isInteger(v)) return VariantType.FLOAT;
      if (!Number.isSafeInteger(v)) {
        throw new VariantError(
          "range",
          `${v} is an integer beyond 2^53: pass a bigint for INT or float(x) for FLOAT`,
        );
      }
      return VariantType.INT;
    case "object":
      break;
    default:
      throw new VariantError("unsupported", `a JS ${typeof v} has no Godot variant type`);
  }
  if (v instanceof Float) return VariantType.FLOAT;
  if (v instanceof StringName) return VariantType.STRING_NAME;
  if (v instanceof Vector2) return VariantType.VECTOR2;
  if (v instanceof Vector2i) return VariantType.VECTOR2I;
  if (v instanceof Vector3) return VariantType.VECTOR3;
  if (v instanceof Vector3i) return VariantType.VECTOR3I;
  if (v instanceof Color) return VariantType.COLOR;
  if (v instanceof Uint8Array) return VariantType.PACKED_BYTE_ARRAY;
  if (v instanceof Int32Array) return VariantType.PACKED_INT32_ARRAY;
  if (v instanceof BigInt64Array) return VariantType.PACKED_INT64_ARRAY;
  if (v instanceof Float32Array) return VariantType.PACKED_FLOAT32_ARRAY;
  if (v instanceof Float64Array) return VariantType.PACKED_FLOAT64_ARRAY;
  if (v instanceof TypedArray || Array.isArray(v)) return VariantType.ARRAY;
  if (v instanceof TypedDictionary || v instanceof Map) return VariantType.DICTIONARY;
  if (isPlainObject(v)) return VariantType.DICTIONARY;
  const name = (v as object).constructor?.name ?? "object";
  throw new VariantError("unsupported", `a ${name} has no supported Godot variant type`);
}
