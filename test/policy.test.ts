/**
 * The OpenAI-compatible policy over a real HTTP exchange with the fake
 * endpoint: n choices, servers that ignore n, retries, faults, aborts; and
 * code extraction from replies.
 */
import { afterEach, describe, expect, it } from "vitest";

import { extractCode, OpenAICompatibleModel } from "../src/policy/index.ts";
import { AbortedError, PolicyError } from "../src/shared/errors.ts";
import { FakeLLM, type FakeOptions, type Script } from "./support/fake-llm.ts";

let fake: FakeLLM | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function model(script: Script, options: FakeOptions = {}, maxAttempts = 3): Promise<OpenAICompatibleModel> {
  fake = await FakeLLM.start(script, options);
  return new OpenAICompatibleModel({ baseURL: fake.url, apiKey: "k", model: "fake-coder", backoffMs: 10, maxAttempts });
}

const ask = { messages: [{ role: "user" as const, content: "write f" }], temperature: 0.7, maxTokens: 256 };

describe("OpenAICompatibleModel", () => {
  it("gets n completions in one request, with token usage and the request's settings", async () => {
    const llm = await model((request) => ({ texts: Array.from({ length: request.n ?? 1 }, (_, index) => `answer ${index}`) }));
    const result = await llm.generate({ ...ask, n: 3, model: "other-model", stop: ["###"] });
    expect(result.completions.map((completion) => completion.text)).toEqual(["answer 0", "answer 1", "answer 2"]);
    expect(result.usage.calls).toBe(1);
    expect(result.usage.completionTokens).toBeGreaterThan(0);
    expect(fake?.requests).toHaveLength(1);
    expect(fake?.requests[0]?.body).toMatchObject({ model: "other-model", n: 3, temperature: 0.7, max_tokens: 256, stop: ["###"] });
    expect(fake?.requests[0]?.body.stream).not.toBe(true);
  });

  it("fills in with parallel single requests when the server ignores n", async () => {
    const llm = await model((_request, call) => ({ texts: [`answer ${call}`] }), { ignoreN: true });
    const first = await llm.generate({ ...ask, n: 4 });
    expect(first.completions).toHaveLength(4);
    expect(new Set(first.completions.map((completion) => completion.text)).size).toBe(4);
    expect(fake?.requests).toHaveLength(4);
    // Learned: the next batch goes straight to single requests.
    await llm.generate({ ...ask, n: 2 });
    expect(fake?.requests.slice(4).map((request) => request.body.n ?? 1)).toEqual([1, 1]);
  });

  it("retries 500 and 429 (honouring Retry-After), then succeeds", async () => {
    const llm = await model((_request, call) =>
      call === 0 ? { status: 500 } : call === 1 ? { status: 429, headers: { "retry-after": "0.2" } } : { texts: ["ok"] },
    );
    const started = performance.now();
    const result = await llm.generate({ ...ask, n: 1 });
    expect(result.completions[0]?.text).toBe("ok");
    expect(result.usage.calls).toBe(3);
    const gap = (fake?.requests[2]?.receivedAt ?? 0) - (fake?.requests[1]?.receivedAt ?? 0);
    expect(gap).toBeGreaterThanOrEqual(180);
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it("does not retry other 4xx and says what failed", async () => {
    const llm = await model(() => ({ status: 400, message: "context length exceeded" }));
    const error = await llm.generate({ ...ask, n: 1 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PolicyError);
    expect(error).toMatchObject({ code: "model_request_rejected", stage: "policy", status: 400 });
    expect((error as Error).message).toContain("context length exceeded");
    expect(fake?.requests).toHaveLength(1);
  });

  it("gives up on an endpoint that keeps failing, with a clear code", async () => {
    const llm = await model(() => ({ status: 503 }), {}, 3);
    await expect(llm.generate({ ...ask, n: 1 })).rejects.toMatchObject({ code: "model_server_error" });
    expect(fake?.requests).toHaveLength(3);
  });

  it("reports an unreachable endpoint as model_unreachable", async () => {
    const closed = await FakeLLM.start(() => ({ texts: [] }));
    const url = closed.url;
    await closed.close();
    const llm = new OpenAICompatibleModel({ baseURL: url, apiKey: "k", model: "m", backoffMs: 10, maxAttempts: 2 });
    await expect(llm.generate({ ...ask, n: 1 })).rejects.toMatchObject({ code: "model_unreachable", stage: "policy" });
  });

  it("aborts a request in flight when its signal aborts", async () => {
    const llm = await model(() => ({ hang: true }));
    const controller = new AbortController();
    const pending = llm.generate({ ...ask, n: 1, signal: controller.signal }).catch((caught: unknown) => caught);
    await expect.poll(() => fake?.requests.length).toBe(1);
    const abortedAt = performance.now();
    controller.abort();
    expect(await pending).toBeInstanceOf(AbortedError);
    await expect.poll(() => fake?.requests[0]?.abortedAt).toBeDefined();
    expect((fake?.requests[0]?.abortedAt ?? Infinity) - abortedAt).toBeLessThan(200);
  });
});

describe("extractCode", () => {
  it("takes the last python block and keeps the rest as reasoning", () => {
    const reply = "First try:\n```python\ndef f():\n    return 1\n```\nBetter:\n```python\ndef f():\n    return 2\n```\nDone.";
    const extracted = extractCode(reply, "python");
    expect(extracted).toMatchObject({ code: "def f():\n    return 2\n", source: "fenced" });
    expect(extracted.reasoning).toContain("First try:");
    expect(extracted.reasoning).toContain("Done.");
  });

  it("prefers a python block over a later block in another language, and accepts an unlabelled one", () => {
    expect(extractCode("```python\nx = 1\n```\n```text\noutput\n```", "python").code).toBe("x = 1\n");
    expect(extractCode("```\nx = 2\n```", "python").code).toBe("x = 2\n");
  });

  it("keeps <think> blocks apart", () => {
    const extracted = extractCode("<think>the loop is off by one</think>\n```py\nx = 3\n```", "python");
    expect(extracted.code).toBe("x = 3\n");
    expect(extracted.reasoning).toBe("the loop is off by one");
  });

  it("offers an unfenced reply as the whole program, and nothing when fences hold no python", () => {
    expect(extractCode("def f():\n    return 4\n", "python")).toMatchObject({ code: "def f():\n    return 4\n", source: "whole" });
    expect(extractCode("```json\n{}\n```", "python")).toMatchObject({ code: undefined, source: "none" });
  });
});
