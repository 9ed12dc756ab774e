/**
 * The ETA order of programs (Execution-Trace Alignment), used wherever a
 * ranking needs it: a passing program beats a failing one; of two failing
 * ones, more public tests passed wins, then more steps executed before the
 * error, then the milder failure (wrong answer > runtime error > timeout /
 * memory / output > syntax error); a reply without code is last.
 */
import type { ExecutionReport, TestStatus } from "../shared/schema/execution.ts";

export type FailureClass = "passed" | "wrong_answer" | "runtime_error" | "resource" | "syntax_error" | "no_code" | "error";

export interface EtaStanding {
  readonly passed: number;
  readonly total: number;
  readonly failure: FailureClass;
  /** Steps the failing tests ran before failing (traced tests only). */
  readonly steps: number;
}

/** Failure classes from best to worst (the ETA order); preferences.ts ranks by it too. */
export const CLASS_ORDER: Readonly<Record<FailureClass, number>> = {
  passed: 0,
  wrong_answer: 1,
  runtime_error: 2,
  resource: 3,
  syntax_error: 4,
  error: 5,
  no_code: 6,
};

function classOf(status: TestStatus): FailureClass {
  switch (status) {
    case "passed":
      return "passed";
    case "wrong_answer":
      return "wrong_answer";
    case "runtime_error":
      return "runtime_error";
    case "syntax_error":
      return "syntax_error";
    default:
      return "resource";
  }
}

/** Where a program stands: its report's figures in ETA terms; undefined report = no code. */
export function etaStanding(report: ExecutionReport | undefined): EtaStanding {
  if (report === undefined) return { passed: 0, total: 0, failure: "no_code", steps: 0 };
  if (report.status === "error") return { passed: 0, total: report.total, failure: "error", steps: 0 };
  const failing = report.tests.filter((test) => test.status !== "passed");
  const steps = failing.reduce((sum, test) => sum + (test.steps ?? test.steps_at_least ?? 0), 0);
  return standingOf(report.passed, report.total, failing.map((test) => test.status), steps);
}

/**
 * The same from what a candidate.executed event carries (the test statuses
 * and the steps before failing), for runs read back from their events.
 */
export function standingOf(passed: number, total: number, statuses: readonly TestStatus[], steps: number): EtaStanding {
  let failure: FailureClass = "passed";
  for (const status of statuses) {
    const current = classOf(status);
    if (CLASS_ORDER[current] > CLASS_ORDER[failure]) failure = current;
  }
  return { passed, total, failure, steps };
}

/** Negative when `left` ranks before `right` (is better). */
export function compareEta(left: EtaStanding, right: EtaStanding): number {
  const leftPasses = left.failure === "passed";
  const rightPasses = right.failure === "passed";
  if (leftPasses !== rightPasses) return leftPasses ? -1 : 1;
  if (left.passed !== right.passed) return right.passed - left.passed;
  if (left.steps !== right.steps) return right.steps - left.steps;
  return CLASS_ORDER[left.failure] - CLASS_ORDER[right.failure];
}
