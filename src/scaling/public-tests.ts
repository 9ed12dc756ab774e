/** The public tests of a problem: the given ones and, with `doctests`, the examples written in its prompt. */
import type { TestSpec } from "../shared/schema/execution.ts";
import type { Problem } from "../shared/schema/solve.ts";
import { doctestsOf } from "./inputs/doctests.ts";

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

