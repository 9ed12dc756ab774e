/**
 * Any OpenAI-compatible Chat Completions endpoint (vLLM, Ollama, llama.cpp,
 * OpenAI) through LangChain's ChatOpenAI.
 *
 * - `n` completions in one request; a server that ignores `n` (returns
 *   fewer choices) is remembered, and the rest come from parallel single
 *   requests, bounded by p-limit.
 * - Retries with exponential backoff (and Retry-After) on 429, 5xx, time-outs
 *   and unreachable endpoints; none on other 4xx. LangChain's and the OpenAI
 *   SDK's own retries are off so that this is the only policy.
 * - Non-streaming `generate()`: it returns all `n` choices (`invoke()` only the
 *   first), and it never asks for a tokenizer (which `streaming: true` would
 *   try to download).
 */
import type { BaseMessage } from "@langchain/core/messages";
import type { ChatOpenAI } from "@langchain/openai";
import pLimit from "p-limit";

import { AbortedError, PolicyAbortedError, PolicyError, type ErrorCode } from "../shared/errors.ts";
import { silentLogger, type Logger } from "../shared/logger.ts";
import { addUsage, NO_USAGE, usageOfFailure, type ChatMessage, type Completion, type GenerateRequest, type GenerateResult, type LanguageModel } from "./model.ts";

export interface OpenAICompatibleOptions {
  readonly baseURL: string;
  readonly apiKey: string;
  /** Default model name; a request may name another the endpoint serves. */
  readonly model: string;
  /** Attempts per request, the first included. */
  readonly maxAttempts?: number;
  /** First backoff delay; doubles per attempt, with jitter. */
  readonly backoffMs?: number;
  readonly requestTimeoutMs?: number;
  /** Requests in flight at once, over all runs. */
  readonly concurrency?: number;
  readonly logger?: Logger;
}

export interface Classified {
  readonly retry: boolean;
  readonly code: ErrorCode;
  readonly message: string;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
}

/** A 200 that is not a Chat Completions response. */
class MalformedReplyError extends Error {
  override readonly name = "MalformedReplyError";
}

/** The SDK's classes for "no HTTP answer at all" (refused, reset, DNS, …); timeouts are told apart before. */
const CONNECTION_ERRORS = new Set(["APIConnectionError", "APIConnectionTimeoutError", "FetchError"]);

/** What a failed model request means: its stable code, and whether another attempt may help. */
export function classifyModelError(error: unknown): Classified {
  const candidate = error as { status?: unknown; name?: string; message?: string; headers?: { get?: (name: string) => string | null } };
  const status = typeof candidate.status === "number" ? candidate.status : undefined;
  const message = candidate.message ?? String(error);
  let retryAfterMs: number | undefined;
  const header = typeof candidate.headers?.get === "function" ? candidate.headers.get("retry-after") : null;
  if (header !== null && header !== undefined && Number.isFinite(Number(header))) retryAfterMs = Number(header) * 1000;
  if (candidate.name === "TimeoutError") return { retry: true, code: "model_timeout", message, status, retryAfterMs };
  if (status === undefined) {
    // An answer that came but could not be read (a 200 that is not a Chat Completions body) is not "unreachable".
    const kind = (error as { constructor?: { name?: string } } | null)?.constructor?.name ?? "";
    const connection = CONNECTION_ERRORS.has(kind) || CONNECTION_ERRORS.has(candidate.name ?? "") || /ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|socket hang up|fetch failed|Connection error/i.test(message);
    return connection
      ? { retry: true, code: "model_unreachable", message, status, retryAfterMs }
      : { retry: true, code: "model_bad_response", message: `the endpoint's answer could not be read as a Chat Completions response (${message})`, status, retryAfterMs };
  }
  if (status === 429) return { retry: true, code: "model_rate_limited", message, status, retryAfterMs };
  if (status >= 500) return { retry: true, code: "model_server_error", message, status, retryAfterMs };
  if (status === 401 || status === 403) return { retry: false, code: "model_auth_failed", message, status, retryAfterMs };
  if (status === 404) return { retry: false, code: "model_not_found", message, status, retryAfterMs };
  return { retry: false, code: "model_request_rejected", message, status, retryAfterMs };
}

