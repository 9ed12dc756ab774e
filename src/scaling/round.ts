/**
 * The round runner every strategy shares. One round: the active chains ask
 * the policy for their next programs (chains with the same history share
 * one request, `k` = their number), each program is executed as soon as it
 * exists, events stream as things happen, and the chains keep their
 * attempts for the next round. What a passing program does to the round is
 * the strategy's choice (`onPass`).
 */
import { setMaxListeners } from "node:events";

import { compareEta, etaStanding } from "../judge/index.ts";
import { usageOfFailure, type Attempt, type Policy, type Proposal } from "../policy/index.ts";
import { AbortedError } from "../shared/errors.ts";
import type { RunEventPayload } from "../shared/schema/events.ts";
import { EventChannel } from "./channel.ts";
import { NO_CODE_FEEDBACK, type Candidate, type Chain, type RunContext } from "./run-context.ts";

export interface RoundOptions {
  /**
   * What a program that passes every public test does: `end-round` ends the
   * round and the run (sequential), `end-chain` stops only its chain
   * (hybrid), `none` changes nothing.
   */
  readonly onPass: "end-round" | "end-chain" | "none";
  /** false: programs are only collected (parallel runs them during selection). */
  readonly execute: boolean;
}

interface RoundState {
  readonly round: number;
  readonly options: RoundOptions;
  readonly channel: EventChannel<RunEventPayload>;
  /** Aborted when the round is over early (a program passed). */
  readonly controller: AbortController;
  readonly signal: AbortSignal;
  readonly candidates: Candidate[];
  readonly evaluations: Promise<void>[];
  /** The round's executions in proposal order, each stoppable alone. */
  readonly trials: Trial[];
  solved: Candidate | undefined;
  /** The proposal position of `solved`. */
  solvedAt: number;
}

interface Trial {
  readonly position: number;
  readonly controller: AbortController;
  /** Held here: a signal made by AbortSignal.any is only kept alive by its holders, and must fire. */
  readonly signal: AbortSignal;
  settled: Promise<unknown>;
}

/** The first candidate with the code a proposal says it was made from. */
function parentOf(context: RunContext, proposal: Proposal): string | null {
  if (proposal.parent === undefined || proposal.parent === null) return null;
  return context.candidates.find((candidate) => candidate.code === proposal.parent)?.id ?? null;
}

export function newCandidate(context: RunContext, round: number, chain: number | null, proposal: Proposal, id: string): Candidate {
  return {
    id,
    round,
    chain,
    code: proposal.code,
    parent: parentOf(context, proposal),
    source: proposal.source,
    description: proposal.description,
    edit: proposal.edit,
    report: undefined,
    standing: etaStanding(undefined),
    feedback: proposal.code === null ? NO_CODE_FEEDBACK : "",
  };
}

export function generatedEvent(candidate: Candidate, proposal: Proposal): RunEventPayload {
  return {
    type: "candidate.generated",
    round: candidate.round,
    chain: candidate.chain,
    candidate: candidate.id,
    code: candidate.code,
    parent: candidate.parent,
    source: candidate.source,
    description: candidate.description,
    reasoning: proposal.reasoning,
    no_code: candidate.code === null,
    ...(proposal.finishReason === undefined ? {} : { finish_reason: proposal.finishReason }),
    ...(proposal.edit === undefined ? {} : { edit: proposal.edit }),
  };
}

function attemptOf(round: number, candidate: Candidate, tier?: number): Attempt {
  return { round, code: candidate.code, feedback: candidate.feedback, report: candidate.report, description: candidate.description, edit: candidate.edit, tier };
}

/** Every distinct program run so far, best first, each with its ETA tier (what a round planner builds on). */
function rankedAttempts(context: RunContext): Attempt[] {
  const seen = new Set<string>();
  const ranked: Attempt[] = [];
  let tier = -1;
  let previous: Candidate | undefined;
  for (const candidate of context.ranked()) {
    if (candidate.code === null || seen.has(candidate.code)) continue;
    seen.add(candidate.code);
    if (previous === undefined || compareEta(previous.standing, candidate.standing) !== 0) tier += 1;
    previous = candidate;
    ranked.push(attemptOf(candidate.round, candidate, tier));
  }
  return ranked;
}

/** Whether an error only says the round ended early (a program passed), not that the run failed. */
function endedEarly(state: RoundState, context: RunContext): boolean {
  return state.controller.signal.aborted && !context.signal.aborted;
}

/**
 * "end-round": the round's answer is the passing program proposed first
 * (the policy's order, not whichever the sandbox finished first): the
 * programs proposed after it stop at once, the round itself once every
 * program before it has been decided.
 */
