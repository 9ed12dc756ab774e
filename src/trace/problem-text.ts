/** The problem as the model reads it: the task, the entry point, the public tests. */
import type { Language, TestSpec } from "../shared/schema/execution.ts";
import { WRITING } from "./language.ts";
import { callExpression, literalIn } from "./python-text.ts";

/** One public test, written (in the program's language) as the model would check it by hand. */
export function testText(test: TestSpec, entryPoint: string | undefined, language: Language = "python"): string {
  const writing = WRITING[language];
  const comment = writing.comment;
  switch (test.kind) {
    case "call": {
      const call = callExpression(entryPoint, test, language);
      const expected = test.expected !== undefined ? literalIn(language, test.expected) : test.output;
      if (expected !== undefined) return writing.assertEqual(call, expected);
      return `${writing.statement(call)}  ${comment} must run without an exception`;
    }
    case "stdio":
      return `${comment} with standard input:\n${indentBlock(test.stdin, comment)}\n${comment} the program prints:\n${indentBlock(test.stdout ?? "(anything)", comment)}`;
    case "assert":
      return test.code.trim();
  }
}

function indentBlock(text: string, comment: string): string {
  return text
    .replace(/\n$/, "")
    .split("\n")
    .map((line) => `${comment}   ${line}`)
    .join("\n");
}

export function testsText(tests: readonly TestSpec[], entryPoint: string | undefined, language: Language = "python"): string {
  return tests.map((test) => testText(test, entryPoint, language)).join("\n");
}

export function entryPointInstruction(problem: { readonly entry_point?: string | undefined; readonly tests: readonly TestSpec[] }): string {
  if (problem.entry_point !== undefined) return `The tests call \`${problem.entry_point}\`: define it with exactly that name.`;
  if (problem.tests.every((test) => test.kind === "stdio")) return "The program reads standard input and writes standard output.";
  return "Define everything the tests use.";
}
