/**
 * Scores per candidate, combined. Weights (documented in architecture/judge.md):
 *
 *   public tests passed (fraction)  0.40
 *   execution agreement             0.30
 *   LLM judge                       0.15
 *   reward model                    0.15
 *
 * A component that is not available (no judge model, no reward model, a
 * judge that failed) drops out and the others are scaled up to sum to 1.
 * Each score is in [0, 1] (reward scores are squashed by a logistic).
 */
export interface ComponentScores {
  readonly public: number;
  readonly agreement: number;
  readonly llm?: number | undefined;
  readonly reward?: number | undefined;
}

export const COMBINED_WEIGHTS = { public: 0.4, agreement: 0.3, llm: 0.15, reward: 0.15 } as const;

export function combinedScore(scores: ComponentScores): number {
  let total = 0;
  let weight = 0;
  for (const [name, value] of Object.entries(scores) as [keyof ComponentScores, number | undefined][]) {
    if (value === undefined) continue;
    const w = COMBINED_WEIGHTS[name];
    total += w * value;
    weight += w;
  }
  return weight === 0 ? 0 : total / weight;
}

/** A raw reward (any real number) squashed into [0, 1]. */
export function squash(reward: number): number {
  return 1 / (1 + Math.exp(-reward));
}
