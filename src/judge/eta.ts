/**
 * The ETA order of programs (Execution-Trace Alignment), used wherever a
 * ranking needs it: a passing program beats a failing one; of two failing
 * ones, more public tests passed wins, then more steps executed before the
 * error, then the milder failure (wrong answer > runtime error > timeout /
 * memory / output > syntax error); a reply without code is last.
 */
import type { ExecutionReport, TestStatus } from "../shared/schema/execution.ts";
import type { PreferenceRule } from "../shared/schema/runs.ts";

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

/** Timeouts and memory/output limits are one class: none says more than another about the program. */
const CLASS_OF_STATUS: Readonly<Record<TestStatus, FailureClass>> = {
  passed: "passed",
  wrong_answer: "wrong_answer",
  runtime_error: "runtime_error",
  timeout: "resource",
  memory_limit: "resource",
  output_limit: "resource",
  syntax_error: "syntax_error",
};

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
    const current = CLASS_OF_STATUS[status];
    if (CLASS_ORDER[current] > CLASS_ORDER[failure]) failure = current;
  }
  return { passed, total, failure, steps };
}

/**
 * The ETA rules, in the order they decide: the first that tells two
 * programs apart names the better one (negative: `left` is better). The
 * ranking (compareEta) and the preference pairs (preferences.ts) both read
 * this one list.
 */
export const ETA_RULES: readonly { readonly rule: PreferenceRule; readonly compare: (left: EtaStanding, right: EtaStanding) => number }[] = [
  { rule: "passing_beats_failing", compare: (left, right) => Number(right.failure === "passed") - Number(left.failure === "passed") },
  { rule: "more_tests_passed", compare: (left, right) => right.passed - left.passed },
  { rule: "more_steps_before_error", compare: (left, right) => right.steps - left.steps },
  { rule: "milder_failure", compare: (left, right) => CLASS_ORDER[left.failure] - CLASS_ORDER[right.failure] },
];

/** Negative when `left` ranks before `right` (is better). */
export function compareEta(left: EtaStanding, right: EtaStanding): number {
  for (const { compare } of ETA_RULES) {
    const order = compare(left, right);
    if (order !== 0) return order;
  }
  return 0;
}
