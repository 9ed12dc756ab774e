/** The problem as the model reads it: the task, the entry point, the public tests. */
import type { TestSpec } from "../shared/schema/execution.ts";
import type { Problem } from "../shared/schema/solve.ts";
import { callExpression, pythonLiteral } from "../trace/index.ts";
import { doctestsOf } from "./inputs/doctests.ts";

/** One public test, written as the model would check it by hand. */
export function testText(test: TestSpec, entryPoint: string | undefined): string {
  switch (test.kind) {
    case "call": {
      const call = callExpression(entryPoint, test);
      if (test.expected !== undefined) return `assert ${call} == ${pythonLiteral(test.expected)}`;
      if (test.output !== undefined) return `assert ${call} == ${test.output}`;
      return `${call}  # must run without an exception`;
    }
    case "stdio":
      return `# with standard input:\n${indentBlock(test.stdin)}\n# the program prints:\n${indentBlock(test.stdout ?? "(anything)")}`;
    case "assert":
      return test.code.trim();
  }
}

function indentBlock(text: string): string {
  return text
    .replace(/\n$/, "")
    .split("\n")
    .map((line) => `#   ${line}`)
    .join("\n");
}

export function testsText(tests: readonly TestSpec[], entryPoint: string | undefined): string {
  return tests.map((test) => testText(test, entryPoint)).join("\n");
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
