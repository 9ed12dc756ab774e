/**
 * Preference pairs by the ETA rules: which of two programs is better, and
 * which rule decided it. A passing program beats a failing one; of two
 * failing ones, more tests passed wins, then more steps executed before the
 * error, then the milder failure (wrong answer over runtime error over a
 * timeout or memory/output limit over a syntax error). Two programs that
 * stand the same make no pair.
 */
import { CLASS_ORDER, etaStanding, type EtaStanding, type FailureClass } from "./eta.ts";
import type { ExecutionReport } from "../shared/schema/execution.ts";
import type { PreferenceRule } from "../shared/schema/runs.ts";

export type { PreferenceRule };

export interface Preference {
  /** 0 when the first program is better, 1 when the second is. */
  readonly better: 0 | 1;
  readonly rule: PreferenceRule;
}


export function preferenceBetween(first: EtaStanding, second: EtaStanding): Preference | undefined {
  const firstPasses = first.failure === "passed";
  const secondPasses = second.failure === "passed";
  if (firstPasses !== secondPasses) return { better: firstPasses ? 0 : 1, rule: "passing_beats_failing" };
  if (firstPasses) return undefined;
  if (first.passed !== second.passed) return { better: first.passed > second.passed ? 0 : 1, rule: "more_tests_passed" };
  if (first.steps !== second.steps) return { better: first.steps > second.steps ? 0 : 1, rule: "more_steps_before_error" };
  if (first.failure !== second.failure) return { better: CLASS_ORDER[first.failure] < CLASS_ORDER[second.failure] ? 0 : 1, rule: "milder_failure" };
  return undefined;
}

/** The same, from two execution reports. */
export function preferenceBetweenReports(first: ExecutionReport, second: ExecutionReport): Preference | undefined {
  return preferenceBetween(etaStanding(first), etaStanding(second));
}
