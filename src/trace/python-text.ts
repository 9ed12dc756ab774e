/**
 * Tests written in the language of the program under test: the call a test
 * makes and what it feeds and expects, the way Python (the default) or
 * JavaScript would write them (language.ts).
 */
import type { Language, TestSpec } from "../shared/schema/execution.ts";
import { pythonLiteral, WRITING } from "./language.ts";

/** A JSON value as a literal of `language`. */
export function literalIn(language: Language, value: unknown): string {
  return WRITING[language].literal(value);
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
  const positional = inner === undefined ? `${WRITING[language].spread}${input}` : inner;
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
        input: `stdin ${WRITING[language].string(test.stdin)}`,
        ...(test.stdout === undefined ? {} : { expected: `stdout ${WRITING[language].string(test.stdout)}` }),
      };
    case "assert":
      return { input: test.code.trim() };
  }
}
