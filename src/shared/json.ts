/**
 * JSON that keeps numbers exact. `JSON.parse` turns `18446744073709551617`
 * into 18446744073709552000, `1e400` into Infinity (re-serialised as `null`),
 * `-0.0` and `1.0` into integers; a Python program would then be called with
 * other values than the client sent. `parseJsonExact` reads a body once,
 * gives plain values for validation and lists every number literal that a
 * JavaScript number would change (with its path), so that test values can
 * carry the literal itself (`ExactNumber`) to the sandbox, where the
 * program's own language parses it. It also bounds nesting depth, naming
 * the path that goes too deep.
 */

/** A number literal exactly as the client wrote it. */
export class ExactNumber {
  constructor(readonly text: string) {}

  /** What JavaScript makes of it (lossy: only for logs and JavaScript programs). */
  valueOf(): number {
    return Number(this.text);
  }

  toJSON(): number {
    return Number(this.text);
  }

  /** Written with a decimal point or an exponent: a float in Python. */
  get isFloat(): boolean {
    return /[.eE]/.test(this.text);
  }

  /** True when a JavaScript number holds a different value (an integer past 2^53, an overflow). */
  get changesInJavaScript(): boolean {
    const value = Number(this.text);
    return !Number.isFinite(value) || (!this.isFloat && !Number.isSafeInteger(value));
  }
}

export type JsonPath = readonly (string | number)[];

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly path: JsonPath,
  ) {
    super(message);
  }
}

export interface ParsedJson {
  readonly value: unknown;
  /** Number literals whose JavaScript value differs from what was written, with where they are. */
  readonly exact: readonly { readonly path: JsonPath; readonly number: ExactNumber }[];
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

/** Whether the literal's JavaScript number would print back as something else. */
function needsExactness(text: string, value: number): boolean {
  if (!Number.isFinite(value)) return true;
  if (Object.is(value, -0)) return true;
  const floatLiteral = /[.eE]/.test(text);
  // `1.0` is a float in Python; a JavaScript 1 prints back as the int `1`.
  if (floatLiteral) return Number.isInteger(value);
  return !Number.isSafeInteger(value);
}

class ExactParser {
  private position = 0;
  readonly exact: { path: JsonPath; number: ExactNumber }[] = [];

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {}

  parse(): unknown {
    const value = this.value([]);
    this.skipSpace();
    if (this.position < this.text.length) this.fail("unexpected text after the JSON value", []);
    return value;
  }

  private fail(message: string, path: JsonPath): never {
    throw new JsonSyntaxError(`${message} (at character ${this.position})`, path);
  }

  private skipSpace(): void {
    WHITESPACE.lastIndex = this.position;
    WHITESPACE.exec(this.text);
    this.position = WHITESPACE.lastIndex;
  }

  private value(path: JsonPath): unknown {
    this.skipSpace();
    const character = this.text[this.position];
    if (character === "{") return this.object(path);
    if (character === "[") return this.array(path);
    if (character === '"') return this.string(path);
    if (character === "t") return this.word("true", true, path);
    if (character === "f") return this.word("false", false, path);
    if (character === "n") return this.word("null", null, path);
    return this.number(path);
  }

  private enter(path: JsonPath): void {
    if (path.length >= this.maxDepth) {
      throw new JsonSyntaxError(`nested deeper than ${this.maxDepth} levels`, path);
    }
    this.position += 1;
  }

  private object(path: JsonPath): Record<string, unknown> {
    this.enter(path);
    const result: Record<string, unknown> = {};
    this.skipSpace();
    if (this.text[this.position] === "}") {
      this.position += 1;
      return result;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.position] !== '"') this.fail("expected a property name", path);
      const key = this.string(path);
      this.skipSpace();
      if (this.text[this.position] !== ":") this.fail("expected ':'", path);
      this.position += 1;
      // Not `result[key] =`: a key "__proto__" must be a plain property.
      Object.defineProperty(result, key, { value: this.value([...path, key]), enumerable: true, writable: true, configurable: true });
      this.skipSpace();
      const next = this.text[this.position];
      this.position += 1;
      if (next === "}") return result;
      if (next !== ",") this.fail("expected ',' or '}'", path);
    }
  }

  private array(path: JsonPath): unknown[] {
    this.enter(path);
    const result: unknown[] = [];
    this.skipSpace();
    if (this.text[this.position] === "]") {
      this.position += 1;
      return result;
    }
    for (;;) {
      result.push(this.value([...path, result.length]));
      this.skipSpace();
      const next = this.text[this.position];
      this.position += 1;
      if (next === "]") return result;
      if (next !== ",") this.fail("expected ',' or ']'", path);
    }
  }

  /** Finds the closing quote, then lets JSON.parse decode the escapes (fast and exact). */
  private string(path: JsonPath): string {
    const start = this.position;
    let index = start + 1;
    for (;;) {
      const quote = this.text.indexOf('"', index);
      if (quote < 0) this.fail("unterminated string", path);
      let backslashes = 0;
      while (this.text[quote - 1 - backslashes] === "\\") backslashes += 1;
      index = quote + 1;
      if (backslashes % 2 === 0) break;
    }
    this.position = index;
    try {
      return JSON.parse(this.text.slice(start, index)) as string;
    } catch {
      return this.fail("invalid string", path);
    }
  }

  private word<Value>(word: string, value: Value, path: JsonPath): Value {
    if (!this.text.startsWith(word, this.position)) this.fail("unexpected token", path);
    this.position += word.length;
    return value;
  }

  private number(path: JsonPath): number {
    NUMBER.lastIndex = this.position;
    const match = NUMBER.exec(this.text);
    if (match === null) this.fail("unexpected token", path);
    this.position = NUMBER.lastIndex;
    const text = match[0];
    const value = Number(text);
    if (needsExactness(text, value)) this.exact.push({ path, number: new ExactNumber(text) });
    return value;
  }
}

/** Parses `text`; throws JsonSyntaxError (with a path) for invalid or too deeply nested JSON. */
export function parseJsonExact(text: string, maxDepth = 64): ParsedJson {
  const parser = new ExactParser(text, maxDepth);
  const value = parser.parse();
  return { value, exact: parser.exact };
}

/** Puts `replacement` at `path` inside `root` (objects and arrays as validation returned them). */
export function setAtPath(root: unknown, path: JsonPath, replacement: unknown): boolean {
  let node = root;
  for (const key of path.slice(0, -1)) {
    if (node === null || typeof node !== "object") return false;
    node = (node as Record<string | number, unknown>)[key];
  }
  const last = path.at(-1);
  if (last === undefined || node === null || typeof node !== "object" || !Object.hasOwn(node, last)) return false;
  (node as Record<string | number, unknown>)[last] = replacement;
  return true;
}

/**
 * JSON.stringify that writes every ExactNumber as its literal. A random
 * marker (unknowable to a client) stands in for each literal while
 * JSON.stringify runs, then the literal replaces it.
 */
const MARKER = `\u0000tracefix-exact-${Math.random().toString(36).slice(2)}:`;
const MARKED = new RegExp(`"${MARKER.replace("\u0000", "\\\\u0000")}([-+.0-9eE]+)"`, "g");

export function stringifyExact(value: unknown): string {
  let marked = false;
  const text = JSON.stringify(value, function (this: unknown, key: string, item: unknown) {
    const original = (this as Record<string, unknown> | undefined)?.[key];
    if (original instanceof ExactNumber) {
      marked = true;
      return `${MARKER}${original.text}`;
    }
    return item;
  });
  return marked ? text.replace(MARKED, (_match, literal: string) => literal) : text;
}
