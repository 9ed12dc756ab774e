/**
 * The ranking of a selection, as plain functions over what was measured:
 * each candidate's public-test result, its agreement cluster, and the
 * scores of the LLM judge and the reward model where they were asked. The
 * method decides the order:
 *
 * - agreement: cluster rank (public tests passed, answers, votes, size: agreement.ts), then public tests;
 * - llm: the judge's score, then cluster rank; without judge scores, agreement;
 * - reward: the raw reward, then cluster rank; without rewards, agreement;
 * - combined: the weighted sum of combine.ts, then the reward model (ties), then cluster rank.
 *
 * Programs that could not be run, or do not compile, come last whatever the method.
 */
import type { JudgeSettings, RankedCandidate } from "../shared/schema/solve.ts";
import type { Cluster } from "./agreement.ts";
import { combinedScore, type ComponentScores } from "./combine.ts";

export type JudgeMethod = JudgeSettings["method"];

/** What is known of one candidate when ranking. */
export interface RankingEntry {
  readonly index: number;
  /** Why the candidate cannot be ranked among the programs that ran, when it cannot. */
  readonly unusable?: string | undefined;
  readonly passed: number;
  readonly publicTotal: number;
  readonly cluster: Cluster | undefined;
  readonly scores: ComponentScores;
  /** The reward model's raw score (method "reward" orders by it). */
  readonly rawReward?: number | undefined;
}

/** The sort key of an entry under `method`, smallest first, and the score shown. */
function orderOf(method: JudgeMethod, entry: RankingEntry): { score: number; order: number[] } {
  const { scores, index } = entry;
  const clusterRank = entry.cluster?.id ?? Number.MAX_SAFE_INTEGER;
  if (entry.unusable !== undefined) return { score: 0, order: [1, 0, 0, index] };
  if (method === "llm" && scores.llm !== undefined) return { score: scores.llm, order: [0, -scores.llm, clusterRank, index] };
  if (method === "reward" && scores.reward !== undefined) return { score: scores.reward, order: [0, -(entry.rawReward ?? 0), clusterRank, index] };
  if (method === "combined") {
    const score = combinedScore(scores);
    // Rounded, so that float noise in equal sums leaves the tie to the reward model.
    return { score, order: [0, -Math.round(score * 1e9), -(scores.reward ?? 0), clusterRank, index] };
  }
  // Agreement (and the fallback of the others): cluster rank decides.
  return { score: scores.agreement, order: [0, clusterRank, -scores.public, index] };
}

/** Why a candidate stands where it does, in words. */
export function reasonsFor(entry: RankingEntry): string[] {
  if (entry.unusable !== undefined) return [entry.unusable];
  const reasons = [`passes ${entry.passed}/${entry.publicTotal} public tests`];
  const cluster = entry.cluster;
  if (cluster !== undefined) {
    const others = cluster.members.length - 1;
    reasons.push(
      others === 0
        ? `no other candidate gives the same outputs (cluster ${cluster.id})`
        : `${others} other candidate${others === 1 ? "" : "s"} give the same outputs on every input (cluster ${cluster.id})`,
    );
    reasons.push(cluster.answers ? `${cluster.votes} agreeing answers, input by input, from the candidates passing the most public tests` : "only raises, times out or returns None");
  }
  const { llm, reward } = entry.scores;
  if (llm !== undefined) reasons.push(`LLM judge: ${(llm * 100).toFixed(0)}% of its comparisons won`);
  if (reward !== undefined) reasons.push(`reward model: ${(entry.rawReward ?? 0).toFixed(2)} (${(reward * 100).toFixed(0)}% of the way from the worst candidate to the best)`);
  return reasons;
}

function compareOrders(left: readonly number[], right: readonly number[]): number {
  for (let position = 0; position < left.length; position++) {
    const difference = (left[position] as number) - (right[position] as number);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** The candidates best first, each with its score, cluster, figures and reasons. */
export function rankCandidates(method: JudgeMethod, entries: readonly RankingEntry[]): RankedCandidate[] {
  return entries
    .map((entry) => {
      const { score, order } = orderOf(method, entry);
      const ranked: RankedCandidate = {
        index: entry.index,
        score: Math.round(score * 1e6) / 1e6,
        cluster: entry.cluster?.id ?? null,
        public: { passed: entry.passed, total: entry.publicTotal },
        scores: entry.scores,
        reasons: reasonsFor(entry),
      };
      return { ranked, order };
    })
    .sort((left, right) => compareOrders(left.order, right.order))
    .map(({ ranked }) => ranked);
}
