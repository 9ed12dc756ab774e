/**
 * A fake OpenAI-compatible endpoint: a real HTTP server on loopback that
 * speaks the Chat Completions wire format (JSON and streaming, `n` choices),
 * scripted per test, recording every request and whether its client
 * aborted it (and when).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A message as a client sends it: an assistant turn may carry tool calls (and no content), a tool turn answers one. */
export interface ChatMessage {
  readonly role: string;
  /** A string, or content parts (`[{type: "text", text}]`) as some clients send them. */
  readonly content: string | null | readonly { readonly type: string; readonly text?: string }[];
  readonly tool_calls?: readonly { id: string; type: "function"; function: { name: string; arguments: string } }[];
  readonly tool_call_id?: string;
}

export interface ChatRequest {
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  /** The functions the client offers (OpenAI's `tools`). */
  readonly tools?: readonly { type: "function"; function: { name: string; description?: string; parameters?: unknown } }[];
  readonly n?: number;
  readonly temperature?: number;
  readonly max_tokens?: number;
  readonly stream?: boolean;
  readonly stop?: readonly string[];
}

/** A function call the scripted model makes: its arguments are sent as the JSON string the wire format carries. */
export interface ScriptedToolCall {
  readonly name: string;
  readonly arguments: Record<string, unknown>;
}

export type Reply =
  | { readonly texts: readonly string[] }
  /** One choice that calls tools (finish_reason "tool_calls"), with optional text beside the calls. */
  | { readonly toolCalls: readonly ScriptedToolCall[]; readonly text?: string }
  | { readonly status: number; readonly message?: string; readonly headers?: Record<string, string> }
  | { readonly delayMs: number; readonly then: Reply }
  | { readonly hang: true }
  /** A 200 whose body is whatever this says (not a Chat Completions response). */
  | { readonly raw: string; readonly contentType?: string }
  | { readonly destroy: true };

/** Answers one request; `call` counts requests from 0. */
export type Script = (request: ChatRequest, call: number) => Reply | Promise<Reply>;

export interface RecordedRequest {
  readonly body: ChatRequest;
  readonly receivedAt: number;
  abortedAt: number | undefined;
  answeredAt: number | undefined;
}

export interface FakeOptions {
  /** Behave like a server that ignores `n`: always one choice. */
  readonly ignoreN?: boolean;
}

/** A message's text, whichever shape its content came in. */
export function textOf(message: ChatMessage | undefined): string {
  const content = message?.content;
  if (content === null || content === undefined) return "";
  return typeof content === "string" ? content : content.map((part) => part.text ?? "").join("");
}

/** The text of the last user message of a request: what a script usually reads. */
export function lastUserMessage(request: ChatRequest): string {
  return textOf([...request.messages].reverse().find((message) => message.role === "user"));
}

/** The results of tool calls the client sent back since the model's last turn, by tool call id. */
export function toolResults(request: ChatRequest): Map<string, string> {
  const results = new Map<string, string>();
  for (const message of request.messages) if (message.role === "tool" && message.tool_call_id !== undefined) results.set(message.tool_call_id, textOf(message));
  return results;
}

export function fenced(code: string, language = "python"): string {
  return `Here is the program.\n\n\`\`\`${language}\n${code.replace(/\n$/, "")}\n\`\`\`\n`;
}

interface Usage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
}

/** A whole Chat Completions response body. */
function completionJson(body: ChatRequest, call: number, created: number, choices: readonly unknown[], usage: Usage): string {
  return JSON.stringify({ id: `chatcmpl-fake-${call}`, object: "chat.completion", created, model: body.model, choices, usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } });
}

/** One streamed chunk as an SSE line; the last one carries only the usage. */
function chunkLine(body: ChatRequest, call: number, created: number, choices: readonly unknown[], usage?: Usage): string {
  const extra = usage === undefined ? {} : { usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } };
  return `data: ${JSON.stringify({ id: `chatcmpl-fake-${call}`, object: "chat.completion.chunk", created, model: body.model, choices, ...extra })}\n\n`;
}

function promptTokens(body: ChatRequest): number {
  return body.messages.reduce((sum, message) => sum + Math.ceil(textOf(message).length / 4), 0);
}

export class FakeLLM {
  readonly requests: RecordedRequest[] = [];
  private readonly server: Server;
  private script: Script;
  private readonly options: FakeOptions;
  private port = 0;

  private constructor(script: Script, options: FakeOptions) {
    this.script = script;
    this.options = options;
    this.server = createServer((request, response) => void this.handle(request, response));
  }

