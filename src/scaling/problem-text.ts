/** The problem as the model reads it: the task, the entry point, the public tests. */
import type { TestSpec } from "../shared/schema/execution.ts";
import type { Problem } from "../shared/schema/solve.ts";
import { callExpression, pythonLiteral } from "../trace/index.ts";

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

export function testsText(problem: Problem): string {
  return problem.tests.map((test) => testText(test, problem.entry_point)).join("\n");
}

export function entryPointInstruction(problem: Problem): string {
  if (problem.entry_point !== undefined) return `The tests call \`${problem.entry_point}\`: define it with exactly that name.`;
  if (problem.tests.every((test) => test.kind === "stdio")) return "The program reads standard input and writes standard output.";
  return "Define everything the tests use.";
}
