/** A tracefix server with /v1/solve over a fake model endpoint and a real sandbox, on a loopback port. */
import { serve, type ServerType } from "@hono/node-server";

import type { CandidateScorer } from "../../src/judge/index.ts";
import { LangChainToolAgent, LlmPolicy, RepairPolicy, OpenAICompatibleModel } from "../../src/policy/index.ts";
import type { Executor } from "../../src/sandbox/index.ts";
import { loadPrompts, RunManager } from "../../src/scaling/index.ts";
import { MemoryRunStore } from "../../src/store/index.ts";
import { createApp } from "../../src/server/app.ts";
import type { Metrics } from "../../src/server/metrics.ts";
import { silentLogger } from "../../src/shared/logger.ts";
import { FakeLLM, type FakeOptions, type Script } from "./fake-llm.ts";

export interface SolveServer {
  readonly fake: FakeLLM;
  readonly runs: RunManager;
  readonly app: ReturnType<typeof createApp>;
  readonly url: string;
  close(): Promise<void>;
}

export async function startSolveServer(
  pool: Executor,
  script: Script,
  options: FakeOptions & { maxAttempts?: number; heartbeatMs?: number; scorer?: CandidateScorer; metrics?: Metrics } = {},
): Promise<SolveServer> {
  // Composed as src/server/main.ts composes it when metrics are asked for.
  const metrics = options.metrics;
  const executor = metrics === undefined ? pool : metrics.meterExecutor(pool);
  const fake = await FakeLLM.start(script, options);
  const endpoint = new OpenAICompatibleModel({
    baseURL: fake.url,
    apiKey: "test-key",
    model: "fake-coder",
    backoffMs: 20,
    maxAttempts: options.maxAttempts ?? 3,
    requestTimeoutMs: 30_000,
  });
  const model = metrics === undefined ? endpoint : metrics.meterModel(endpoint);
  const toolAgent = new LangChainToolAgent({ baseURL: fake.url, apiKey: "test-key", model: "fake-coder", requestTimeoutMs: 30_000 });
  const agent = metrics === undefined ? toolAgent : metrics.meterAgent(toolAgent);
  const prompts = loadPrompts();
  const runs = new RunManager(
    { policies: { llm: new LlmPolicy(model, prompts), repair: new RepairPolicy() }, model, agent, executor, prompts, logger: silentLogger, scorer: options.scorer },
    new MemoryRunStore(),
    { onEvent: metrics === undefined ? undefined : (event) => metrics.observeRunEvent(event) },
  );
  const app = createApp({
    executor,
    runs,
    ...(metrics === undefined ? {} : { metrics }),
    selection: { prompts, model, scorer: options.scorer },
    ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
  });
  let server!: ServerType;
  const url = await new Promise<string>((resolve) => {
    server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (address) => resolve(`http://127.0.0.1:${address.port}`));
  });
  return {
    fake,
    runs,
    app,
    url,
    async close() {
      await runs.close();
      server.close();
      await fake.close();
    },
  };
}
