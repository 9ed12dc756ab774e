/**
 * The tool-agent seam: a language model that works through tools until it
 * calls one that ends it (submit), for the agent strategy. The tools are
 * given by the caller (scaling/agent-session.ts runs them in the sandbox);
 * this side only carries the conversation. The adapter is LangChain's agent
 * (langchain-agent.ts); nothing outside src/policy knows that.
 */
import type { z } from "zod";

import type { Sampling } from "../policy.ts";
import type { TokenUsage } from "../model.ts";

export interface AgentTool {
  readonly name: string;
  /** What the model reads about it. */
  readonly description: string;
  readonly schema: z.ZodObject;
  /** Its answer ends the agent (submit). */
  readonly ends?: boolean | undefined;
  /**
   * Runs one call; never throws: a failure is a text the model reads. The
   * arguments are as the model sent them (the caller checks them again).
   */
  run(args: Readonly<Record<string, unknown>>): Promise<string>;
}

export interface AgentRequest {
  readonly system: string;
  readonly task: string;
  /** Said once when the model answers without calling a tool that ends it. */
  readonly corrective: string;
  readonly tools: readonly AgentTool[];
  /** Model turns at most, over the whole conversation. */
  readonly maxTurns: number;
  readonly sampling: Sampling;
  /** Streamed replies (tool calls as deltas) instead of whole ones. */
  readonly stream: boolean;
  readonly signal: AbortSignal;
}

export interface AgentOutcome {
  /** ended: a tool that ends it answered; prose: it answered without one, twice; turns: maxTurns was reached. */
  readonly end: "ended" | "prose" | "turns";
  /** The model's last words without a tool call, if any. */
  readonly reply: string;
  readonly usage: TokenUsage;
}

export interface ToolAgent {
  /** Says what answers: adapter, endpoint, default model. */
  readonly description: string;
  run(request: AgentRequest): Promise<AgentOutcome>;
}
