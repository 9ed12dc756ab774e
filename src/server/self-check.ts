/** The start-up demonstration: one buggy program through the sandbox, its failure traced. */
import type { Executor } from "../sandbox/index.ts";
import type { Logger } from "../shared/logger.ts";

const DEMO_PROGRAM = `def mean(values):
    total = 0
    for value in values:
        total += value
    return total // len(values)
`;

export async function selfCheck(executor: Executor, logger: Logger, url: string): Promise<void> {
  const report = await executor.execute({
    language: "python",
    code: DEMO_PROGRAM,
    entryPoint: "mean",
    tests: [
      { kind: "call", args: [[2, 4]], expected: 3 },
      { kind: "call", args: [[1, 2]], expected: 1.5 },
    ],
    trace: { mode: "failing", max_events: 10_000, repr_limit: 80, max_tests: 3 },
    limits: { timeout_ms: 2_000, memory_mb: 512, output_bytes: 65_536 },
  });
  const failing = report.tests.find((test) => test.status !== "passed");
  const summary = report.tests.map((test) => test.status).join(", ");
  logger.info(
    `self-check: ran mean() against 2 tests in ${report.duration_ms.toFixed(1)} ms: ${summary}` +
      (failing === undefined
        ? ""
        : `; the failing test expected ${failing.expected ?? "?"} and got ${failing.actual ?? "?"}, traced over ${failing.steps ?? "?"} steps`),
  );
  logger.info(
    `try it: curl -s ${url}/v1/execute -H 'content-type: application/json' -d ` +
      `'{"code":"def add(a, b):\\n    return a - b\\n","entry_point":"add","tests":[{"kind":"call","args":[1,2],"expected":3}]}'`,
  );
}
