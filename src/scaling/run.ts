/**
 * The run driver (architecture/overview.md, "Strategies"), whatever the strategy:
 * `run.started`, the strategy's rounds, the answer (the strategy's, else the
 * best program so far), the answer — and only it — against the hidden
 * tests, then `run.completed`; or `run.failed` with the error's code. A
 * deadline stops the run with the best program so far.
 *
 * An async generator: it yields events as they happen and returns the result.
 */
import { AbortedError, TracefixError } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import type { RunEventPayload } from "../shared/schema/events.ts";
import type { RunError, SolveResult, Solution, Usage } from "../shared/schema/solve.ts";
import { RunContext, type RunInput, type ScalingDependencies } from "./run-context.ts";
import { STRATEGIES } from "./strategies/index.ts";
import { answerOf, type Answer } from "./strategy.ts";

function startedEvent(context: RunContext): RunEventPayload {
  const { request, deps } = context;
  const problem = request.problem;
  return {
    type: "run.started",
    strategy: request.strategy,
    n: request.n,
    rounds: request.rounds,
    temperature: request.temperature,
    model: request.model ?? deps.policy.description,
    policy: request.policy,
    context: request.context,
    trace: { format: request.trace.format, budget: request.trace.budget },
    deadline_ms: request.deadline_ms,
    problem: {
      prompt: problem.prompt,
      language: problem.language,
      entry_point: problem.entry_point ?? null,
      public_tests: problem.tests.length,
      hidden_tests: problem.hidden_tests.length,
      repair: problem.code !== undefined,
    },
  };
}

/** The error a run reports, as events and results carry it. */
export function runErrorOf(error: unknown, cancelled: boolean): RunError {
  if (cancelled) return { code: "cancelled", stage: error instanceof TracefixError ? error.stage : "scaling", message: "the run was cancelled" };
  if (error instanceof TracefixError) return { code: error.code, stage: error.stage, message: error.message };
  return { code: "internal_error", stage: "scaling", message: String(error) };
}

/** The `run.failed` event and the result that goes with it. */
export function failedRun(runId: string, error: RunError, usage: Usage, rounds: SolveResult["rounds"], cancelled: boolean): { event: RunEventPayload; result: SolveResult } {
  return {
    event: { type: "run.failed", error, usage },
    result: { run_id: runId, status: "failed", stopped: cancelled ? "cancelled" : "error", solution: null, hidden: null, rounds, usage, error },
  };
}

function* fail(context: RunContext, runId: string, error: unknown, logger: Logger): Generator<RunEventPayload, SolveResult> {
  const cancelled = error instanceof AbortedError || (context.signal.aborted && !context.deadlinePassed);
  if (!(error instanceof TracefixError) && !cancelled) logger.error("run failed", { run_id: runId, error: String(error) });
  const failed = failedRun(runId, runErrorOf(error, cancelled), context.usageSoFar(), context.rounds, cancelled);
  yield failed.event;
  return failed.result;
}

function solutionOf(answer: Answer): Solution {
  const chosen = answer.candidate;
  return { candidate: chosen.id, round: chosen.round, chain: chosen.chain, code: chosen.code ?? "", passed: answer.passed, total: answer.total, chosen_by: answer.chosenBy };
}

/** Runs the request's strategy, yielding its events, returning its result. */
export async function* runStrategy(input: RunInput, deps: ScalingDependencies): AsyncGenerator<RunEventPayload, SolveResult> {
  const context = new RunContext(input, deps);
  yield startedEvent(context);
  let answer: Answer | undefined;
  let stopped: "solved" | "rounds" | "deadline" = "rounds";
  try {
    const outcome = yield* STRATEGIES[input.request.strategy].run(context);
    answer = outcome.answer;
    if (outcome.solved) stopped = "solved";
  } catch (error) {
    if (!(context.deadlinePassed && (error instanceof AbortedError || context.signal.aborted))) return yield* fail(context, input.runId, error, deps.logger);
    stopped = "deadline";
  }
  if (answer === undefined) {
    const best = await context.bestUnsolved();
    if (best !== undefined) answer = answerOf(best, "best_so_far");
  }
  if (answer === undefined || answer.candidate.code === null) {
    const error = stopped === "deadline" ? context.deadlineError() : new TracefixError("no_program", "scaling", "the model produced no program in any round");
    return yield* fail(context, input.runId, error, deps.logger);
  }
  const hidden = stopped === "deadline" ? null : await context.hidden(answer.candidate);
  const solution = solutionOf(answer);
  const status = stopped === "solved" ? "solved" : "unsolved";
  const usage = context.usageSoFar();
  yield { type: "run.completed", status, stopped, solution, hidden, usage };
  return { run_id: input.runId, status, stopped, solution, hidden, rounds: context.rounds, usage };
}
