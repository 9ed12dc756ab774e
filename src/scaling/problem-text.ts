/** The problem as the model reads it: the task, the entry point, the public tests. */
import type { Language, TestSpec } from "../shared/schema/execution.ts";
import type { Problem } from "../shared/schema/solve.ts";
import { callExpression, literalIn } from "../trace/index.ts";
import { doctestsOf } from "./inputs/doctests.ts";

/** One public test, written (in the program's language) as the model would check it by hand. */
export function testText(test: TestSpec, entryPoint: string | undefined, language: Language = "python"): string {
  const comment = language === "javascript" ? "//" : "#";
  switch (test.kind) {
    case "call": {
      const call = callExpression(entryPoint, test, language);
      const expected = test.expected !== undefined ? literalIn(language, test.expected) : test.output;
      if (expected !== undefined) return language === "javascript" ? `assert.deepStrictEqual(${call}, ${expected});` : `assert ${call} == ${expected}`;
      return `${call}${language === "javascript" ? ";" : ""}  ${comment} must run without an exception`;
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

/** The public tests: the given ones, and (with `doctests`) the examples written in the prompt. */
export function publicTests(problem: Problem): TestSpec[] {
  const tests = [...problem.tests];
  if (problem.doctests && problem.entry_point !== undefined) {
    const seen = new Set(tests.map((test) => JSON.stringify(test)));
    for (const example of doctestsOf(problem.prompt, problem.entry_point)) {
      if (!seen.has(JSON.stringify(example))) tests.push(example);
    }
  }
  return tests;
}

export function entryPointInstruction(problem: { readonly entry_point?: string | undefined; readonly tests: readonly TestSpec[] }): string {
  if (problem.entry_point !== undefined) return `The tests call \`${problem.entry_point}\`: define it with exactly that name.`;
  if (problem.tests.every((test) => test.kind === "stdio")) return "The program reads standard input and writes standard output.";
  return "Define everything the tests use.";
}
