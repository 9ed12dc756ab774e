/** A tracefix server with /v1/solve over a fake model endpoint and a real sandbox, on a loopback port. */
import { serve, type ServerType } from "@hono/node-server";

import type { CandidateScorer } from "../../src/judge/index.ts";
import { LlmPolicy, RepairPolicy, OpenAICompatibleModel } from "../../src/policy/index.ts";
import type { Executor } from "../../src/sandbox/index.ts";
import { loadPrompts, MemoryRunStore, RunManager } from "../../src/scaling/index.ts";
import { createApp } from "../../src/server/app.ts";
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
  options: FakeOptions & { maxAttempts?: number; heartbeatMs?: number; scorer?: CandidateScorer } = {},
): Promise<SolveServer> {
  const fake = await FakeLLM.start(script, options);
  const model = new OpenAICompatibleModel({
    baseURL: fake.url,
    apiKey: "test-key",
    model: "fake-coder",
    backoffMs: 20,
    maxAttempts: options.maxAttempts ?? 3,
    requestTimeoutMs: 30_000,
  });
  const prompts = loadPrompts();
  const runs = new RunManager({ policies: { llm: new LlmPolicy(model, prompts), repair: new RepairPolicy() }, model, executor: pool, prompts, logger: silentLogger, scorer: options.scorer }, new MemoryRunStore());
  const app = createApp({
    executor: pool,
    runs,
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
