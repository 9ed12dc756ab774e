/** POST /v1/select: rank programs the client already has (parallel selection only). */
import { setMaxListeners } from "node:events";

import type { Hono } from "hono";

import type { CandidateScorer } from "../judge/index.ts";
import type { LanguageModel } from "../policy/index.ts";
import { forClient, type Executor } from "../sandbox/index.ts";
import { selectPrograms } from "../scaling/index.ts";
import { TracefixError } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import type { Prompts } from "../shared/prompts.ts";
import { SelectRequest } from "../shared/schema/solve.ts";
import { readRequest } from "./body.ts";
import { clientOf } from "./client.ts";

export interface SelectionServices {
  readonly prompts: Prompts;
  /** The judge (and input-writing) model; without one, selection is model-free. */
  readonly model?: LanguageModel | undefined;
  readonly scorer?: CandidateScorer | undefined;
}

/** A request for the reward model where none is loaded is refused up front, not silently ranked otherwise. */
export function requireRewardModel(method: string, scorer: CandidateScorer | undefined): void {
  if (method === "reward" && scorer === undefined) {
    throw new TracefixError("reward_model_unavailable", "judge", 'judge.method is "reward" but no reward model is loaded (see GET /healthz)');
  }
}

export function registerSelectRoute(app: Hono, executor: Executor, services: SelectionServices, logger: Logger, maxBodyBytes: number): void {
  app.post("/v1/select", async (context) => {
    const request = await readRequest(context, SelectRequest, { maxBytes: maxBodyBytes, languageOf: (body) => body.problem.language });
    requireRewardModel(request.judge.method, services.scorer);
    const client = clientOf(context);
    executor.admit(request.problem.language, client);
    // Every execution and judge question of the selection listens to the request's signal.
    const signal = AbortSignal.any([context.req.raw.signal]);
    setMaxListeners(0, signal);
    const result = await selectPrograms(
      request,
      { executor: forClient(executor, client), model: services.model, prompts: services.prompts, scorer: services.scorer, logger },
      signal,
    );
    return context.json(result);
  });
}