  static async start(script: Script, options: FakeOptions = {}): Promise<FakeLLM> {
    const fake = new FakeLLM(script, options);
    await new Promise<void>((resolve) => fake.server.listen(0, "127.0.0.1", resolve));
    fake.port = (fake.server.address() as AddressInfo).port;
    return fake;
  }

  /** The base URL a client is configured with (…/v1). */
  get url(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  setScript(script: Script): void {
    this.script = script;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== "POST" || !request.url?.endsWith("/chat/completions")) {
      response.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "not found" } }));
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as ChatRequest;
    const record: RecordedRequest = { body, receivedAt: performance.now(), abortedAt: undefined, answeredAt: undefined };
    const call = this.requests.length;
    this.requests.push(record);
    response.on("close", () => {
      if (!response.writableFinished) record.abortedAt = performance.now();
    });
    let reply = await this.script(body, call);
    while ("delayMs" in reply) {
      await new Promise((resolve) => setTimeout(resolve, reply && "delayMs" in reply ? reply.delayMs : 0));
      if (record.abortedAt !== undefined) return;
      reply = reply.then;
    }
    if ("hang" in reply) return; // until the client gives up
    if ("raw" in reply) {
      response.writeHead(200, { "content-type": reply.contentType ?? "text/html" }).end(reply.raw);
      record.answeredAt = performance.now();
      return;
    }
    if ("destroy" in reply) {
      request.socket.destroy();
      return;
    }
    if ("status" in reply) {
      response.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
      response.end(JSON.stringify({ error: { message: reply.message ?? `error ${reply.status}`, type: "server_error" } }));
      record.answeredAt = performance.now();
      return;
    }
    if ("toolCalls" in reply) {
      this.answerToolCalls(body, reply, call, response);
      record.answeredAt = performance.now();
      return;
    }
    const texts = this.options.ignoreN ? reply.texts.slice(0, 1) : reply.texts.slice(0, Math.max(1, body.n ?? 1));
    const usage = {
      prompt_tokens: promptTokens(body),
      completion_tokens: texts.reduce((sum, text) => sum + Math.ceil(text.length / 4), 0),
    };
    const created = Math.floor(Date.now() / 1000);
    if (body.stream === true) {
      response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      texts.forEach((text, index) => {
        for (const delta of [{ role: "assistant", content: "" }, { content: text }]) response.write(chunkLine(body, call, created, [{ index, delta, finish_reason: null }]));
        response.write(chunkLine(body, call, created, [{ index, delta: {}, finish_reason: "stop" }]));
      });
      response.write(chunkLine(body, call, created, [], usage));
      response.end("data: [DONE]\n\n");
    } else {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(completionJson(body, call, created, texts.map((text, index) => ({ index, message: { role: "assistant", content: text }, finish_reason: "stop" })), usage));
    }
    record.answeredAt = performance.now();
  }

  /**
   * Tool calls in both wire shapes: `message.tool_calls` (arguments a JSON
   * string), or streamed — the call's id and name first, then its arguments
   * in two pieces, as real servers split them.
   */
  private answerToolCalls(body: ChatRequest, reply: { readonly toolCalls: readonly ScriptedToolCall[]; readonly text?: string }, call: number, response: ServerResponse): void {
    const created = Math.floor(Date.now() / 1000);
    const calls = reply.toolCalls.map((toolCall, index) => ({ id: `call_${call}_${index}`, type: "function" as const, function: { name: toolCall.name, arguments: JSON.stringify(toolCall.arguments) } }));
    const usage = { prompt_tokens: promptTokens(body), completion_tokens: calls.reduce((sum, entry) => sum + Math.ceil(entry.function.arguments.length / 4), 0) };
    if (body.stream !== true) {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(completionJson(body, call, created, [{ index: 0, message: { role: "assistant", content: reply.text ?? null, tool_calls: calls }, finish_reason: "tool_calls" }], usage));
      return;
    }
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const send = (delta: Record<string, unknown>, finish: string | null = null): void => {
      response.write(chunkLine(body, call, created, [{ index: 0, delta, finish_reason: finish }]));
    };
    send({ role: "assistant", content: reply.text ?? "" });
    calls.forEach((entry, index) => {
      const half = Math.ceil(entry.function.arguments.length / 2);
      send({ tool_calls: [{ index, id: entry.id, type: "function", function: { name: entry.function.name, arguments: "" } }] });
      send({ tool_calls: [{ index, function: { arguments: entry.function.arguments.slice(0, half) } }] });
      send({ tool_calls: [{ index, function: { arguments: entry.function.arguments.slice(half) } }] });
    });
    send({}, "tool_calls");
    response.write(chunkLine(body, call, created, [], usage));
    response.end("data: [DONE]\n\n");
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
