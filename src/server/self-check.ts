/**
 * The start-up demonstration: one buggy program through the sandbox, its
 * failure traced; then the same program repaired through /v1/solve by the
 * built-in repair search (no model needed), its rounds printed.
 */
import type { Executor } from "../sandbox/index.ts";
import type { Logger } from "../shared/logger.ts";
import { RunEvent } from "../shared/schema/events.ts";
import { ExecuteRequest, toExecutionJob } from "../shared/schema/requests.ts";
import { presentReport } from "../trace/index.ts";

const DEMO_PROGRAM = `def mean(values):
    total = 0
    for value in values:
        total += value
    return total // len(values)
`;

const DEMO_TESTS = [
  { kind: "call", args: [[2, 4]], expected: 3 },
  { kind: "call", args: [[1, 2]], expected: 1.5 },
];
const DEMO_HIDDEN = [{ kind: "call", args: [[1, 2, 4]], expected: 7 / 3 }];

export async function selfCheck(executor: Executor, logger: Logger, url: string): Promise<void> {
  await executeDemo(executor, logger);
  await repairDemo(logger, url);
  logger.info(
    `try it: curl -s ${url}/v1/solve -H 'content-type: application/json' -d ` +
      `'{"problem":{"prompt":"add two numbers","entry_point":"add","code":"def add(a, b):\\n    return a - b\\n","tests":[{"kind":"call","args":[1,2],"expected":3}]}}'`,
  );
}

async function executeDemo(executor: Executor, logger: Logger): Promise<void> {
  const job = toExecutionJob(ExecuteRequest.parse({ code: DEMO_PROGRAM, entry_point: "mean", tests: DEMO_TESTS, trace: { format: "concise", budget: 1_000 } }));
  const report = presentReport(job, await executor.execute(job));
  const failing = report.tests.find((test) => test.status !== "passed");
  const summary = report.tests.map((test) => test.status).join(", ");
  const failure = failing === undefined ? "" : `; the failing test expected ${failing.expected ?? "?"} and got ${failing.actual ?? "?"}, traced over ${failing.steps ?? "?"} steps`;
  logger.info(`self-check: ran mean() against 2 tests in ${report.duration_ms.toFixed(1)} ms: ${summary}${failure}`);
  if (failing?.rendering !== undefined) {
    logger.info(`self-check: what a model would read about the failing test:\n${failing.rendering}`);
  }
}

/** One line per event worth showing: the rounds, the edits tried, the answer. */
function describeEvent(event: RunEvent): string | undefined {
  switch (event.type) {
    case "policy.localized":
      return `round ${event.round}: most suspicious lines ${event.lines.slice(0, 3).map((line) => `${line.line} (${line.suspiciousness.toFixed(2)})`).join(", ")}`;
    case "round.completed":
      if (event.round === 1) return `round 1: the given program passes ${event.best?.passed ?? 0}/${event.best?.total ?? 0}`;
      return `round ${event.round}: ${event.edits_tried} edits run, best passes ${event.best?.passed ?? 0}/${event.best?.total ?? 0}${event.solved ? ", solved" : ""}`;
    case "run.completed":
      return `${event.status} in ${event.usage.wall_ms} ms; hidden tests ${event.hidden?.passed ?? "?"}/${event.hidden?.total ?? "?"}`;
    case "run.failed":
      return `failed: ${event.error.code}: ${event.error.message}`;
    default:
      return undefined;
  }
}

async function repairDemo(logger: Logger, url: string): Promise<void> {
  const body = { problem: { prompt: "mean(values): the arithmetic mean", entry_point: "mean", code: DEMO_PROGRAM, tests: DEMO_TESTS, hidden_tests: DEMO_HIDDEN }, policy: "repair", stream: true };
  try {
    const response = await fetch(`${url}/v1/solve`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const events = (await response.text())
      .split("\n")
      .filter((line) => line.startsWith("data: "))
      .map((line) => RunEvent.safeParse(JSON.parse(line.slice(6))))
      .flatMap((parsed) => (parsed.success ? [parsed.data] : []));
    const lines = events.map(describeEvent).filter((line) => line !== undefined);
    const fix = events.find((event) => event.type === "candidate.executed" && event.status === "passed");
    const generated = events.find((event) => event.type === "candidate.generated" && fix?.type === "candidate.executed" && event.candidate === fix.candidate);
    const change = generated?.type === "candidate.generated" ? `: ${generated.description}` : "";
    const outcome = fix === undefined ? "could not repair mean() through /v1/solve" : `repaired mean() through /v1/solve with the built-in repair search${change}`;
    logger.info(`self-check: ${outcome}\n  ${lines.join("\n  ")}`);
  } catch (error) {
    logger.warn(`self-check: the repair through /v1/solve failed: ${String(error)}`);
  }
}
