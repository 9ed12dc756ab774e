/**
 * `npm start`: start the sandbox pool and the HTTP server, then show the
 * sandbox doing its job once on a small buggy program.
 */
import { readFileSync } from "node:fs";

import { serve } from "@hono/node-server";

import { DEFAULT_REWARD_DIRECTORY, loadRewardModel, type RewardModel, type RewardModelStatus } from "../judge/index.ts";
import { LlmPolicy, modelFromEnvironment } from "../policy/index.ts";
import { JavaScriptPool, PythonPool, SandboxRouter, type Executor } from "../sandbox/index.ts";
import { loadPrompts, MemoryRunStore, RunManager } from "../scaling/index.ts";
import { consoleLogger } from "../shared/logger.ts";
import { createApp } from "./app.ts";
import { configFromEnvironment } from "./config.ts";
import { selfCheck } from "./self-check.ts";

const logger = consoleLogger;
const packageJson = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

async function main(): Promise<void> {
  const config = configFromEnvironment();
  const python = await PythonPool.start({
    python: config.python,
    isolation: config.sandbox,
    size: config.workers,
    logger,
    admission: config.admission,
  });
  // JavaScript is optional: without a working isolated-vm the server still
  // runs Python and says why JavaScript is off (/healthz, and a 503 per request).
  const pools: Executor[] = [python];
  const unavailable: { javascript?: string } = {};
  try {
    pools.push(await JavaScriptPool.start({ size: config.workers, logger, admission: config.admission }));
  } catch (error) {
    unavailable.javascript = (error as Error).message;
    logger.error(`javascript sandbox not started: ${unavailable.javascript}`);
  }
  const executor = new SandboxRouter(pools, unavailable);
  // The reward model: a clear line and a "not loaded" in /healthz when it
  // cannot be used, never an error at request time.
  let reward: RewardModel | undefined;
  let rewardStatus: RewardModelStatus;
  try {
    reward = await loadRewardModel({ directory: config.rewardModel, provider: config.rewardProvider, logger });
    rewardStatus = reward.status;
    logger.info(`reward model: ${reward.description}, held-out pair accuracy ${rewardStatus.heldout_accuracy ?? "?"}`);
  } catch (error) {
    rewardStatus = { loaded: false, directory: config.rewardModel ?? DEFAULT_REWARD_DIRECTORY, reason: (error as Error).message };
    logger.error(`reward model not loaded: ${(error as Error).message}`);
  }
  const model = modelFromEnvironment(logger);
  // Prompts are checked now: a broken template stops the start, not a run.
  const prompts = loadPrompts();
  const runs = new RunManager({ policy: model === undefined ? undefined : new LlmPolicy(model, prompts), model, executor, prompts, logger, scorer: reward }, new MemoryRunStore(), { maxRuns: config.maxRuns });
  if (model === undefined) {
    logger.warn("no language model configured (TRACEFIX_LLM_BASE_URL / OPENAI_API_KEY): /v1/solve answers 503, /v1/execute works");
  } else {
    logger.info(`language model: ${model.description}`);
  }
  const app = createApp({ executor, runs, logger, version: packageJson.version, selection: { prompts, model, scorer: reward }, reward: rewardStatus, queueTimeoutMs: config.admission.maxWaitMs + 500 });
  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, (address) => {
    const url = `http://${config.host}:${address.port}`;
    logger.info(`listening on ${url}`);
    void selfCheck(executor, logger, url);
  });
  server.on("error", (error: NodeJS.ErrnoException) => {
    logger.error(
      error.code === "EADDRINUSE"
        ? `${config.host}:${config.port} is already in use; set PORT (or HOST) to another address`
        : `the HTTP server failed: ${error.message}`,
    );
    void executor.close().then(() => process.exit(1));
  });
  const shutdown = (signal: string): void => {
    logger.info(`${signal}: shutting down`);
    server.close();
    void runs.close().then(() => executor.close()).then(() => process.exit(0));
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
}

main().catch((error: unknown) => {
  logger.error(`start-up failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
