/**
 * The strategy seam: how a run spends its rounds. A strategy drives the
 * shared round runner (round.ts) and, where it selects, the shared
 * selection (choose.ts); the run driver (run.ts) does the rest (events of
 * the run, the answer's hidden tests, failures, the deadline). Adding a
 * strategy is one file in strategies/ and one line in STRATEGIES.
 */
import type { RunEventPayload } from "../shared/schema/events.ts";
import type { ChosenBy } from "../shared/schema/solve.ts";
import type { Candidate, RunContext } from "./run-context.ts";

/** The program a strategy settled on, with its public-test figures. */
export interface Answer {
  readonly candidate: Candidate;
  readonly passed: number;
  readonly total: number;
  /** The rule that made it the answer (said in the result). */
  readonly chosenBy: ChosenBy;
}

export interface StrategyOutcome {
  /** undefined: the driver takes the best program so far (reward model, else the ETA order). */
  readonly answer: Answer | undefined;
  /** The answer passes every public test. */
  readonly solved: boolean;
}

export interface Strategy {
  /** The request's `strategy` value. */
  readonly name: string;
  run(context: RunContext): AsyncGenerator<RunEventPayload, StrategyOutcome>;
}

export function answerOf(candidate: Candidate, chosenBy: ChosenBy): Answer {
  return { candidate, passed: candidate.standing.passed, total: candidate.standing.total, chosenBy };
}
