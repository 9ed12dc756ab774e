/** The model endpoint from the configuration; a request may pick a model name, never an endpoint. */
import type { LlmEndpoint } from "../shared/config.ts";
import type { Logger } from "../shared/logger.ts";
import type { LanguageModel } from "./model.ts";
import { OpenAICompatibleModel } from "./openai-compatible.ts";

/** The configured OpenAI-compatible model, or undefined when no endpoint is configured. */
export function modelFromConfig(endpoint: LlmEndpoint | undefined, logger: Logger): LanguageModel | undefined {
  return endpoint === undefined ? undefined : new OpenAICompatibleModel({ ...endpoint, logger });
}
