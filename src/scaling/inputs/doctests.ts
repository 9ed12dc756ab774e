/**
 * Public tests from the problem text: examples a prompt shows, such as
 *
 *     >>> closest([1, 2, 3], 2.5)
 *     2
 *     closest([1, 2], 0) ➞ 1
 *     closest([4]) == 4
 *     closest([5, 6], 7) -> 6        closest([5, 6], 7) => 6
 *     closest([0]) should return 0
 *
 * each becoming a `call` test of the entry point. Only examples whose
 * arguments and expected value are Python literals are kept.
 */
import type { TestSpec } from "../../shared/schema/execution.ts";
import { LiteralError, parseLiteral } from "../../trace/index.ts";

function isLiteral(text: string): boolean {
  try {
    parseLiteral(text);
    return true;
  } catch (error) {
    if (error instanceof LiteralError) return false;
    throw error;
  }
}

/** The argument text of `name(...)` starting at `open` (the parenthesis), and where it ends. */
function callArguments(text: string, open: number): { inner: string; end: number } | undefined {
  let depth = 0;
  let quote: string | undefined;
  for (let index = open; index < text.length; index++) {
    const character = text[index] as string;
    if (quote !== undefined) {
      if (character === "\\") index++;
      else if (character === quote) quote = undefined;
      continue;
    }
    if (character === "'" || character === '"') quote = character;
    else if (character === "(" || character === "[" || character === "{") depth++;
    else if (character === ")" || character === "]" || character === "}") {
      depth--;
      if (depth === 0) return { inner: text.slice(open + 1, index), end: index + 1 };
    }
  }
  return undefined;
}

const ARROW = /^\s*(?:==>?|➞|->|=>|→|should return|returns|will return|is)\s*(.+?)\s*$/;

export function doctestsOf(prompt: string, entryPoint: string): TestSpec[] {
  const tests: TestSpec[] = [];
  const seen = new Set<string>();
  const lines = prompt.split("\n");
  const add = (argumentsText: string, expected: string): void => {
    const input = `[${argumentsText.trim()}]`;
    const output = expected.trim().replace(/[.;,]$/, "");
    if (output === "" || !isLiteral(input) || !isLiteral(output)) return;
    const key = `${input}\u0000${output}`;
    if (seen.has(key)) return;
    seen.add(key);
    tests.push({ kind: "call", input, output });
  };
  const call = new RegExp(`(?:^|[^A-Za-z0-9_.])${entryPoint}\\s*\\(`, "g");
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] as string;
    const prompted = /^\s*>>>\s*(.*)$/.exec(line);
    if (prompted !== null) {
      const expression = prompted[1] as string;
      const start = expression.search(new RegExp(`^${entryPoint}\\s*\\(`));
      if (start !== 0) continue;
      const found = callArguments(expression, expression.indexOf("("));
      if (found === undefined || expression.slice(found.end).trim() !== "") continue;
      // The expected value: the following lines, until they form a literal
      // (a value may span lines; prose may follow without a blank line).
      const expected: string[] = [];
      for (let next = index + 1; next < lines.length && expected.length < 10; next++) {
        const text = (lines[next] as string).trim();
        if (text === "" || text.startsWith(">>>")) break;
        expected.push(text);
        if (isLiteral(expected.join(" ").replace(/[.;,]$/, ""))) break;
      }
      if (expected.length > 0) add(found.inner, expected.join(" "));
      continue;
    }
    for (const match of line.matchAll(call)) {
      const open = (match.index ?? 0) + match[0].length - 1;
      const found = callArguments(line, open);
      if (found === undefined) continue;
      const arrow = ARROW.exec(line.slice(found.end));
      if (arrow !== null) add(found.inner, arrow[1] as string);
    }
  }
  return tests;
}
