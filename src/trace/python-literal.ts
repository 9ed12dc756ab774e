/**
 * Python literals (what ast.literal_eval accepts, minus bytes and complex
 * numbers) as typed values: parsed from test inputs and model-written inputs,
 * mutated by type, printed back as Python source. Python's own types are
 * kept (tuple vs list, int vs float, set), so a mutation stays well-typed.
 */

import { ExactNumber } from "../shared/json.ts";

export type PyValue =
  | { readonly type: "none" }
  | { readonly type: "bool"; readonly value: boolean }
  | { readonly type: "int"; readonly value: bigint }
  | { readonly type: "float"; readonly value: number }
  | { readonly type: "str"; readonly value: string }
  | { readonly type: "list" | "tuple" | "set"; readonly items: readonly PyValue[] }
  | { readonly type: "dict"; readonly entries: readonly (readonly [PyValue, PyValue])[] };

export class LiteralError extends Error {}

const MAX_DEPTH = 40;

class Parser {
  private position = 0;
  constructor(private readonly text: string) {}

  parse(): PyValue {
    const value = this.value(0);
    this.space();
    if (this.position !== this.text.length) throw new LiteralError(`unexpected ${JSON.stringify(this.text.slice(this.position, this.position + 10))}`);
    return value;
  }

  private space(): void {
    while (this.position < this.text.length && /\s/.test(this.text[this.position] as string)) this.position++;
  }

  private peek(): string {
    this.space();
    return this.text[this.position] ?? "";
  }

  private expect(character: string): void {
    if (this.peek() !== character) throw new LiteralError(`expected ${character} at ${this.position}`);
    this.position++;
  }

