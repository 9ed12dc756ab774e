/**
 * Public tests from the problem text: examples a prompt shows, such as
 *
 *     >>> closest([1, 2, 3], 2.5)
 *     2
 *     closest([1, 2], 0) ➞ 1
 *     closest([4]) == 4
 *     closest([5, 6], 7) -> 6        closest([5, 6], 7) => 6
 *     closest([0]) should return 0
 *     closest([1], 0) => true                      (true/false/null read as Python's)
 *     f("2 and 3", 9) -> 9 - 2 - 3 = 4             (the value after the last `=`)
 *     Input: [4, 2, 3]            Input: arr = [1, 2], k = 1
 *     Output: [2, 1]              Output: 3
 *     For xs = [1, 2], the output should be 3.     (or "the result should be")
 *     >>> closest([7]) == 7        closest([8]) = 8        closest([9])  # returns 9
 *
 * each becoming a `call` test of the entry point. Named arguments are put
 * in the order of the signature the prompt gives (`def entry(a, b):`).
 * Only examples whose arguments and expected value are Python literals are
 * kept.
 */
import type { TestSpec } from "../../shared/schema/execution.ts";
import { LiteralError, parseLiteral } from "../../trace/index.ts";
import { callArguments, parametersOf, splitTopLevel } from "./source-text.ts";

function isLiteral(text: string): boolean {
  try {
    parseLiteral(text);
    return true;
  } catch (error) {
    if (error instanceof LiteralError) return false;
    throw error;
  }
}

const ARROW = /^\s*(?:#\s*)?(?:==>?|=>|=(?![=>])|➞|->|→|should return|returns|will return|is)\s*(.+?)\s*$/;

/** JSON's and JavaScript's words for Python's constants, when a whole value is one. */
const CONSTANTS: Readonly<Record<string, string>> = { true: "True", false: "False", null: "None" };

/**
 * An example's input as an argument list: `name = value, …` pairs in the
 * signature's order (the leading pairs only: prose may follow), else the
 * whole text as the arguments when it has as many as the signature.
 */
function argumentsFrom(text: string, parameters: readonly string[] | undefined): string | undefined {
  const parts = splitTopLevel(text.trim().replace(/[.;]$/, ""));
  const named = new Map<string, string>();
  for (const part of parts) {
    const pair = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+)$/s.exec(part);
    if (pair === null || pair[2]?.startsWith("=")) break;
    named.set(pair[1] as string, pair[2] as string);
  }
  if (named.size > 0) {
    if (parameters === undefined || parameters.length !== named.size || !parameters.every((name) => named.has(name))) return undefined;
    return parameters.map((name) => named.get(name)).join(", ");
  }
  if (parameters !== undefined && parameters.length !== parts.length && parameters.length !== 1) return undefined;
  return text.trim();
}

export function doctestsOf(prompt: string, entryPoint: string): TestSpec[] {
  const tests: TestSpec[] = [];
  const seen = new Set<string>();
  const lines = prompt.split("\n");
  const parameters = parametersOf(prompt, entryPoint)?.map((parameter) => parameter.name);
  const add = (argumentsText: string, expected: string): void => {
    const input = `[${argumentsText.trim()}]`;
    let output = expected.trim().replace(/[.;,]$/, "");
    output = CONSTANTS[output] ?? output;
    // "-> 19 - 5 - 6 = 8": the worked sum, then the value.
    if (!isLiteral(output) && output.includes("=")) output = (output.split("=").at(-1) ?? "").trim();
    if (output === "" || !isLiteral(input) || !isLiteral(output)) return;
    const key = `${input}\u0000${output}`;
    if (seen.has(key)) return;
    seen.add(key);
    tests.push({ kind: "call", input, output });
  };
  const call = new RegExp(`(?:^|[^A-Za-z0-9_.])${entryPoint}\\s*\\(`, "g");
  // A prompt that defines the function by a rule (`tri(n) = …`) states its bare `f(1) = 3` lines as that rule, not as examples.
  const byRule = new RegExp(`${entryPoint}\\s*\\(\\s*[A-Za-z_][A-Za-z0-9_]*[^)]*\\)\\s*=(?!=)`).test(prompt);
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] as string;
    const prompted = /^\s*>>>\s*(.*)$/.exec(line);
    if (prompted !== null) {
      const expression = prompted[1] as string;
      const start = expression.search(new RegExp(`^${entryPoint}\\s*\\(`));
      if (start !== 0) continue;
      const found = callArguments(expression, expression.indexOf("("));
      if (found === undefined) continue;
      // `>>> f(x) == y` (or `>>> f(x) y`): the expected value on the same line.
      const rest = expression.slice(found.end).trim();
      if (rest !== "") {
        add(found.inner, ARROW.exec(rest)?.[1] ?? rest);
        continue;
      }
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
    const input = /^\s*Input\s*:\s*(.+)$/i.exec(line);
    const output = input === null ? null : /^\s*Output\s*:\s*(.+)$/i.exec(lines.slice(index + 1).find((text) => text.trim() !== "") ?? "");
    if (input !== null && output !== null) {
      const argumentsText = argumentsFrom(input[1] as string, parameters);
      if (argumentsText !== undefined) add(argumentsText, output[1] as string);
      continue;
    }
    const sentence = /\bFor\s+(.+?)\s*,?\s+the\s+(?:output|result)\s+should\s+be\s+(.+?)\s*$/i.exec(line);
    if (sentence !== null) {
      const argumentsText = argumentsFrom(sentence[1] as string, parameters);
      if (argumentsText !== undefined && /=/.test(sentence[1] as string)) add(argumentsText, sentence[2] as string);
      continue;
    }
    for (const match of line.matchAll(call)) {
      const open = (match.index ?? 0) + match[0].length - 1;
      const found = callArguments(line, open);
      if (found === undefined) continue;
      const after = line.slice(found.end);
      const arrow = ARROW.exec(after);
      if (arrow === null || (byRule && /^\s*=(?![=>])/.test(after))) continue;
      add(found.inner, arrow[1] as string);
    }
  }
  return tests;
}
