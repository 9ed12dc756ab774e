/**
 * The tool agent on LangChain v1's `createAgent` over `ChatOpenAI`: any
 * OpenAI-compatible endpoint that speaks function calling. One agent graph
 * per run of `run()` (its tools are that agent's). Streaming goes through
 * `agent.stream(…, {streamMode: "messages"})`, which has the model stream its
 * reply chunk by chunk; `streaming: true` on the model is never set (its
 * non-streamed path would then count tokens with a tokenizer it downloads).
 */
import type { BaseMessage } from "@langchain/core/messages";
import type { ChatOpenAI } from "@langchain/openai";

import { AbortedError, PolicyAbortedError, PolicyError } from "../../shared/errors.ts";
import { addUsage, NO_USAGE, type TokenUsage } from "../model.ts";
import { classifyModelError, type OpenAICompatibleOptions } from "../openai-compatible.ts";
import type { AgentOutcome, AgentRequest, ToolAgent } from "./tool-agent.ts";

interface LangChainAgents {
  readonly langchain: typeof import("langchain");
  readonly openai: typeof import("@langchain/openai");
}

let loaded: Promise<LangChainAgents> | undefined;
/** Loaded on first use, like the chat adapter: a server that never runs an agent never pays for it. */
function loadAgents(): Promise<LangChainAgents> {
  loaded ??= Promise.all([import("langchain"), import("@langchain/openai")]).then(([langchain, openai]) => ({ langchain, openai }));
  return loaded;
}

type AgentOptions = Pick<OpenAICompatibleOptions, "baseURL" | "apiKey" | "model" | "requestTimeoutMs">;

/** The text of a message, whatever shape its content has. */
function textOf(message: BaseMessage | undefined): string {
  const content = message?.content;
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((part) => (typeof part === "object" && part !== null && "text" in part && typeof part.text === "string" ? part.text : "")).join("");
}

/** Calls made and tokens used, counted as the model answers (a failed run still says what it spent). */
class UsageCounter {
  usage: TokenUsage = NO_USAGE;

  handler(): Record<string, unknown> {
    return {
      handleChatModelStart: () => {
        this.usage = addUsage(this.usage, { calls: 1, promptTokens: 0, completionTokens: 0 });
      },
      handleLLMEnd: (output: { generations?: { message?: { usage_metadata?: { input_tokens?: number; output_tokens?: number } } }[][] }) => {
        const metadata = output.generations?.[0]?.[0]?.message?.usage_metadata;
        this.usage = addUsage(this.usage, { calls: 0, promptTokens: metadata?.input_tokens ?? 0, completionTokens: metadata?.output_tokens ?? 0 });
      },
    };
  }
}

export class LangChainToolAgent implements ToolAgent {
  readonly description: string;
  private readonly options: AgentOptions;

  constructor(options: AgentOptions) {
    this.options = options;
    this.description = `LangChain agent over openai-compatible ${options.baseURL} (model ${options.model})`;
  }

  private model({ ChatOpenAI: Chat }: LangChainAgents["openai"], request: AgentRequest): ChatOpenAI {
    return new Chat({
      model: request.sampling.model ?? this.options.model,
      temperature: request.sampling.temperature,
      maxTokens: request.sampling.maxTokens,
      apiKey: this.options.apiKey,
      maxRetries: 2,
      timeout: this.options.requestTimeoutMs ?? 120_000,
      configuration: { baseURL: this.options.baseURL, maxRetries: 2 },
    });
  }

  async run(request: AgentRequest): Promise<AgentOutcome> {
    const library = await loadAgents();
    const { createAgent, tool, HumanMessage, SystemMessage } = library.langchain;
    let ended = false;
    const tools = request.tools.map((entry) =>
      tool(
        async (args: Record<string, unknown>) => {
          const answer = await entry.run(args);
          if (entry.ends === true) ended = true;
          return answer;
        },
        { name: entry.name, description: entry.description, schema: entry.schema, returnDirect: entry.ends === true },
      ),
    );
    const agent = createAgent({ model: this.model(library.openai, request), tools });
    const counter = new UsageCounter();
    // A model turn and a tools step are a graph step each.
    const config = { signal: request.signal, recursionLimit: 2 * request.maxTurns + 1, callbacks: [counter.handler()] };
    const converse = async (messages: BaseMessage[]): Promise<BaseMessage[]> => {
      if (!request.stream) return ((await agent.invoke({ messages }, config)) as { messages: BaseMessage[] }).messages;
      let state: { messages: BaseMessage[] } = { messages };
      for await (const [mode, chunk] of await agent.stream({ messages }, { ...config, streamMode: ["messages", "values"] })) {
        if (mode === "values") state = chunk as { messages: BaseMessage[] };
      }
      return state.messages;
    };
    let messages: BaseMessage[] = [new SystemMessage(request.system), new HumanMessage(request.task)];
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        messages = await converse(messages);
        if (ended) return { end: "ended", reply: "", usage: counter.usage };
        // The model answered in prose: one corrective turn, then it is done.
        if (attempt === 0) messages = [...messages, new HumanMessage(request.corrective)];
      }
      return { end: "prose", reply: textOf(messages.at(-1)), usage: counter.usage };
    } catch (error) {
      if (ended) return { end: "ended", reply: "", usage: counter.usage };
      // Every model turn used without ending: not a failure, the caller takes the agent's best program.
      if ((error as { name?: string } | null)?.name === "GraphRecursionError" && !request.signal.aborted) return { end: "turns", reply: "", usage: counter.usage };
      throw this.failure(error, request.signal, counter.usage);
    }
  }

  /** The agent's failure as the policy stage reports one. */
  private failure(error: unknown, signal: AbortSignal, usage: TokenUsage): Error {
    if (signal.aborted || error instanceof AbortedError) return new PolicyAbortedError("the agent was cancelled", usage.calls, undefined);
    const classified = classifyModelError(error);
    return new PolicyError(classified.code, `${this.description}: ${classified.message}`, { cause: error, status: classified.status, attempts: usage.calls });
  }
}
