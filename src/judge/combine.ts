/**
 * Scores per candidate, combined. Weights (documented in architecture/judge.md):
 *
 *   public tests passed (fraction)  0.40
 *   execution agreement             0.30
 *   LLM judge                       0.15
 *
 * and the reward model breaks ties between equal sums. It is not weighed
 * in: on real model samples it picks no better than a random pick among the
 * programs passing the examples (its features see pass rates, sizes and
 * agreement, which the other components already count), and any weight let
 * it overturn clear agreement.
 *
 * A component that is not available (no judge model, a judge that failed)
 * drops out and the others are scaled up to sum to 1. Each score is in
 * [0, 1]; reward scores, which have no fixed scale, are placed between the
 * worst (0) and the best (1) of the candidates at hand.
 */
export interface ComponentScores {
  readonly public: number;
  readonly agreement: number;
  readonly llm?: number | undefined;
  readonly reward?: number | undefined;
}

export const COMBINED_WEIGHTS = { public: 0.4, agreement: 0.3, llm: 0.15 } as const;

/** The weighted sum of the components present (the reward model is not one: it breaks ties, rank.ts). */
export function combinedScore(scores: ComponentScores): number {
  let total = 0;
  let weight = 0;
  for (const name of Object.keys(COMBINED_WEIGHTS) as (keyof typeof COMBINED_WEIGHTS)[]) {
    const value = scores[name];
    if (value === undefined) continue;
    total += COMBINED_WEIGHTS[name] * value;
    weight += COMBINED_WEIGHTS[name];
  }
  return weight === 0 ? 0 : total / weight;
}

/**
 * Raw rewards (any real numbers, any scale) placed in [0, 1] relative to one
 * another: the best of the set is 1, the worst 0; all equal → all 1. A
 * logistic would saturate at the model's scale and make every good program
 * equal.
 */
export function relativeRewards(rewards: readonly number[]): number[] {
  const lowest = Math.min(...rewards);
  const highest = Math.max(...rewards);
  const spread = highest - lowest;
  return rewards.map((reward) => (spread > 0 && Number.isFinite(spread) ? (reward - lowest) / spread : 1));
}
