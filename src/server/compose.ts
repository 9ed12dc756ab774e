/**
 * The server as `npm start` runs it: the sandbox pools, the reward model,
 * the repair search's policy model, the language model where configured,
 * runs and the HTTP app, each measured for GET /metrics. `npm start`
 * (main.ts) and the command line's embedded server (src/cli/tracefix.ts)
 * both start it from here.
 */
import { readFileSync } from "node:fs";

import { serve } from "@hono/node-server";
import type { Hono } from "hono";

import { DEFAULT_REWARD_DIRECTORY, loadRewardModel, type RewardModel, type RewardModelStatus } from "../judge/index.ts";
import {
  DEFAULT_POLICY_DIRECTORY,
  HAND_ORDER,
  LlmPolicy,
  loadPolicyModel,
  modelFromConfig,
  toolAgentFromConfig,
  RepairPolicy,
  type PolicyModel,
  type PolicyModelStatus,
} from "../policy/index.ts";
import { JavaScriptPool, PythonPool, SandboxRouter, type Executor } from "../sandbox/index.ts";
import { loadPrompts, RunManager } from "../scaling/index.ts";
import { openRunStore } from "../store/index.ts";
import { publicConfig, type Config } from "../shared/config.ts";
import type { Logger } from "../shared/logger.ts";
import { createApp } from "./app.ts";
import { Metrics } from "./metrics.ts";

const packageJson = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

export interface ComposedServer {
  readonly app: Hono;
  readonly executor: Executor;
  readonly runs: RunManager;
  /** Stops it all: running runs get `graceMs` to finish (then are cancelled), then the store and the sandbox close. */
  close(graceMs?: number): Promise<void>;
}

/** How often orphaned runs are looked for (another server sharing the store died) and old runs pruned. */
const MAINTENANCE_MS = 60_000;

/** The Python pool, and the JavaScript one where isolated-vm works (else the server says why, and runs Python only). */
async function startSandbox(config: Config, logger: Logger): Promise<Executor> {
  const { isolation, workers, admission } = config.sandbox;
  const python = await PythonPool.start({ python: config.python, isolation, size: workers, logger, admission });
  const pools: Executor[] = [python];
  const unavailable: { javascript?: string } = {};
  try {
    pools.push(await JavaScriptPool.start({ size: workers, logger, admission }));
  } catch (error) {
    unavailable.javascript = (error as Error).message;
    logger.error(`javascript sandbox not started: ${unavailable.javascript}`);
  }
  return new SandboxRouter(pools, unavailable);
}

/** The reward model, or why there is none: a clear line and "not loaded" in /healthz, never an error at request time. */
async function startRewardModel(config: Config, logger: Logger): Promise<{ model: RewardModel | undefined; status: RewardModelStatus }> {
  try {
    const model = await loadRewardModel({ directory: config.reward.directory, provider: config.reward.provider, logger });
    logger.info(`reward model: ${model.description}, held-out pair accuracy ${model.status.heldout_accuracy ?? "?"}`);
    return { model, status: model.status };
  } catch (error) {
    logger.error(`reward model not loaded: ${(error as Error).message}`);
    return { model: undefined, status: { loaded: false, directory: config.reward.directory ?? DEFAULT_REWARD_DIRECTORY, reason: (error as Error).message } };
  }
}

/** The repair search's policy model, or the hand order: one line saying which and why, never an error at request time. */
async function startPolicyModel(config: Config, logger: Logger): Promise<{ model: PolicyModel | undefined; status: PolicyModelStatus }> {
  try {
    const model = await loadPolicyModel({ directory: config.policyModel.directory, provider: config.policyModel.provider, logger });
    const ranks = model.status.heldout_median_rank;
    logger.info(`policy model: ${model.description}, held-out median rank of the fix ${ranks?.learned ?? "?"} (hand order ${ranks?.hand ?? "?"})`);
    return { model, status: model.status };
  } catch (error) {
    logger.error(`policy model not loaded, the repair search uses the hand order: ${(error as Error).message}`);
    return {
      model: undefined,
      status: { loaded: false, order: HAND_ORDER.name, directory: config.policyModel.directory ?? DEFAULT_POLICY_DIRECTORY, reason: (error as Error).message },
    };
  }
}

/** Everything `npm start` serves, composed once (the CLI's embedded server is the same). */
export async function composeServer(config: Config, logger: Logger): Promise<ComposedServer> {
  // First: a store that cannot be opened (another server holds the file) stops the start before anything else starts.
  const store = await openRunStore(config.store, logger);
  logger.info(`run store: ${store.description}`);
  // Everything the server runs through is measured where it is used (GET /metrics).
  const metrics = new Metrics();
  const executor = metrics.meterExecutor(await startSandbox(config, logger));
  const reward = await startRewardModel(config, logger);
  const scorer = reward.model === undefined ? undefined : metrics.meterScorer(reward.model);
  const policyModel = await startPolicyModel(config, logger);
  const configured = modelFromConfig(config.llm, logger);
  const model = configured === undefined ? undefined : metrics.meterModel(configured);
  // Prompts are checked now: a broken template stops the start, not a run.
  const prompts = loadPrompts();
  const order = policyModel.model === undefined ? HAND_ORDER : metrics.meterOrder(policyModel.model);
  const policies = { llm: model === undefined ? undefined : new LlmPolicy(model, prompts), repair: new RepairPolicy({ order }) };
  const configuredAgent = toolAgentFromConfig(config.llm);
  const agent = configuredAgent === undefined ? undefined : metrics.meterAgent(configuredAgent);
  const runs = new RunManager({ policies, model, agent, executor, prompts, logger, scorer }, store, {
    maxRuns: config.maxRuns,
    onEvent: (event) => metrics.observeRunEvent(event),
  });
  const maintain = async (): Promise<void> => {
    await runs.recoverOrphans();
    const pruned = await runs.prune(config.store.retention);
    if (pruned > 0) logger.info(`run store: ${pruned} run(s) past the retention deleted`);
  };
  await maintain();
  const maintenance = setInterval(() => void maintain().catch((error: unknown) => logger.warn("run store maintenance failed", { error: String(error) })), MAINTENANCE_MS);
  maintenance.unref();
  if (model === undefined) logger.warn("no language model configured (TRACEFIX_LLM_BASE_URL / OPENAI_API_KEY): /v1/solve repairs given programs with the built-in search; problems without code answer 422");
  else logger.info(`language model: ${model.description}`);
  const app = createApp({
    executor,
    runs,
    logger,
    version: packageJson.version,
    maxBodyBytes: config.maxBodyBytes,
    selection: { prompts, model, scorer },
    metrics,
    reward: reward.status,
    policyModel: policyModel.status,
    queueTimeoutMs: config.sandbox.admission.maxWaitMs + 500,
    configuration: publicConfig(config),
  });
  return {
    app,
    executor,
    runs,
    async close(graceMs = 0) {
      clearInterval(maintenance);
      await runs.close(graceMs);
      await store.close();
      await executor.close();
    },
  };
}


export interface LoopbackServer {
  readonly url: string;
  close(): Promise<void>;
}

/** The composed server listening on a free loopback port of its own (the command line's embedded server, the browser tests). */
export async function startLoopbackServer(config: Config, logger: Logger): Promise<LoopbackServer> {
  const composed = await composeServer(config, logger);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: composed.app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(started));
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.close();
      await composed.close();
    },
  };
}
