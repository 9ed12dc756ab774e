/**
 * Agent: `n` model-driven agents at once, each debugging with tools (run
 * the tests, trace a test, inspect an expression at a line, submit) within
 * `rounds` × `agent.tool_calls_per_round` calls (agent-session.ts). The run
 * is one round; each agent's submission (else the best program it tested,
 * else no program) is its chain's candidate, and the answer is selected
 * among them as in hybrid.
 */
import { usageOfFailure, type AgentOutcome, type ToolAgent } from "../../policy/index.ts";
import { AbortedError, TracefixError } from "../../shared/errors.ts";
import type { RunEventPayload } from "../../shared/schema/events.ts";
import { testText, entryPointInstruction } from "../../trace/index.ts";
import { AgentSession } from "../agent-session.ts";
import { EventChannel } from "../channel.ts";
import { chooseAmong } from "../choose.ts";
import { GIVEN_CANDIDATE, generatedEvent, givenProposal, newCandidate } from "../round.ts";
import type { Candidate, Chain, RunContext } from "../run-context.ts";
import type { Proposal } from "../../policy/index.ts";
import { answerOf, type Strategy } from "../strategy.ts";

/** Model turns beyond the tool budget: the submit turn, the corrective one, and one to spare. */
const SPARE_TURNS = 3;

function prompts(context: RunContext, session: AgentSession): { system: string; task: string; corrective: string } {
  const { problem } = context.request;
  const language = problem.language;
  const templates = context.deps.prompts;
  const tests = context.tests.map((test, index) => `${index}: ${testText(test, problem.entry_point, language)}`).join("\n");
  const program = problem.code === undefined ? "" : `This program fails some of them; repair it:\n\`\`\`${language}\n${problem.code.replace(/\n$/, "")}\n\`\`\``;
  return {
    system: templates.agentSystem.render({ language, budget: String(session.budget) }),
    task: templates.agentTask.render({
      language,
      problem: problem.prompt.trim(),
      entry_point_instruction: entryPointInstruction({ entry_point: problem.entry_point, tests: context.tests }),
      tests,
      program,
    }),
    corrective: templates.agentCorrective.render({ language }),
  };
}

/** The agent's program and how it ended, as a proposal of its chain. */
function proposalOf(context: RunContext, session: AgentSession, outcome: AgentOutcome | undefined, failure: unknown): Proposal {
  const base = { source: "llm" as const, parent: context.request.problem.code ?? null, reasoning: outcome?.reply ?? "" };
  const calls = `${session.calls} tool call${session.calls === 1 ? "" : "s"}`;
  if (session.submitted !== undefined) return { ...base, code: session.submitted, description: `submitted by agent ${session.index} after ${calls}` };
  const why = failure !== undefined ? `it stopped (${failure instanceof Error ? failure.message : String(failure)})` : outcome?.end === "prose" ? "it answered in prose twice" : "it ran out of turns";
  if (session.best !== undefined) return { ...base, code: session.best.code, description: `agent ${session.index}'s best tested program, not submitted: ${why}` };
  return { ...base, code: null, description: `agent ${session.index} gave no program: ${why}` };
}

/** One agent, start to end; its chain's candidate is in the run when it returns (or throws because the run is over). */
async function runAgent(context: RunContext, agent: ToolAgent, chain: Chain, channel: EventChannel<RunEventPayload>): Promise<Candidate> {
  const session = new AgentSession(context, chain.index, channel);
  const { request } = context;
  let outcome: AgentOutcome | undefined;
  let failure: unknown;
  try {
    outcome = await agent.run({
      ...prompts(context, session),
      tools: session.tools(),
      maxTurns: session.budget + SPARE_TURNS,
      sampling: { temperature: request.temperature, maxTokens: request.max_tokens, model: request.model },
      stream: request.agent.stream,
      signal: context.signal,
    });
    context.addUsage(outcome.usage);
  } catch (error) {
    context.addUsage(usageOfFailure(error));
    context.noteModelFailure(error);
    failure = error;
  }
  const proposal = proposalOf(context, session, outcome, failure);
  const candidate = newCandidate(context, 1, chain.index, proposal, `r1c${chain.index}`);
  context.candidates.push(candidate);
  chain.latest = candidate;
  if (context.signal.aborted) {
    // The run is over (deadline, cancel): the program keeps what its tests showed, for the best-so-far answer.
    if (session.best !== undefined && session.best.code === candidate.code) {
      candidate.report = session.best.report;
      candidate.standing = session.best.standing;
    }
    throw new AbortedError("scaling");
  }
  channel.push(generatedEvent(candidate, proposal));
  channel.push(await context.evaluate(candidate, context.signal));
  if (candidate.code === null && failure !== undefined) throw failure;
  return candidate;
}

/**
 * The program to repair, when there is one, is a candidate of the round
 * like in every other strategy (the agents' programs are diffed against it,
 * the preference pairs include it); its run is the one an agent's first
 * run_tests of it gets.
 */
async function runGiven(context: RunContext, code: string, channel: EventChannel<RunEventPayload>): Promise<void> {
  const proposal = givenProposal(code);
  const candidate = newCandidate(context, 1, null, proposal, GIVEN_CANDIDATE);
  context.candidates.push(candidate);
  channel.push(generatedEvent(candidate, proposal));
  channel.push(await context.evaluate(candidate, context.signal));
}

export const agent: Strategy = {
  name: "agent",
  async *run(context) {
    const toolAgent = context.deps.agent;
    if (toolAgent === undefined) throw new TracefixError("model_not_configured", "policy", "strategy agent needs a language model that calls tools");
    yield { type: "round.started", round: 1, mode: "agent", chains: context.chains.map((chain) => chain.index) };
    const channel = new EventChannel<RunEventPayload>();
    const given = context.request.problem.code;
    const work = Promise.allSettled([
      ...context.chains.map((chain) => runAgent(context, toolAgent, chain, channel)),
      ...(given === undefined ? [] : [runGiven(context, given, channel)]),
    ]);
    for await (const event of channel.drain(work)) yield event;
    const settled = await work;
    if (context.signal.aborted) throw new AbortedError("scaling");
    const finals = context.chains.map((chain) => chain.latest).filter((candidate): candidate is Candidate => candidate !== undefined);
    const programs = finals.filter((candidate) => candidate.code !== null);
    const failed = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
    // No agent got as far as a program because the model kept failing: the run fails with its error.
    if (programs.length === 0 && failed !== undefined) throw failed.reason;
    const solved = programs.some((candidate) => candidate.report?.status === "passed");
    context.summarize(1, context.candidates, solved);
    const best = context.best();
    yield {
      type: "round.completed",
      round: 1,
      solved,
      best: best === undefined ? null : { candidate: best.id, passed: best.standing.passed, total: best.standing.total },
      edits_tried: 0,
    };
    // One program among the agents' (one agent, or all agreeing): nothing to select.
    const distinct = [...new Map(programs.map((candidate) => [candidate.code, candidate])).values()];
    if (distinct.length === 1) {
      const only = answerOf(distinct[0] as Candidate, "only_program");
      return { answer: only, solved: only.passed === only.total };
    }
    return yield* chooseAmong(context, programs);
  },
};
