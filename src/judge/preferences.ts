/**
 * Preference pairs by the ETA rules: which of two programs is better, and
 * which rule decided it. A passing program beats a failing one; of two
 * failing ones, more tests passed wins, then more steps executed before the
 * error, then the milder failure (wrong answer over runtime error over a
 * timeout or memory/output limit over a syntax error). Two programs that
 * stand the same make no pair.
 */
import { ETA_RULES, etaStanding, type EtaStanding } from "./eta.ts";
import type { ExecutionReport } from "../shared/schema/execution.ts";
import type { PreferenceRule } from "../shared/schema/runs.ts";

export type { PreferenceRule };

export interface Preference {
  /** 0 when the first program is better, 1 when the second is. */
  readonly better: 0 | 1;
  readonly rule: PreferenceRule;
}

export function preferenceBetween(first: EtaStanding, second: EtaStanding): Preference | undefined {
  // Two passing programs are both right: no pair says one is better.
  if (first.failure === "passed" && second.failure === "passed") return undefined;
  for (const { rule, compare } of ETA_RULES) {
    const order = compare(first, second);
    if (order !== 0) return { better: order < 0 ? 0 : 1, rule };
  }
  return undefined;
}

/** The same, from two execution reports. */
export function preferenceBetweenReports(first: ExecutionReport, second: ExecutionReport): Preference | undefined {
  return preferenceBetween(etaStanding(first), etaStanding(second));
}