  private value(depth: number): PyValue {
    if (depth > MAX_DEPTH) throw new LiteralError("nested too deep");
    const character = this.peek();
    if (character === "[") return { type: "list", items: this.sequence("[", "]", depth).items };
    if (character === "(") {
      const { items, trailingComma } = this.sequence("(", ")", depth);
      if (items.length === 1 && !trailingComma) return items[0] as PyValue; // (x) is x
      return { type: "tuple", items };
    }
    if (character === "{") return this.braces(depth);
    if (character === "'" || character === '"') return { type: "str", value: this.string() };
    if (/[-+0-9.]/.test(character)) return this.number();
    const word = /^[A-Za-z_]+/.exec(this.text.slice(this.position))?.[0] ?? "";
    this.position += word.length;
    if (word === "None") return { type: "none" };
    if (word === "True") return { type: "bool", value: true };
    if (word === "False") return { type: "bool", value: false };
    if (word === "set" && this.text.startsWith("()", this.position)) {
      this.position += 2;
      return { type: "set", items: [] };
    }
    if (word === "float" && /^\(\s*['"](-?inf|nan)['"]\s*\)/.test(this.text.slice(this.position))) {
      const inner = /^\(\s*['"](-?inf|nan)['"]\s*\)/.exec(this.text.slice(this.position)) as RegExpExecArray;
      this.position += inner[0].length;
      const name = inner[1] as string;
      return { type: "float", value: name === "nan" ? Number.NaN : name.startsWith("-") ? -Infinity : Infinity };
    }
    throw new LiteralError(`not a literal: ${JSON.stringify(word || character)}`);
  }

  private sequence(open: string, close: string, depth: number): { items: PyValue[]; trailingComma: boolean } {
    this.expect(open);
    const items: PyValue[] = [];
    let trailingComma = false;
    while (this.peek() !== close) {
      items.push(this.value(depth + 1));
      trailingComma = false;
      if (this.peek() === ",") {
        this.position++;
        trailingComma = true;
      } else break;
    }
    this.expect(close);
    return { items, trailingComma };
  }

  private braces(depth: number): PyValue {
    this.expect("{");
    if (this.peek() === "}") {
      this.position++;
      return { type: "dict", entries: [] };
    }
    const first = this.value(depth + 1);
    if (this.peek() === ":") {
      this.position++;
      const entries: [PyValue, PyValue][] = [[first, this.value(depth + 1)]];
      while (this.peek() === ",") {
        this.position++;
        if (this.peek() === "}") break;
        const key = this.value(depth + 1);
        this.expect(":");
        entries.push([key, this.value(depth + 1)]);
      }
      this.expect("}");
      return { type: "dict", entries };
    }
    const items = [first];
    while (this.peek() === ",") {
      this.position++;
      if (this.peek() === "}") break;
      items.push(this.value(depth + 1));
    }
    this.expect("}");
    return { type: "set", items };
  }

  private string(): string {
    this.space();
    const quote = this.text[this.position] as string;
    const triple = this.text.startsWith(quote.repeat(3), this.position);
    const end = triple ? quote.repeat(3) : quote;
    this.position += end.length;
    let result = "";
    while (this.position < this.text.length && !this.text.startsWith(end, this.position)) {
      const character = this.text[this.position] as string;
      if (character === "\\") {
        const next = this.text[this.position + 1] ?? "";
        const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0" };
        if (next in simple) {
          result += simple[next];
          this.position += 2;
          continue;
        }
        if (next === "x" || next === "u") {
          const length = next === "x" ? 2 : 4;
          result += String.fromCharCode(Number.parseInt(this.text.slice(this.position + 2, this.position + 2 + length), 16));
          this.position += 2 + length;
          continue;
        }
        result += next;
        this.position += 2;
        continue;
      }
      if (!triple && character === "\n") throw new LiteralError("unterminated string");
      result += character;
      this.position++;
    }
    if (!this.text.startsWith(end, this.position)) throw new LiteralError("unterminated string");
    this.position += end.length;
    // Adjacent literals concatenate, as in Python.
    const following = this.peek();
    if (following === "'" || following === '"') return result + this.string();
    return result;
  }

  private number(): PyValue {
    this.space();
    const match = /^[-+]?\s*(?:\d[\d_]*\.?[\d_]*(?:[eE][-+]?\d+)?|\.\d[\d_]*(?:[eE][-+]?\d+)?)/.exec(this.text.slice(this.position));
    if (match === null) {
      // -float('inf') and similar
      const sign = this.text[this.position];
      if (sign === "-" || sign === "+") {
        this.position++;
        const inner = this.value(0);
        if (inner.type === "float") return { type: "float", value: sign === "-" ? -inner.value : inner.value };
        if (inner.type === "int") return { type: "int", value: sign === "-" ? -inner.value : inner.value };
      }
      throw new LiteralError("bad number");
    }
    this.position += match[0].length;
    const text = match[0].replace(/[\s_]/g, "");
    if (/[.eE]/.test(text)) return { type: "float", value: Number(text) };
    return { type: "int", value: BigInt(text) };
  }
}

export function parseLiteral(text: string): PyValue {
  return new Parser(text).parse();
}

function printString(value: string): string {
  const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
  let body = "";
  for (const character of value) {
    if (character === "\\") body += "\\\\";
    else if (character === quote) body += `\\${quote}`;
    else if (character === "\n") body += "\\n";
    else if (character === "\t") body += "\\t";
    else if (character === "\r") body += "\\r";
    else if (character < " ") body += `\\x${character.charCodeAt(0).toString(16).padStart(2, "0")}`;
    else body += character;
  }
  return `${quote}${body}${quote}`;
}

function printFloat(value: number): string {
  if (Object.is(value, -0)) return "-0.0";
  if (Number.isNaN(value)) return "float('nan')";
  if (!Number.isFinite(value)) return value > 0 ? "float('inf')" : "float('-inf')";
  const text = String(value);
  return /[.e]/.test(text) ? text : `${text}.0`;
}

/** Python source for the value, e.g. `[1, (2, 3), {'a': None}]`. */
export function printLiteral(value: PyValue): string {
  switch (value.type) {
    case "none":
      return "None";
    case "bool":
      return value.value ? "True" : "False";
    case "int":
      return value.value.toString();
    case "float":
      return printFloat(value.value);
    case "str":
      return printString(value.value);
    case "list":
      return `[${value.items.map(printLiteral).join(", ")}]`;
    case "tuple":
      return value.items.length === 1 ? `(${printLiteral(value.items[0] as PyValue)},)` : `(${value.items.map(printLiteral).join(", ")})`;
    case "set":
      return value.items.length === 0 ? "set()" : `{${value.items.map(printLiteral).join(", ")}}`;
    case "dict":
      return `{${value.entries.map(([key, item]) => `${printLiteral(key)}: ${printLiteral(item)}`).join(", ")}}`;
  }
}

/** JSON test arguments as Python values (JSON has no tuples or sets). */
export function fromJson(value: unknown): PyValue {
  if (value instanceof ExactNumber) return value.isFloat ? { type: "float", value: Number(value.text) } : { type: "int", value: BigInt(value.text) };
  if (value === null || value === undefined) return { type: "none" };
  if (typeof value === "boolean") return { type: "bool", value };
  if (typeof value === "number") return Number.isInteger(value) ? { type: "int", value: BigInt(value) } : { type: "float", value };
  if (typeof value === "string") return { type: "str", value };
  if (Array.isArray(value)) return { type: "list", items: value.map(fromJson) };
  return { type: "dict", entries: Object.entries(value as Record<string, unknown>).map(([key, item]) => [{ type: "str", value: key }, fromJson(item)] as const) };
}

/**
 * A Python value as JSON, for languages whose tests take JSON arguments
 * (JavaScript); undefined when JSON cannot hold it (sets, non-string keys,
 * NaN, integers beyond 2^53).
 */
export function toJson(value: PyValue): unknown {
  switch (value.type) {
    case "none":
      return null;
    case "bool":
      return value.value;
    case "int":
      return value.value >= BigInt(Number.MIN_SAFE_INTEGER) && value.value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value.value) : undefined;
    case "float":
      return Number.isFinite(value.value) ? value.value : undefined;
    case "str":
      return value.value;
    case "list":
    case "tuple": {
      const items = value.items.map(toJson);
      return items.includes(undefined) ? undefined : items;
    }
    case "set":
      return undefined;
    case "dict": {
      const entries: [string, unknown][] = [];
      for (const [key, item] of value.entries) {
        const converted = toJson(item);
        if (key.type !== "str" || converted === undefined) return undefined;
        entries.push([key.value, converted]);
      }
      return Object.fromEntries(entries);
    }
  }
}
