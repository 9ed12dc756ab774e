/** The trace reward model: features, ONNX serving. */
export { extractFeatures, FEATURE_COUNT, FEATURE_NAMES, FEATURE_VERSION, type FeatureName } from "./features.ts";
export { DEFAULT_REWARD_DIRECTORY, loadRewardModel, RewardModel, RewardModelError, type LoadRewardOptions, type RewardMetadata, type RewardModelStatus } from "./onnx.ts";
