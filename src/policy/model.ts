/**
 * The policy seam: what the scaling code needs from a language model, and
 * nothing vendor-specific. Adapters (policy/openai-compatible.ts today; a
 * model-free repair policy and a local ONNX policy next) implement it; the
 * scaling code never imports LangChain.
 */
import { PolicyAbortedError, PolicyError } from "../shared/errors.ts";

export interface ChatMessage {
  readonly role: "system" | "user" | "assistant";
  readonly content: string;
}

export interface GenerateRequest {
  readonly messages: readonly ChatMessage[];
  /** How many completions of the same prompt. */
  readonly n: number;
  readonly temperature: number;
  readonly maxTokens: number;
  readonly stop?: readonly string[] | undefined;
  /** A model name the endpoint serves; the endpoint itself is never chosen by a request. */
  readonly model?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface Completion {
  readonly text: string;
  /** Reasoning the endpoint returned apart from the answer (`reasoning_content`), if any. */
  readonly reasoning?: string | undefined;
  readonly finishReason?: string | undefined;
}

export interface TokenUsage {
  readonly calls: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
}

export interface GenerateResult {
  readonly completions: readonly Completion[];
  readonly usage: TokenUsage;
}

export interface LanguageModel {
  /** Says what answers: adapter, endpoint, default model. */
  readonly description: string;
  generate(request: GenerateRequest): Promise<GenerateResult>;
}

export const NO_USAGE: TokenUsage = { calls: 0, promptTokens: 0, completionTokens: 0 };

export function addUsage(left: TokenUsage, right: TokenUsage): TokenUsage {
  return {
    calls: left.calls + right.calls,
    promptTokens: left.promptTokens + right.promptTokens,
    completionTokens: left.completionTokens + right.completionTokens,
  };
}

/** The calls a failed generation still made (each attempt was a request to the endpoint). */
export function usageOfFailure(error: unknown): TokenUsage {
  const attempts = error instanceof PolicyError || error instanceof PolicyAbortedError ? error.attempts : 0;
  return { calls: attempts, promptTokens: 0, completionTokens: 0 };
}
