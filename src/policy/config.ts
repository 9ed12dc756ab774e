/** The model endpoint from the configuration; a request may pick a model name, never an endpoint. */
import type { LlmEndpoint } from "../shared/config.ts";
import type { Logger } from "../shared/logger.ts";
import { LangChainToolAgent } from "./agent/langchain-agent.ts";
import type { ToolAgent } from "./agent/tool-agent.ts";
import type { LanguageModel } from "./model.ts";
import { OpenAICompatibleModel } from "./openai-compatible.ts";

/** The configured OpenAI-compatible model, or undefined when no endpoint is configured. */
export function modelFromConfig(endpoint: LlmEndpoint | undefined, logger: Logger): LanguageModel | undefined {
  return endpoint === undefined ? undefined : new OpenAICompatibleModel({ ...endpoint, logger });
}

/** The agent strategy's tool-calling agent over the same endpoint, or undefined without one. */
export function toolAgentFromConfig(endpoint: LlmEndpoint | undefined): ToolAgent | undefined {
  return endpoint === undefined ? undefined : new LangChainToolAgent(endpoint);
}
