/**
 * The reward-model seam: anything that scores candidate programs from their
 * code and execution reports (higher is better). The ONNX reward model is
 * one; a request asks for it with judge.method "reward" or "combined".
 */
import type { ExecutionReport } from "../shared/schema/execution.ts";

export interface ScoringCandidate {
  readonly code: string;
  readonly report: ExecutionReport;
  /** Share of the other candidates that agree with this one's outputs, when known. */
  readonly agreement?: number | undefined;
}

export interface CandidateScorer {
  readonly description: string;
  score(candidates: readonly ScoringCandidate[], signal?: AbortSignal): Promise<number[]>;
}
