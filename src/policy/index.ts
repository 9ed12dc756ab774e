/** The policy stage: language models behind our own small interface. */
export { addUsage, NO_USAGE, usageOfFailure, type ChatMessage, type Completion, type GenerateRequest, type GenerateResult, type LanguageModel, type TokenUsage } from "./model.ts";
export { extractCode, type ExtractedCode } from "./extract.ts";
export { OpenAICompatibleModel, type OpenAICompatibleOptions } from "./openai-compatible.ts";
export { modelFromConfig } from "./config.ts";
export { LlmPolicy } from "./llm-policy.ts";
export type { Attempt, Policy, PolicyProblem, Proposal, ProposalSource, ProposeRequest, ProposeResult, Sampling } from "./policy.ts";
