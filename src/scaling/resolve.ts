/**
 * From a request to a run: which policy proposes (`policy: auto` is the
 * model when one is configured, else the edit search; `mixed` is the edit
 * search and the model in stages) and how many chains (`n` defaults by
 * policy). Refusals are said before the run starts.
 */
import { MixedPolicy, type Policy } from "../policy/index.ts";
import { TracefixError } from "../shared/errors.ts";
import type { RunPolicyName } from "../shared/schema/names.ts";
import { DEFAULT_CHAINS, type SolveRequest } from "../shared/schema/solve.ts";

/** A request as a run reads it: its policy chosen, its chain count settled. */
export type RunRequest = Omit<SolveRequest, "n" | "policy"> & { readonly n: number; readonly policy: RunPolicyName };

/** The policies this server has: the model's when one is configured; the edit search always (tests may leave it out). */
export interface Policies {
  readonly llm?: Policy | undefined;
  readonly repair?: Policy | undefined;
}

const MODEL_SETTINGS = "TRACEFIX_LLM_BASE_URL (and TRACEFIX_LLM_MODEL, TRACEFIX_LLM_API_KEY) or OPENAI_API_KEY";

function chosenName(request: SolveRequest, policies: Policies): RunPolicyName {
  if (request.policy !== "auto") return request.policy;
  return policies.llm !== undefined ? "llm" : "repair";
}

/** The request with its policy and `n` settled. */
export function runRequestOf(request: SolveRequest, policy: RunPolicyName): RunRequest {
  return { ...request, policy, n: request.n ?? DEFAULT_CHAINS[policy] };
}

/**
 * The run's policy and request, or why none can run it (503 no model, 422
 * nothing to repair). Strategy agent needs the model and its tool agent
 * (`agent`: whether this server has one).
 */
export function resolveRun(request: SolveRequest, policies: Policies, agent = false): { request: RunRequest; policy: Policy } {
  if (request.strategy === "agent" && (policies.llm === undefined || !agent)) {
    throw new TracefixError("model_not_configured", "policy", `strategy "agent" needs a language model that calls tools: set ${MODEL_SETTINGS}`);
  }
  const name = chosenName(request, policies);
  if (name === "llm") {
    if (policies.llm === undefined) throw new TracefixError("model_not_configured", "policy", `policy "llm" needs a language model: set ${MODEL_SETTINGS}`);
    return { request: runRequestOf(request, name), policy: policies.llm };
  }
  if (name === "mixed" && policies.llm === undefined) {
    throw new TracefixError("model_not_configured", "policy", `policy "mixed" revises with a language model after the edit search: set ${MODEL_SETTINGS}, or use policy "repair"`);
  }
  if (request.problem.code === undefined) {
    throw new TracefixError(
      "model_required",
      "policy",
      request.policy === "repair" || request.policy === "mixed"
        ? `policy "${request.policy}" edits a program: give problem.code (the program to repair)`
        : `no language model is configured, and the built-in repair search needs a program: give problem.code, or set ${MODEL_SETTINGS}`,
      { details: { field: "problem.code" } },
    );
  }
  if (policies.repair === undefined) throw new TracefixError("model_not_configured", "policy", "this server has no repair policy");
  const policy = name === "mixed" && policies.llm !== undefined ? new MixedPolicy(policies.repair, policies.llm) : policies.repair;
  return { request: runRequestOf(request, name), policy };
}
