/** The model endpoint from the environment; a request may pick a model name, never an endpoint. */
import type { Logger } from "../shared/logger.ts";
import type { LanguageModel } from "./model.ts";
import { OpenAICompatibleModel } from "./openai-compatible.ts";

export interface ModelEndpoint {
  readonly baseURL: string;
  readonly apiKey: string;
  readonly model: string;
}

/**
 * TRACEFIX_LLM_BASE_URL / _MODEL / _API_KEY, with the usual OPENAI_BASE_URL
 * and OPENAI_API_KEY as fallbacks (OpenAI itself when only a key is set).
 * Undefined when no endpoint is configured.
 */
export function endpointFromEnvironment(environment: NodeJS.ProcessEnv = process.env): ModelEndpoint | undefined {
  const apiKey = environment["TRACEFIX_LLM_API_KEY"] || environment["OPENAI_API_KEY"] || "";
  const baseURL =
    environment["TRACEFIX_LLM_BASE_URL"] || environment["OPENAI_BASE_URL"] || (apiKey === "" ? undefined : "https://api.openai.com/v1");
  if (baseURL === undefined) return undefined;
  return {
    baseURL,
    // Local servers (vLLM, Ollama, llama.cpp) take any key.
    apiKey: apiKey || "not-needed",
    model: environment["TRACEFIX_LLM_MODEL"] || "default",
  };
}

export function modelFromEnvironment(logger: Logger, environment: NodeJS.ProcessEnv = process.env): LanguageModel | undefined {
  const endpoint = endpointFromEnvironment(environment);
  return endpoint === undefined ? undefined : new OpenAICompatibleModel({ ...endpoint, logger });
}
