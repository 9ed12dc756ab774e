/**
 * Tests written in the language of the program under test: JSON values and
 * test inputs the way Python (the default) or JavaScript would write them.
 */
import type { Language, TestSpec } from "../shared/schema/execution.ts";
import { ExactNumber } from "../shared/json.ts";
import { javascriptLiteral } from "./javascript-text.ts";

function pythonString(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let body = "";
  for (const character of text) {
    if (character === "\\") body += "\\\\";
    else if (character === quote) body += `\\${quote}`;
    else if (character === "\n") body += "\\n";
    else if (character === "\t") body += "\\t";
    else if (character === "\r") body += "\\r";
    else body += character;
  }
  return `${quote}${body}${quote}`;
}

/** repr() of a float literal the client wrote exactly (`1.0`, `-0.0`, `1e400`). */
function exactPython(number: ExactNumber): string {
  if (!number.isFloat) return BigInt(number.text).toString();
  const value = Number(number.text);
  if (Object.is(value, -0)) return "-0.0";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  return Number.isInteger(value) && Math.abs(value) < 1e16 ? `${value}.0` : String(value);
}

/** repr() of a JSON value as Python would print the decoded value. */
export function pythonLiteral(value: unknown): string {
  if (value instanceof ExactNumber) return exactPython(value);
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number") {
    if (Number.isInteger(value) && !Object.is(value, -0)) return String(value);
    if (Number.isNaN(value)) return "nan";
    if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
    const text = String(value);
    return text.includes(".") || text.includes("e") ? text : `${text}.0`;
  }
  if (typeof value === "string") return pythonString(value);
  if (Array.isArray(value)) return `[${value.map(pythonLiteral).join(", ")}]`;
  if (typeof value === "object") {
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([key, item]) => `${pythonString(key)}: ${pythonLiteral(item)}`)
      .join(", ")}}`;
  }
  return String(value);
}

/** A JSON value as a literal of `language`. */
export function literalIn(language: Language, value: unknown): string {
  return language === "javascript" ? javascriptLiteral(value) : pythonLiteral(value);
}

function stringIn(language: Language, text: string): string {
  return language === "javascript" ? JSON.stringify(text) : pythonString(text);
}

/** The call a `call` test makes, e.g. `mean([1, 2])`. */
export function callExpression(entryPoint: string | undefined, test: Extract<TestSpec, { kind: "call" }>, language: Language = "python"): string {
  const name = entryPoint ?? "f";
  const keyword = Object.entries(test.kwargs ?? {}).map(([key, value]) => `${key}=${pythonLiteral(value)}`);
  if (test.args !== undefined) {
    return `${name}(${[...test.args.map((value) => literalIn(language, value)), ...keyword].join(", ")})`;
  }
  const input = (test.input ?? "").trim();
  // "[1, [2, 3]]" is the argument list itself: show it as the call's arguments.
  const inner = input.startsWith("[") && input.endsWith("]") ? input.slice(1, -1).trim() : undefined;
  const positional = inner === undefined ? `${language === "javascript" ? "..." : "*"}${input}` : inner;
  return `${name}(${[positional, ...keyword].filter((part) => part !== "").join(", ")})`;
}

/** What the test feeds the program and what it expects, in words a model reads. */
export function describeTest(entryPoint: string | undefined, test: TestSpec | undefined, language: Language = "python"): { input: string; expected?: string } {
  if (test === undefined) return { input: "(unknown test)" };
  switch (test.kind) {
    case "call": {
      const input = callExpression(entryPoint, test, language);
      if (test.expected !== undefined) return { input, expected: literalIn(language, test.expected) };
      if (test.output !== undefined) return { input, expected: test.output };
      return { input };
    }
    case "stdio":
      return {
        input: `stdin ${stringIn(language, test.stdin)}`,
        ...(test.stdout === undefined ? {} : { expected: `stdout ${stringIn(language, test.stdout)}` }),
      };
    case "assert":
      return { input: test.code.trim() };
  }
}