function sleep(milliseconds: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortedError("policy"));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, milliseconds);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortedError("policy"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The first failure of parallel requests, counting the requests of all of them. */
function withAttempts(error: unknown, attempts: number): unknown {
  if (!(error instanceof PolicyError)) return error;
  return new PolicyError(error.code, error.message, { cause: error.cause, status: error.status, attempts });
}

/**
 * LangChain, loaded on first use (it takes about a second to import): a
 * server or a test that never talks to a model never pays for it.
 */
interface LangChain {
  readonly openai: typeof import("@langchain/openai");
  readonly messages: typeof import("@langchain/core/messages");
}
let langChain: Promise<LangChain> | undefined;
function loadLangChain(): Promise<LangChain> {
  langChain ??= Promise.all([import("@langchain/openai"), import("@langchain/core/messages")]).then(([openai, messages]) => ({ openai, messages }));
  return langChain;
}

function toLangChain(messages: readonly ChatMessage[], { SystemMessage, AIMessage, HumanMessage }: LangChain["messages"]): BaseMessage[] {
  return messages.map((message) => {
    if (message.role === "system") return new SystemMessage(message.content);
    if (message.role === "assistant") return new AIMessage(message.content);
    return new HumanMessage(message.content);
  });
}

export class OpenAICompatibleModel implements LanguageModel {
  readonly description: string;
  private readonly options: Required<Omit<OpenAICompatibleOptions, "logger">> & { logger: Logger };
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly clients = new Map<string, ChatOpenAI>();
  /** Learned from the first request with n > 1. */
  private supportsN: boolean | undefined;

  constructor(options: OpenAICompatibleOptions) {
    this.options = {
      maxAttempts: 4,
      backoffMs: 250,
      requestTimeoutMs: 120_000,
      concurrency: 16,
      logger: silentLogger,
      ...options,
    };
    this.limit = pLimit(this.options.concurrency);
    this.description = `openai-compatible ${options.baseURL} (model ${options.model})`;
    // A configured model will be asked soon: load LangChain in the background now.
    void loadLangChain();
  }

  /** One ChatOpenAI per sampling configuration: model, temperature, n and max tokens are fields of the object. */
  private client({ ChatOpenAI }: LangChain["openai"], model: string, temperature: number, n: number, maxTokens: number): ChatOpenAI {
    const key = `${model}\u0000${temperature}\u0000${n}\u0000${maxTokens}`;
    let client = this.clients.get(key);
    if (client === undefined) {
      client = new ChatOpenAI({
        model,
        temperature,
        n,
        maxTokens,
        apiKey: this.options.apiKey,
        maxRetries: 0,
        timeout: this.options.requestTimeoutMs,
        configuration: { baseURL: this.options.baseURL, maxRetries: 0 },
      });
      if (this.clients.size > 64) this.clients.clear();
      this.clients.set(key, client);
    }
    return client;
  }

  private async request(request: GenerateRequest, n: number): Promise<GenerateResult> {
    const model = request.model ?? this.options.model;
    const library = await loadLangChain();
    const client = this.client(library.openai, model, request.temperature, n, request.maxTokens);
    const signal = request.signal;
    let lastFailure: PolicyError | undefined;
    const givenUp = (attempts: number, cause?: unknown): PolicyAbortedError =>
      new PolicyAbortedError(
        lastFailure === undefined
          ? "the model request was cancelled"
          : `the model request was cancelled while retrying after ${attempts} attempt${attempts === 1 ? "" : "s"} (${lastFailure.code}: ${lastFailure.message})`,
        attempts,
        lastFailure ?? (cause instanceof PolicyError ? cause : undefined),
      );
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw givenUp(attempt - 1);
      try {
        const result = await this.limit(() => {
          if (signal?.aborted) throw new AbortedError("policy");
          return client.generate([toLangChain(request.messages, library.messages)], {
            ...(signal === undefined ? {} : { signal }),
            ...(request.stop === undefined ? {} : { stop: [...request.stop] }),
          });
        });
        const generations = result.generations[0] ?? [];
        // A 200 without choices (an HTML login page, a proxy's own answer) is not a reply of the model.
        if (generations.length === 0) throw new MalformedReplyError("the answer had no choices");
        const completions: Completion[] = generations.map((generation) => {
          const message = (generation as { message?: { additional_kwargs?: Record<string, unknown> } }).message;
          const reasoning = message?.additional_kwargs?.["reasoning_content"];
          return {
            text: generation.text,
            ...(typeof reasoning === "string" && reasoning !== "" ? { reasoning } : {}),
            ...(typeof generation.generationInfo?.["finish_reason"] === "string" ? { finishReason: generation.generationInfo["finish_reason"] as string } : {}),
          };
        });
        const tokens = (result.llmOutput as { tokenUsage?: { promptTokens?: number; completionTokens?: number } } | undefined)?.tokenUsage;
        return {
          completions,
          usage: { calls: attempt, promptTokens: tokens?.promptTokens ?? 0, completionTokens: tokens?.completionTokens ?? 0 },
        };
      } catch (error) {
        if (signal?.aborted || error instanceof AbortedError) throw givenUp(attempt);
        const classified = classifyModelError(error);
        lastFailure = new PolicyError(
          classified.code,
          `${this.description}: ${classified.message}${classified.retry ? ` (after ${attempt} attempt${attempt === 1 ? "" : "s"})` : ""}`,
          { cause: error, status: classified.status, attempts: attempt },
        );
        if (!classified.retry || attempt >= this.options.maxAttempts) throw lastFailure;
        const backoff = this.options.backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random());
        const delay = Math.min(10_000, classified.retryAfterMs ?? backoff);
        this.options.logger.warn("model request failed, retrying", { code: classified.code, attempt, delay_ms: Math.round(delay) });
        await sleep(delay, signal).catch(() => {
          throw givenUp(attempt);
        });
      }
    }
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const wanted = Math.max(1, request.n);
    const completions: Completion[] = [];
    let usage = NO_USAGE;
    if (wanted > 1 && this.supportsN !== false) {
      const batch = await this.request(request, wanted);
      completions.push(...batch.completions.slice(0, wanted));
      usage = addUsage(usage, batch.usage);
      if (this.supportsN === undefined) {
        this.supportsN = batch.completions.length >= wanted;
        if (!this.supportsN) this.options.logger.warn(`${this.description} ignores n; sending single requests in parallel instead`);
      }
    }
    const missing = wanted - completions.length;
    if (missing > 0) {
      const settled = await Promise.allSettled(Array.from({ length: missing }, () => this.request(request, 1)));
      const failures: unknown[] = [];
      for (const outcome of settled) {
        if (outcome.status === "fulfilled") {
          completions.push(...outcome.value.completions.slice(0, 1));
          usage = addUsage(usage, outcome.value.usage);
        } else {
          failures.push(outcome.reason);
          usage = addUsage(usage, usageOfFailure(outcome.reason));
        }
      }
      // Some samples are better than none; all failing is the endpoint failing.
      if (completions.length === 0 && failures.length > 0) throw withAttempts(failures[0], usage.calls);
    }
    return { completions, usage };
  }
}
