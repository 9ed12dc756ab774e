/**
 * Model-free inputs when there are no examples to mutate: argument lists
 * made from the entry point's signature. A parameter's type comes from its
 * annotation (`List[int]`, `Optional[str]`, `Dict[str, int]`, …), else from
 * its name (`n`, `s`, `lst`, `grid`, …) and what the description says
 * ("list of strings", "positive integer", "floating point"). Each type has
 * a few small values with the usual edge cases first (zero, one, negative,
 * empty, one element, duplicates, unsorted) — small, so a correct program
 * never takes long on them; strings quoted in the description are among the
 * strings tried. The lists are combined deterministically (the same prompt
 * gives the same inputs).
 */
import type { PyValue } from "../../trace/index.ts";
import { parametersOf, splitTopLevel, type Parameter } from "./source-text.ts";

/** A parameter's type, as far as it is known. */
type ValueType =
  | { readonly kind: "int" | "float" | "str" | "bool" | "none" | "unknown" }
  | { readonly kind: "list" | "set"; readonly item: ValueType }
  | { readonly kind: "tuple"; readonly items: readonly ValueType[] }
  | { readonly kind: "dict"; readonly key: ValueType; readonly value: ValueType }
  | { readonly kind: "union"; readonly options: readonly ValueType[] };

const int = (value: number): PyValue => ({ type: "int", value: BigInt(value) });
const float = (value: number): PyValue => ({ type: "float", value });
const str = (value: string): PyValue => ({ type: "str", value });
const UNKNOWN: ValueType = { kind: "unknown" };

/** A type annotation read: `List[int]`, `list[str]`, `Tuple[int, int]`, `Optional[float]`, `int | None`, …. */
export function typeOf(annotation: string): ValueType {
  const text = annotation.trim().replace(/^typing\./, "");
  const union = splitTopLevel(text.replaceAll("|", ",")).filter((part) => part !== "");
  if (union.length > 1 && text.includes("|")) return { kind: "union", options: union.map(typeOf) };
  const generic = /^(\w+)\s*\[(.*)\]$/s.exec(text);
  if (generic !== null) {
    const outer = (generic[1] as string).toLowerCase();
    const inner = splitTopLevel(generic[2] as string).filter((part) => part !== "").map(typeOf);
    if (outer === "list" || outer === "sequence" || outer === "iterable") return { kind: "list", item: inner[0] ?? UNKNOWN };
    if (outer === "set" || outer === "frozenset") return { kind: "set", item: inner[0] ?? UNKNOWN };
    if (outer === "tuple") return { kind: "tuple", items: inner.filter((item) => item.kind !== "unknown" || inner.length === 1) };
    if (outer === "dict" || outer === "mapping") return { kind: "dict", key: inner[0] ?? UNKNOWN, value: inner[1] ?? UNKNOWN };
    if (outer === "optional") return { kind: "union", options: [inner[0] ?? UNKNOWN, { kind: "none" }] };
    if (outer === "union") return { kind: "union", options: inner };
    return UNKNOWN;
  }
  switch (text.toLowerCase()) {
    case "int":
      return { kind: "int" };
    case "float":
      return { kind: "float" };
    case "str":
      return { kind: "str" };
    case "bool":
      return { kind: "bool" };
    case "list":
      return { kind: "list", item: UNKNOWN };
    case "dict":
      return { kind: "dict", key: { kind: "str" }, value: UNKNOWN };
    case "tuple":
      return { kind: "tuple", items: [UNKNOWN] };
    case "none":
      return { kind: "none" };
    default:
      return UNKNOWN;
  }
}

/** What the description says the values are. */
interface Cues {
  readonly listItem: ValueType | undefined;
  /** Integers are said to be positive (no zero), or non-negative. */
  readonly sign: "positive" | "non-negative" | undefined;
  readonly floats: boolean;
  /** Strings the description quotes. */
  readonly quoted: readonly string[];
}

