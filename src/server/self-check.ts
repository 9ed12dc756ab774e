/** The start-up demonstration: one buggy program through the sandbox, its failure traced. */
import type { Executor } from "../sandbox/index.ts";
import type { Logger } from "../shared/logger.ts";
import { ExecuteRequest, toExecutionJob } from "../shared/schema/requests.ts";
import { presentReport } from "../trace/index.ts";

const DEMO_PROGRAM = `def mean(values):
    total = 0
    for value in values:
        total += value
    return total // len(values)
`;

export async function selfCheck(executor: Executor, logger: Logger, url: string): Promise<void> {
  const job = toExecutionJob(
    ExecuteRequest.parse({
      code: DEMO_PROGRAM,
      entry_point: "mean",
      tests: [
        { kind: "call", args: [[2, 4]], expected: 3 },
        { kind: "call", args: [[1, 2]], expected: 1.5 },
      ],
      trace: { format: "concise", budget: 1_000 },
    }),
  );
  const report = presentReport(job, await executor.execute(job));
  const failing = report.tests.find((test) => test.status !== "passed");
  const summary = report.tests.map((test) => test.status).join(", ");
  const failure = failing === undefined ? "" : `; the failing test expected ${failing.expected ?? "?"} and got ${failing.actual ?? "?"}, traced over ${failing.steps ?? "?"} steps`;
  logger.info(`self-check: ran mean() against 2 tests in ${report.duration_ms.toFixed(1)} ms: ${summary}${failure}`);
  if (failing?.rendering !== undefined) {
    logger.info(`self-check: what a model would read about the failing test:\n${failing.rendering}`);
  }
  logger.info(
    `try it: curl -s ${url}/v1/execute -H 'content-type: application/json' -d ` +
      `'{"code":"def add(a, b):\\n    return a - b\\n","entry_point":"add","tests":[{"kind":"call","args":[1,2],"expected":3}]}'`,
  );
}
