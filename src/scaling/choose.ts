/**
 * Parallel and hybrid: the answer chosen among final programs by the
 * selection (selection.ts), whose events stream with the run's.
 */
import { etaStanding } from "../judge/index.ts";
import type { RunEventPayload } from "../shared/schema/events.ts";
import type { Candidate, RunContext } from "./run-context.ts";
import { Selection, type SelectionCandidate } from "./selection.ts";
import type { StrategyOutcome } from "./strategy.ts";

export async function* chooseAmong(context: RunContext, pool: readonly Candidate[]): AsyncGenerator<RunEventPayload, StrategyOutcome> {
  const finals = [...new Set(pool)];
  if (finals.length === 0) return { answer: undefined, solved: false };
  const { request, deps } = context;
  const problem = request.problem;
  const selection = new Selection(
    { language: problem.language, prompt: problem.prompt, entryPoint: problem.entry_point, tests: context.tests },
    { judge: request.judge, inputs: request.inputs, trace: request.trace, limits: request.limits, model: request.model },
    { executor: deps.executor, model: deps.model, prompts: deps.prompts, scorer: deps.scorer, logger: deps.logger },
    context.signal,
  );
  const candidates: SelectionCandidate[] = finals.map((candidate) => ({ id: candidate.id, code: candidate.code, round: candidate.round, chain: candidate.chain }));
  const outcome = yield* selection.run(candidates);
  context.addUsage(outcome.usage, outcome.executions);
  const winner = outcome.ranking[0];
  if (winner === undefined) return { answer: undefined, solved: false };
  const candidate = finals[winner.index] as Candidate;
  const report = outcome.reports.get(winner.index);
  if (report !== undefined && candidate.report === undefined) {
    candidate.report = report;
    candidate.standing = etaStanding(report);
  }
  const answer = { candidate, passed: winner.public.passed, total: winner.public.total, chosenBy: "selection" as const };
  return { answer, solved: answer.passed === answer.total };
}
