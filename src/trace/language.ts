/**
 * How each language of candidate programs writes what tracefix shows a
 * model about it: values, strings, comments, an argument spread, an
 * equality check, a call as a statement. One entry per language: adding a
 * language adds an entry here, not a branch wherever text is written.
 */
import type { Language } from "../shared/schema/execution.ts";
import { javascriptLiteral } from "./javascript-text.ts";
import { fromJson, printLiteral } from "./python-literal.ts";

export interface LanguageWriting {
  /** Starts a line comment. */
  readonly comment: "#" | "//";
  /** A JSON value (or exact number) as a literal of the language. */
  literal(value: unknown): string;
  string(text: string): string;
  /** Spreads an argument list into a call: `f(*args)`, `f(...args)`. */
  readonly spread: "*" | "...";
  /** The check a test makes, as the model would write it by hand. */
  assertEqual(actual: string, expected: string): string;
  /** A call written as a statement. */
  statement(call: string): string;
}

/** repr() of a JSON value as Python writes the decoded value. */
export function pythonLiteral(value: unknown): string {
  return printLiteral(fromJson(value));
}

export const WRITING: Readonly<Record<Language, LanguageWriting>> = {
  python: {
    comment: "#",
    literal: pythonLiteral,
    string: (text) => printLiteral({ type: "str", value: text }),
    spread: "*",
    assertEqual: (actual, expected) => `assert ${actual} == ${expected}`,
    statement: (call) => call,
  },
  javascript: {
    comment: "//",
    literal: javascriptLiteral,
    string: (text) => JSON.stringify(text),
    spread: "...",
    assertEqual: (actual, expected) => `assert.deepStrictEqual(${actual}, ${expected});`,
    statement: (call) => `${call};`,
  },
};