function settlePass(state: RoundState, candidate: Candidate, position: number): void {
  if (state.solved !== undefined && state.solvedAt < position) return;
  state.solved = candidate;
  state.solvedAt = position;
  for (const trial of state.trials) if (trial.position > position) trial.controller.abort();
  const earlier = state.trials.filter((trial) => trial.position < position).map((trial) => trial.settled);
  void Promise.allSettled(earlier).then(() => {
    if (state.solved === candidate) state.controller.abort(); // the rest of the round is no longer needed
  });
}

/** Executes a new candidate (unless the strategy collects only) and applies the round's rule when it passes. */
async function consider(context: RunContext, state: RoundState, candidate: Candidate, chain: Chain | undefined): Promise<void> {
  const position = state.candidates.length;
  state.candidates.push(candidate);
  context.candidates.push(candidate);
  if (chain !== undefined) chain.latest = candidate;
  if (!state.options.execute) return;
  // Proposed after the round's answer: not worth running.
  if (state.options.onPass === "end-round" && state.solved !== undefined && position > state.solvedAt) return;
  const controller = new AbortController();
  const trial: Trial = { position, controller, signal: AbortSignal.any([state.signal, controller.signal]), settled: Promise.resolve() };
  state.trials.push(trial);
  const evaluation = context.evaluate(candidate, trial.signal);
  trial.settled = evaluation.catch(() => undefined);
  try {
    state.channel.push(await evaluation);
  } catch (error) {
    if (error instanceof AbortedError && (trial.controller.signal.aborted || endedEarly(state, context)) && !context.signal.aborted) return;
    throw error;
  }
  if (candidate.report?.status !== "passed") return;
  if (state.options.onPass === "end-chain") {
    for (const owner of chain === undefined ? context.chains : [chain]) owner.passing ??= candidate;
  } else if (state.options.onPass === "end-round") {
    settlePass(state, candidate, position);
  }
}

/** The client's own program as a proposal of round 1 (repair). */
export function givenProposal(code: string): Proposal {
  return { code, source: "given", description: "the program to repair", reasoning: "" };
}

export const GIVEN_CANDIDATE = "r1given";

/** Repair: the client's program is round 1, shared by every chain. */
async function givenRound(context: RunContext, state: RoundState, code: string): Promise<void> {
  const proposal = givenProposal(code);
  const candidate = newCandidate(context, state.round, null, proposal, GIVEN_CANDIDATE);
  state.channel.push(generatedEvent(candidate, proposal));
  await consider(context, state, candidate, undefined);
  for (const chain of context.chains) {
    chain.latest = candidate;
    chain.attempts.push(attemptOf(state.round, candidate));
  }
}

/** What the policy sees of a chain, and the key under which chains share one request. */
function historyOf(context: RunContext, chain: Chain): { history: readonly Attempt[]; others: readonly Attempt[]; key: string } {
  const others: Attempt[] = [];
  if (context.request.context === "all") {
    // Every other chain's latest attempt, after this chain's own history.
    const own = chain.attempts.at(-1);
    for (const other of context.chains) {
      const latest = other.attempts.at(-1);
      if (other === chain || latest === undefined || (own?.code === latest.code && latest.code !== null)) continue;
      others.push(latest);
    }
  }
  const view = (attempt: Attempt): unknown => [attempt.round, attempt.code, attempt.feedback];
  return { history: chain.attempts, others, key: JSON.stringify([chain.attempts.map(view), others.map(view)]) };
}

/** One stage of a round: its policy, and how its candidates are named (`r2c0`; a later stage's `r2c0s2`). */
interface Stage {
  readonly policy: Policy;
  readonly suffix: string;
}

/** A policy's stages in the order they propose (a plain policy is its own one stage). */
function stagesOf(policy: Policy): Stage[] {
  return (policy.stages ?? [policy]).map((stage, index) => ({ policy: stage, suffix: index === 0 ? "" : `s${index + 1}` }));
}

