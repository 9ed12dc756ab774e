/**
 * An in-process language model for fast tests of the core: it implements
 * our own LanguageModel interface, answers from a script, and records every
 * call (messages, n, sampling) so a test can check what was asked.
 */
import type { Completion, GenerateRequest, GenerateResult, LanguageModel } from "../../src/policy/index.ts";
import { PolicyError } from "../../src/shared/errors.ts";

/** Completions for one call (`call` counts from 0), or an error to throw. */
export type MockReply = readonly (string | Completion)[] | Error | "hang";
export type MockScript = (request: GenerateRequest, call: number) => MockReply | Promise<MockReply>;

export class MockLanguageModel implements LanguageModel {
  readonly description = "mock model";
  readonly calls: GenerateRequest[] = [];

  constructor(private readonly script: MockScript) {}

  /** The last user message of each call, in order. */
  get prompts(): string[] {
    return this.calls.map((request) => [...request.messages].reverse().find((message) => message.role === "user")?.content ?? "");
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const call = this.calls.length;
    this.calls.push(request);
    const reply = await this.script(request, call);
    if (reply === "hang") return new Promise((_resolve, reject) => request.signal?.addEventListener("abort", () => reject(request.signal?.reason), { once: true }));
    if (reply instanceof Error) throw reply;
    const completions = reply.slice(0, request.n).map((item) => (typeof item === "string" ? { text: item } : item));
    return { completions, usage: { calls: 1, promptTokens: 10, completionTokens: 5 * completions.length } };
  }
}

export function failing(code: "model_server_error" | "model_rate_limited" = "model_server_error"): PolicyError {
  return new PolicyError(code, `mock: ${code}`, { attempts: 1 });
}

export function fence(code: string, language = "python"): string {
  return `\`\`\`${language}\n${code.replace(/\n$/, "")}\n\`\`\``;
}
