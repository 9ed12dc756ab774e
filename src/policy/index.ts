/** The policy stage: language models behind our own small interface. */
export { addUsage, NO_USAGE, usageOfFailure, type ChatMessage, type Completion, type GenerateRequest, type GenerateResult, type LanguageModel, type TokenUsage } from "./model.ts";
export { extractCode, type ExtractedCode } from "./extract.ts";
export { OpenAICompatibleModel, type OpenAICompatibleOptions } from "./openai-compatible.ts";
export { modelFromConfig, toolAgentFromConfig } from "./config.ts";
export { LangChainToolAgent } from "./agent/langchain-agent.ts";
export type { AgentOutcome, AgentRequest, AgentTool, ToolAgent } from "./agent/tool-agent.ts";
export { LlmPolicy } from "./llm-policy.ts";
export { MixedPolicy } from "./mixed-policy.ts";
export type { Attempt, Policy, PolicyProblem, Proposal, ProposalSource, ProposedEdit, ProposeRequest, ProposeResult, Sampling } from "./policy.ts";
export { editCandidates, RepairPolicy, type EditCandidates, type EditTarget, type RepairPolicyOptions } from "./repair/repair-policy.ts";
export { editFeatures, featureMatrix, POLICY_FEATURE_COUNT, POLICY_FEATURE_NAMES, POLICY_FEATURE_VERSION } from "./repair/features.ts";
export { HAND_ORDER, handScore, type EditOrder, type RankedEdit } from "./repair/order.ts";
export {
  CHUNK_ROWS,
  DEFAULT_POLICY_DIRECTORY,
  loadPolicyModel,
  PolicyModel,
  PolicyModelError,
  type LoadPolicyModelOptions,
  type PolicyModelMetadata,
  type PolicyModelStatus,
} from "./repair/policy-model.ts";
export { localize } from "./repair/localize.ts";