function cuesOf(prompt: string): Cues {
  const text = prompt.toLowerCase();
  const listOf = /\b(?:list|array|sequence|vector)s?\s+of\s+(?:\w+\s+)?(integers?|numbers?|floats?|strings?|words?|lists?)\b/.exec(text)?.[1];
  const listItem: ValueType | undefined =
    listOf === undefined
      ? undefined
      : /^(string|word)/.test(listOf)
        ? { kind: "str" }
        : /^float/.test(listOf)
          ? { kind: "float" }
          : /^list/.test(listOf)
            ? { kind: "list", item: { kind: "int" } }
            : { kind: "int" };
  const quoted = [...prompt.matchAll(/(["'])([^"'\n]{1,24})\1/g)]
    .map((match) => match[2] as string)
    .filter((value, index, all) => all.indexOf(value) === index)
    .slice(0, 4);
  const sign = /\b(non-?negative|natural)\b/.test(text) ? "non-negative" : /\bpositive\b/.test(text) ? "positive" : undefined;
  return { listItem, sign, floats: /\bfloat(ing)?\b|\bdecimal\b|\breal numbers?\b/.test(text), quoted };
}

const INT_NAMES = /^(n|m|k|x|y|z|a|b|c|p|q|i|j|num|number|base|shift|value|val|limit|start|end|low|high|lo|hi|size|count|depth|decimal|level|capacity|total|max_?\w*|min_?\w*|\w*_num|\w*_count|\w*_int|year|day|month|h|w|r|length)$/;
const STR_NAMES = /^(s|st|str|string|\w+_string|text|txt|word|sentence|message|msg|char|letters|date|name|\w+_name|expression|brackets|planet|a_str|b_str|op|operator|substring|prefix|suffix|pattern|code|key)$/;
const LIST_NAMES = /^(l|lst|list|\w*_list|arr|array|nums|numbers|xs|values|items|elements|operations|operands?|grades|game|guess|seq|sequence|data|scores|weights|\w+s)$/;

/** A parameter's type from its annotation, else its name and the description's cues. */
function parameterType(parameter: Parameter, cues: Cues): ValueType {
  if (parameter.annotation !== undefined) {
    const annotated = typeOf(parameter.annotation);
    if (annotated.kind !== "unknown") return annotated.kind === "list" && annotated.item.kind === "unknown" ? { kind: "list", item: cues.listItem ?? { kind: "int" } } : annotated;
  }
  // `lst1`, `planet2`, `s0`: numbered names are of the same kind as the unnumbered ones.
  const name = parameter.name.toLowerCase().replace(/(?<=[a-z])_?\d+$/, "");
  if (name === "grid" || name === "matrix" || name === "board") return { kind: "list", item: { kind: "list", item: { kind: "int" } } };
  if (name === "d" || name === "dict" || name.endsWith("_dict") || name === "mapping") return { kind: "dict", key: { kind: "str" }, value: { kind: "int" } };
  if (STR_NAMES.test(name)) return { kind: "str" };
  if (INT_NAMES.test(name)) return cues.floats && /^(x|y|z|a|b|c|value|val|number|num)$/.test(name) ? { kind: "union", options: [{ kind: "int" }, { kind: "float" }] } : { kind: "int" };
  if (LIST_NAMES.test(name)) return { kind: "list", item: cues.listItem ?? { kind: "int" } };
  return UNKNOWN;
}

const BASE_STRINGS = ["", "a", "abc", "Hello World", "aba", "hello world", "AbCd", "12345", "a b  c", "zyx"];

/** A type's values, most telling first, kept small. */
function valuesOf(type: ValueType, cues: Cues, depth = 0): PyValue[] {
  switch (type.kind) {
    case "int":
      return (cues.sign === "positive" ? [1, 2, 3, 5, 7, 10, 12, 4, 15, 8, 20, 100] : cues.sign === "non-negative" ? [0, 1, 2, 3, 5, 7, 10, 12, 4, 15, 8, 100] : [0, 1, 2, 3, 5, -1, 7, 10, -3, 12, 4, 100]).map(int);
    case "float":
      return [0.0, 1.0, 2.5, -1.5, 3.7, 10.0, 0.5, 4.25].map(float);
    case "str":
      return [...BASE_STRINGS.slice(0, 2), ...cues.quoted, ...BASE_STRINGS.slice(2)].filter((value, index, all) => all.indexOf(value) === index).map(str);
    case "bool":
      return [{ type: "bool", value: true }, { type: "bool", value: false }];
    case "none":
      return [{ type: "none" }];
    case "union":
      return interleave(type.options.map((option) => valuesOf(option, cues, depth)));
    case "list":
    case "set":
      return collectionsOf(type.kind, depth >= 2 ? [] : valuesOf(type.item, cues, depth + 1));
    case "tuple": {
      const parts = type.items.map((item) => valuesOf(item, cues, depth + 1));
      if (parts.length === 0 || parts.some((part) => part.length === 0)) return [];
      return Array.from({ length: 6 }, (_, row) => ({ type: "tuple" as const, items: parts.map((part, column) => part[(row + column) % part.length] as PyValue) }));
    }
    case "dict": {
      const keys = valuesOf(type.key, cues, depth + 1).filter((key) => key.type !== "list" && key.type !== "dict" && key.type !== "set");
      const values = valuesOf(type.value, cues, depth + 1);
      if (keys.length < 3 || values.length < 3) return [{ type: "dict", entries: [] }];
      const entry = (at: number): readonly [PyValue, PyValue] => [keys[at] as PyValue, values[(at + 1) % values.length] as PyValue];
      return [{ type: "dict", entries: [] }, { type: "dict", entries: [entry(2)] }, { type: "dict", entries: [entry(1), entry(2), entry(3 % keys.length)] }];
    }
    case "unknown":
      return interleave([valuesOf({ kind: "int" }, cues, depth), valuesOf({ kind: "str" }, cues, depth), depth >= 1 ? [] : valuesOf({ kind: "list", item: { kind: "int" } }, cues, depth)]);
  }
}

/** Lists of the item values: empty, one, a few, unsorted, with duplicates, all negative, mixed, longer. */
function collectionsOf(kind: "list" | "set", items: readonly PyValue[]): PyValue[] {
  const make = (picks: readonly number[]): PyValue => ({ type: kind, items: picks.map((at) => items[at % items.length] as PyValue) });
  if (items.length === 0) return [{ type: kind, items: [] }];
  const negative = items.flatMap((item, at) => ((item.type === "int" && item.value < 0n) || (item.type === "float" && item.value < 0) ? [at] : []));
  const lists = [make([]), make([1]), make([1, 2, 3]), make([3, 1, 2]), make([2, 2, 1]), make([0, 5, 3, 3, 1]), make([4, 2, 6, 1]), make([1, 2, 3, 4, 5, 6, 7, 8])];
  // Every element negative: what a program that starts from 0 gets wrong.
  if (negative.length > 0) lists.splice(5, 0, make([...negative].reverse()));
  return lists;
}

function interleave(lists: readonly (readonly PyValue[])[]): PyValue[] {
  const result: PyValue[] = [];
  for (let row = 0; result.length < 24; row++) {
    const before = result.length;
    for (const list of lists) if (list[row] !== undefined) result.push(list[row] as PyValue);
    if (result.length === before) break;
  }
  return result;
}

const STRIDES = [1, 5, 7, 11, 13, 17, 19, 23];

/** The `position`-th stride coprime with `count` (1 for the first parameter). */
function strideFor(count: number, position: number): number {
  const gcd = (left: number, right: number): number => (right === 0 ? left : gcd(right, left % right));
  const coprime = STRIDES.filter((stride) => gcd(stride, count) === 1);
  return coprime[position % coprime.length] ?? 1;
}

/**
 * Up to `limit` argument lists for the entry point, or none when its
 * parameters are not found. Each parameter steps through its own values
 * at its own pace (a stride coprime with their count), so that parameters
 * do not move in lockstep and pairs of values vary.
 */
export function signatureInputs(prompt: string, entryPoint: string, limit: number): PyValue[][] {
  const parameters = parametersOf(prompt, entryPoint);
  if (parameters === undefined || parameters.length === 0 || limit <= 0) return [];
  const cues = cuesOf(prompt);
  const columns = parameters.map((parameter) => valuesOf(parameterType(parameter, cues), cues));
  if (columns.some((column) => column.length === 0)) return [];
  const seen = new Set<string>();
  const result: PyValue[][] = [];
  const strides = columns.map((column, position) => strideFor(column.length, position));
  for (let row = 0; row < limit * 4 && result.length < limit; row++) {
    const args = columns.map((column, position) => column[(row * (strides[position] as number) + position * (1 + Math.floor(row / column.length))) % column.length] as PyValue);
    const key = JSON.stringify(args, (_, value: unknown) => (typeof value === "bigint" ? `${value}n` : value));
    if (seen.has(key)) continue;
    seen.add(key);
    result.push(args);
  }
  return result;
}
