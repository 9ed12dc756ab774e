/**
 * The policy seam: what proposes the next programs of a chain. Given the
 * problem and the chain's history (its programs, their feedback and
 * execution reports, traces included), a policy proposes up to `k` programs,
 * each saying where it came from and what it is. The LLM policy samples a
 * language model; others (a trace-guided repair search) need none.
 * Strategies know only this interface.
 */
import type { Executor } from "../sandbox/index.ts";
import type { ExecutionReport, Language, TestSpec } from "../shared/schema/execution.ts";
import type { TokenUsage } from "./model.ts";

/** Where a proposed program came from: a model's sample, an edit of an earlier program, the client's own. */
export type ProposalSource = "llm" | "edit" | "given";

export interface PolicyProblem {
  readonly language: Language;
  readonly prompt: string;
  readonly entryPoint: string | undefined;
  /** The public tests (the given ones and the prompt's examples). */
  readonly tests: readonly TestSpec[];
}

/** One earlier attempt of a chain: its program and what running it showed. */
export interface Attempt {
  readonly round: number;
  /** null: the attempt produced no program. */
  readonly code: string | null;
  /** The diagnostics (failing tests, trace rendering) a revision reads. */
  readonly feedback: string;
  readonly report?: ExecutionReport | undefined;
}

export interface Sampling {
  readonly temperature: number;
  readonly maxTokens: number;
  /** A model name the endpoint serves (never an endpoint). */
  readonly model?: string | undefined;
}

export interface ProposeRequest {
  readonly problem: PolicyProblem;
  readonly round: number;
  /** The chain's own attempts, oldest first; empty in round 1. */
  readonly history: readonly Attempt[];
  /** Other chains' latest attempts, when the request asked for `context: "all"`. */
  readonly others: readonly Attempt[];
  /** Programs wanted (chains with the same history share one proposal request). */
  readonly k: number;
  readonly sampling: Sampling;
  /** The run's sandbox (syntax checks, parsing, trial runs), queued under the run's client. */
  readonly executor: Executor;
  readonly signal: AbortSignal;
}

export interface Proposal {
  /** null: nothing usable was proposed (a reply without a program). */
  readonly code: string | null;
  readonly source: ProposalSource;
  /** One line: what this program is (e.g. "sampled", "line 7: `i < n` → `i <= n`"). */
  readonly description: string;
  /** The model's reasoning, or the reply itself when it held no program. */
  readonly reasoning: string;
  readonly finishReason?: string | undefined;
}

export interface ProposeResult {
  /** At most `k`; fewer when the policy has no more to offer. */
  readonly proposals: readonly Proposal[];
  readonly usage: TokenUsage;
}

export interface Policy {
  /** The name a request picks it by. */
  readonly name: string;
  /** Says what answers (shown in run.started). */
  readonly description: string;
  propose(request: ProposeRequest): Promise<ProposeResult>;
}
