/** The judge stage: rankings of candidate programs. */
export { compareEta, etaStanding, standingOf, type EtaStanding, type FailureClass } from "./eta.ts";
export { agreementScores, agreementShares, clusterByOutputs, disagreements, outputKey, type Cluster, type OutputVector } from "./agreement.ts";
export { COMBINED_WEIGHTS, combinedScore, relativeRewards, type ComponentScores } from "./combine.ts";
export { LlmJudge, type JudgedCandidate, type JudgeProblem, type LlmJudgeOutcome, type LlmJudgeSettings, type Verdict } from "./llm.ts";
export type { CandidateScorer, ScoringCandidate } from "./scorer.ts";
export { preferenceBetween, preferenceBetweenReports, type Preference, type PreferenceRule } from "./preferences.ts";
export {
  DEFAULT_REWARD_DIRECTORY,
  extractFeatures,
  FEATURE_COUNT,
  FEATURE_NAMES,
  FEATURE_VERSION,
  loadRewardModel,
  RewardModel,
  RewardModelError,
  type RewardModelStatus,
} from "./reward/index.ts";
export { dpoPairs } from "./dpo.ts";
export { rankCandidates, reasonsFor, type JudgeMethod, type RankingEntry } from "./rank.ts";
