/**
 * Model-free test inputs: type-aware mutations of the public tests'
 * arguments — integers at and around 0, ±1, negated, large; strings empty,
 * one character, repeated, reversed; lists empty, single, duplicated,
 * reversed, sorted; nested values mutated one level down — de-duplicated
 * and capped.
 */
import type { TestSpec } from "../../shared/schema/execution.ts";
import { fromJson, LiteralError, parseLiteral, printLiteral, type PyValue } from "../../trace/index.ts";

/** The arguments of a call test as Python values; undefined when they are not literals. */
export function argumentsOf(test: TestSpec): PyValue[] | undefined {
  if (test.kind !== "call") return undefined;
  if (test.args !== undefined) return test.args.map(fromJson);
  try {
    const value = parseLiteral(test.input ?? "");
    if (value.type === "list" || value.type === "tuple") return [...value.items];
    return [value];
  } catch (error) {
    if (error instanceof LiteralError) return undefined;
    throw error;
  }
}

const int = (value: bigint): PyValue => ({ type: "int", value });

function compare(left: PyValue, right: PyValue): number {
  if (left.type === "int" && right.type === "int") return left.value < right.value ? -1 : left.value > right.value ? 1 : 0;
  if ((left.type === "int" || left.type === "float") && (right.type === "int" || right.type === "float")) return Number(left.value) - Number(right.value);
  if (left.type === "str" && right.type === "str") return left.value < right.value ? -1 : left.value > right.value ? 1 : 0;
  return 0;
}

function sortable(items: readonly PyValue[]): boolean {
  const kinds = new Set(items.map((item) => (item.type === "float" ? "int" : item.type)));
  return kinds.size === 1 && (kinds.has("int") || kinds.has("str"));
}

/** Mutations of one value, most telling first. */
export function mutations(value: PyValue, depth = 0): PyValue[] {
  switch (value.type) {
    case "none":
      return [];
    case "bool":
      return [{ type: "bool", value: !value.value }];
    case "int": {
      const v = value.value;
      return [int(0n), int(1n), int(-1n), int(v + 1n), int(v - 1n), int(-v), int(v * 10n + 3n)];
    }
    case "float":
      return [
        { type: "float", value: 0 },
        { type: "float", value: -value.value },
        { type: "float", value: value.value * 10 },
        { type: "float", value: value.value / 10 },
        { type: "float", value: value.value + 0.5 },
      ];
    case "str": {
      const text = value.value;
      return [
        { type: "str", value: "" },
        { type: "str", value: text.slice(0, 1) },
        { type: "str", value: text + text },
        { type: "str", value: [...text].reverse().join("") },
        { type: "str", value: text.toUpperCase() === text ? text.toLowerCase() : text.toUpperCase() },
      ];
    }
    case "list":
    case "tuple":
    case "set": {
      const items = value.items;
      const make = (next: readonly PyValue[]): PyValue => ({ type: value.type, items: next });
      const result: PyValue[] = [make([])];
      if (items.length > 0) result.push(make([items[0] as PyValue]));
      const numbers = items.length > 0 && items.every((item) => item.type === "int" || item.type === "float");
      if (numbers) {
        // The whole list negative, and large: element-wise versions of the number mutations.
        result.push(make(items.map((item) => (item.type === "int" ? int(-item.value) : { type: "float", value: -(item as { value: number }).value }))));
        result.push(make(items.map((item) => (item.type === "int" ? int(item.value * 10n + 3n) : { type: "float", value: (item as { value: number }).value * 10 + 3 }))));
      }
      if (value.type !== "set") {
        result.push(make([...items, ...items]), make([...items].reverse()));
        if (sortable(items)) result.push(make([...items].sort(compare)), make([...items].sort(compare).reverse()));
        if (items.length > 0) result.push(make([...items, items.at(-1) as PyValue]));
      }
      if (depth < 2 && items.length > 0) {
        // One element changed, one level down.
        for (const inner of mutations(items[0] as PyValue, depth + 1).slice(0, 3)) result.push(make([inner, ...items.slice(1)]));
      }
      return result;
    }
    case "dict": {
      const entries = value.entries;
      const result: PyValue[] = [{ type: "dict", entries: [] }];
      if (entries.length > 1) result.push({ type: "dict", entries: [entries[0] as readonly [PyValue, PyValue]] });
      return result;
    }
  }
}

/**
 * New argument lists from the given ones: one argument changed at a time,
 * positions taken in turn so that a cap keeps variety; no duplicates of each
 * other or of the originals.
 */
export function mutateArguments(originals: readonly (readonly PyValue[])[], limit: number): PyValue[][] {
  const seen = new Set(originals.map((args) => printLiteral({ type: "list", items: args })));
  const queues: PyValue[][][] = [];
  for (const args of originals) {
    args.forEach((argument, position) => {
      queues.push(
        mutations(argument).map((mutated) => {
          const next = [...args];
          next[position] = mutated;
          return next;
        }),
      );
    });
  }
  const result: PyValue[][] = [];
  for (let round = 0; result.length < limit; round++) {
    let progressed = false;
    for (const queue of queues) {
      const candidate = queue[round];
      if (candidate === undefined) continue;
      progressed = true;
      const key = printLiteral({ type: "list", items: candidate });
      if (seen.has(key)) continue;
      seen.add(key);
      result.push(candidate);
      if (result.length >= limit) break;
    }
    if (!progressed) break;
  }
  return result;
}
