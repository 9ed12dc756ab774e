/** The fake endpoint the agent tests rely on speaks the real wire format, streaming included. */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { FakeLLM } from "./support/fake-llm.ts";

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
});