/** One policy request for chains with the same history; their candidates enter the round as they come. */
async function proposeFor(context: RunContext, state: RoundState, stage: Stage, chains: readonly Chain[], made: Map<Chain, Candidate>): Promise<unknown> {
  const { history, others } = historyOf(context, chains[0] as Chain);
  const request = context.request;
  const planner = stage.policy.plansRound === true;
  let result;
  try {
    result = await stage.policy.propose({
      problem: context.problem,
      round: state.round,
      history,
      others,
      k: chains.length,
      chains: planner ? chains.map((chain) => chain.attempts) : undefined,
      ranked: planner ? rankedAttempts(context) : undefined,
      sampling: { temperature: request.temperature, maxTokens: request.max_tokens, model: request.model },
      executor: context.deps.executor,
      signal: state.signal,
    });
  } catch (error) {
    context.addUsage(usageOfFailure(error));
    context.noteModelFailure(error);
    return endedEarly(state, context) ? undefined : error;
  }
  context.addUsage(result.usage, result.executions ?? 0);
  if (result.localization !== undefined) state.channel.push({ type: "policy.localized", round: state.round, lines: result.localization.slice(0, 50) });
  chains.forEach((chain, position) => {
    // A round planner with fewer programs than chains leaves the rest idle this round.
    if (planner && result.proposals[position] === undefined) return;
    const proposal = result.proposals[position] ?? { code: null, source: "llm", description: "no proposal", reasoning: "" };
    const candidate = newCandidate(context, state.round, chain.index, proposal, `r${state.round}c${chain.index}${stage.suffix}`);
    made.set(chain, candidate);
    state.channel.push(generatedEvent(candidate, proposal));
    state.evaluations.push(consider(context, state, candidate, chain));
  });
  return undefined;
}

/**
 * Each stage of the policy in turn, while the round is open: a stage's
 * programs run before the next one proposes. The round fails only when no
 * stage made a program: a model that cannot be reached after the edit
 * search's stage (mixed) leaves its chains without a revision this round,
 * not the run without its edits.
 */
async function proposalRound(context: RunContext, state: RoundState): Promise<void> {
  let made = 0;
  let failure: unknown;
  for (const stage of stagesOf(context.deps.policy)) {
    if (state.solved !== undefined || context.active().length === 0) break;
    const outcome = await stageRound(context, state, stage);
    made += outcome.made;
    failure ??= outcome.failure;
  }
  // No chain got a program this round: the policy (its endpoint) is failing.
  if (failure !== undefined && made === 0) throw failure;
}

/** One stage's proposals, run; how many programs it made and the first proposal request that failed. */
async function stageRound(context: RunContext, state: RoundState, stage: Stage): Promise<{ made: number; failure: unknown }> {
  const groups = new Map<string, Chain[]>();
  for (const chain of context.active()) {
    // A round planner proposes for every chain in one request.
    const key = stage.policy.plansRound === true ? "round" : historyOf(context, chain).key;
    groups.set(key, [...(groups.get(key) ?? []), chain]);
  }
  const made = new Map<Chain, Candidate>();
  const failures = (await Promise.all([...groups.values()].map((chains) => proposeFor(context, state, stage, chains, made)))).filter((error) => error !== undefined);
  await Promise.all(state.evaluations);
  if (context.signal.aborted) throw new AbortedError("scaling");
  for (const chain of context.active()) {
    const candidate = made.get(chain);
    if (candidate === undefined && stage.policy.plansRound === true) continue;
    chain.attempts.push(
      candidate === undefined
        ? { round: state.round, code: null, feedback: "The model could not be reached for this attempt." }
        : attemptOf(state.round, candidate),
    );
  }
  return { made: made.size, failure: failures[0] };
}

/**
 * Runs round `round`: yields `round.started`, the candidates' events as they
 * happen, and `round.completed`; returns the program that ended the round
 * (onPass "end-round"), if any.
 */
export async function* runRound(context: RunContext, round: number, options: RoundOptions): AsyncGenerator<RunEventPayload, Candidate | undefined> {
  const repair = round === 1 ? context.request.problem.code : undefined;
  yield { type: "round.started", round, mode: repair !== undefined ? "given" : round === 1 ? "generate" : "revise", chains: context.active().map((chain) => chain.index) };
  const controller = new AbortController();
  const signal = AbortSignal.any([context.signal, controller.signal]);
  setMaxListeners(0, signal);
  const state: RoundState = { round, options, channel: new EventChannel(), controller, signal, candidates: [], evaluations: [], trials: [], solved: undefined, solvedAt: Number.POSITIVE_INFINITY };
  const work = repair !== undefined ? givenRound(context, state, repair) : proposalRound(context, state);
  for await (const event of state.channel.drain(work)) yield event;
  await work;
  const solved = state.solved !== undefined || (options.onPass === "end-chain" && context.active().length === 0);
  context.summarize(round, state.candidates, state.solved !== undefined);
  const best = state.solved ?? context.best();
  const editsTried = state.candidates.filter((candidate) => candidate.source === "edit" && candidate.report !== undefined).length;
  yield {
    type: "round.completed",
    round,
    solved,
    best: best === undefined ? null : { candidate: best.id, passed: best.standing.passed, total: best.standing.total },
    edits_tried: editsTried,
  };
  return state.solved;
}
