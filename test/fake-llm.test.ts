/** The fake endpoint the agent tests rely on speaks the real wire format, streaming included. */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { FakeLLM, toolResults, type Script } from "./support/fake-llm.ts";

let fake: FakeLLM;

beforeAll(async () => {
  fake = await FakeLLM.start((request) => ({ texts: Array.from({ length: request.n ?? 1 }, (_, index) => `choice ${index}`) }));
});

afterAll(async () => {
  await fake.close();
});

describe("the fake OpenAI-compatible endpoint", () => {
  const client = (): OpenAI => new OpenAI({ baseURL: fake.url, apiKey: "k", maxRetries: 0 });

  it("answers Chat Completions with n choices and usage, as the OpenAI SDK reads them", async () => {
    const completion = await client().chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }], n: 2 });
    expect(completion.choices.map((choice) => choice.message.content)).toEqual(["choice 0", "choice 1"]);
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);
  });

  it("streams chunks per choice, then usage, then [DONE]", async () => {
    const stream = await client().chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }], n: 2, stream: true });
    const text = ["", ""];
    let sawUsage = false;
    for await (const chunk of stream) {
      for (const choice of chunk.choices) text[choice.index] += choice.delta.content ?? "";
      if (chunk.usage) sawUsage = true;
    }
    expect(text).toEqual(["choice 0", "choice 1"]);
    expect(sawUsage).toBe(true);
  });

  describe("tool calls (function calling)", () => {
    const tools = [{ type: "function" as const, function: { name: "run_tests", description: "run the public tests", parameters: { type: "object", properties: { code: { type: "string" } }, required: ["code"] } } }];
    const program = "def f(x):\n    return x\n";
    // First turn: call run_tests; once its result is back, answer in words.
    const script: Script = (request) => {
      const results = toolResults(request);
      if (results.size === 0) return { toolCalls: [{ name: "run_tests", arguments: { code: program } }], text: "Let me run them." };
      return { texts: [`the tests said: ${[...results.values()].join(" | ")}`] };
    };

    it("sends tool_calls in the message, arguments as a JSON string, and reads the tool's answer back", async () => {
      fake.setScript(script);
      const first = await client().chat.completions.create({ model: "m", messages: [{ role: "user", content: "fix it" }], tools });
      const choice = first.choices[0];
      expect(choice?.finish_reason).toBe("tool_calls");
      expect(choice?.message.content).toBe("Let me run them.");
      const toolCall = choice?.message.tool_calls?.[0];
      if (toolCall?.type !== "function") throw new Error("no function call");
      expect(toolCall.function.name).toBe("run_tests");
      expect(JSON.parse(toolCall.function.arguments)).toEqual({ code: program });
      expect(fake.requests.at(-1)?.body.tools?.[0]?.function.name).toBe("run_tests");
      const second = await client().chat.completions.create({
        model: "m",
        tools,
        messages: [
          { role: "user", content: "fix it" },
          { role: "assistant", content: null, tool_calls: [toolCall] },
          { role: "tool", tool_call_id: toolCall.id, content: "1 of 2 passed" },
        ],
      });
      expect(second.choices[0]?.message.content).toBe("the tests said: 1 of 2 passed");
    });

    it("streams a tool call as deltas: id and name first, then the arguments in pieces", async () => {
      fake.setScript(script);
      const stream = await client().chat.completions.create({ model: "m", messages: [{ role: "user", content: "fix it" }], tools, stream: true });
      let name = "";
      let id = "";
      let args = "";
      let pieces = 0;
      let finish: string | null = null;
      for await (const chunk of stream) {
        for (const choice of chunk.choices) {
          for (const delta of choice.delta.tool_calls ?? []) {
            name += delta.function?.name ?? "";
            id += delta.id ?? "";
            if ((delta.function?.arguments ?? "") !== "") pieces += 1;
            args += delta.function?.arguments ?? "";
          }
          finish = choice.finish_reason ?? finish;
        }
      }
      expect({ name, id, finish, pieces }).toEqual({ name: "run_tests", id: expect.stringMatching(/^call_/), finish: "tool_calls", pieces: 2 });
      expect(JSON.parse(args)).toEqual({ code: program });
    });
  });
});
