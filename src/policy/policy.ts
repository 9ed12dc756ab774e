/**
 * The policy seam: what proposes the next programs of a chain. Given the
 * problem and the chain's history (its programs, their feedback and
 * execution reports, traces included), a policy proposes up to `k` programs,
 * each saying where it came from and what it is. The LLM policy samples a
 * language model; others (a trace-guided repair search) need none.
 * Strategies know only this interface.
 */
import type { Executor } from "../sandbox/index.ts";
import type { EditOperator } from "../shared/schema/edits.ts";
import type { ExecutionReport, Language, Limits, TestSpec } from "../shared/schema/execution.ts";
import type { TokenUsage } from "./model.ts";

/** Where a proposed program came from: a model's sample, an edit of an earlier program, the client's own. */
export type ProposalSource = "llm" | "edit" | "given";

export interface PolicyProblem {
  readonly language: Language;
  readonly prompt: string;
  readonly entryPoint: string | undefined;
  /** The public tests (the given ones and the prompt's examples). */
  readonly tests: readonly TestSpec[];
  /** The run's limits, for the policy's own trial runs. */
  readonly limits: Limits;
}

/** One earlier attempt of a chain: its program and what running it showed. */
export interface Attempt {
  readonly round: number;
  /** null: the attempt produced no program. */
  readonly code: string | null;
  /** The diagnostics (failing tests, trace rendering) a revision reads. */
  readonly feedback: string;
  readonly report?: ExecutionReport | undefined;
  /** What the program was (its proposal's description). */
  readonly description?: string | undefined;
  /** The edit that made it, when an edit did. */
  readonly edit?: ProposedEdit | undefined;
  /**
   * In `ranked`: its place among the ETA order's classes (0: the best
   * programs). Attempts of one tier are ones the ETA order cannot tell
   * apart, which a policy may order by what it knows of its own.
   */
  readonly tier?: number | undefined;
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
  /**
   * A round planner (`plansRound`) gets every active chain's history here, in
   * chain order, and proposes for all of them at once (`k` = their number):
   * proposal i goes to chain i.
   */
  readonly chains?: readonly (readonly Attempt[])[] | undefined;
  /** For a round planner: every distinct program run so far in the run, best first by the ETA order. */
  readonly ranked?: readonly Attempt[] | undefined;
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
  /** The code of the program this one was made from (a revision's or an edit's base); absent for a fresh sample. */
  readonly parent?: string | null | undefined;
  /** An edit's own account: where, what, and how suspicious its line was. */
  readonly edit?: ProposedEdit | undefined;
}

export interface ProposedEdit {
  readonly line: number;
  readonly operator: EditOperator;
  readonly before: string;
  readonly after: string;
  /** Fault localisation's score of the edited line, 0..1. */
  readonly suspiciousness: number;
  /** Edits on the way from the given program (1: a single edit). */
  readonly depth: number;
}

export interface ProposeResult {
  /** At most `k`; fewer when the policy has no more to offer. */
  readonly proposals: readonly Proposal[];
  readonly usage: TokenUsage;
  /** Programs the policy itself ran in the sandbox (traced runs for fault localisation). */
  readonly executions?: number | undefined;
  /** Fault localisation of the program(s) it edited, most suspicious line first. */
  readonly localization?: readonly { readonly line: number; readonly suspiciousness: number }[] | undefined;
}

export interface Policy {
  /** The name a request picks it by. */
  readonly name: string;
  /** Says what answers (shown in run.started). */
  readonly description: string;
  /** Proposes for the whole round at once (a search over every chain's programs), not per history. */
  readonly plansRound?: boolean | undefined;
  /**
   * Reads the traces of failing programs in `feedback` (an LLM does); false:
   * the round's programs run untraced, and the policy traces what it needs.
   */
  readonly readsTraces?: boolean | undefined;
  /**
   * Its programs are small edits of the given program: after round 1 they
   * run with time limits taken from the given program's own test times
   * (run-context.ts, trialLimits), so that an edit that loops costs little.
   */
  readonly timesFromGiven?: boolean | undefined;
  /**
   * A policy in stages (mixed-policy.ts): within a round each stage proposes
   * in turn, after the programs of the one before have run, and only while
   * the round is still open (for the chains still active).
   */
  readonly stages?: readonly Policy[] | undefined;
  propose(request: ProposeRequest): Promise<ProposeResult>;
}
