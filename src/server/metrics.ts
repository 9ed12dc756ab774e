/**
 * GET /metrics: Prometheus' text format (prom-client). Nothing here is a
 * second code path: the sandbox, the language model, the reward model and
 * the repair search's order are measured by wrapping the interfaces the rest
 * of the server already goes through, and runs by observing the events they
 * publish. Metric names are listed in the README.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

import type { CandidateScorer } from "../judge/index.ts";
import { usageOfFailure, type EditOrder, type LanguageModel, type ToolAgent } from "../policy/index.ts";
import type { Executor, ExecutorHealth, WorkerCounts } from "../sandbox/index.ts";
import { OverloadedError } from "../shared/errors.ts";
import type { RunEvent } from "../shared/schema/events.ts";

/** Sandbox jobs take from ~3 ms (a trivial warm run) to the 30 s limit. */
const EXECUTION_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const MODEL_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const ONNX_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** What the gauges read when scraped. */
export interface MetricsSources {
  readonly executor: Executor;
  readonly liveRuns: () => number;
}

function seconds(startedMs: number): number {
  return (performance.now() - startedMs) / 1000;
}

/** Worker counts per language: the router's pools, else the one pool's. */
function workersByLanguage(health: ExecutorHealth): [string, WorkerCounts][] {
  const pools = Object.entries(health.pools ?? {}).flatMap(([language, pool]) => {
    const workers = (pool as { workers?: WorkerCounts }).workers;
    return workers === undefined ? [] : [[language, workers] as [string, WorkerCounts]];
  });
  return pools.length > 0 ? pools : health.languages.map((language) => [language, health.workers]);
}

export class Metrics {
  readonly registry = new Registry();
  private readonly runsTotal = this.counter("tracefix_runs_total", "runs ended, by status (solved, unsolved, failed), strategy and policy", ["status", "strategy", "policy"]);
  private readonly roundsTotal = this.counter("tracefix_rounds_total", "revision rounds completed, by strategy and policy", ["strategy", "policy"]);
  private readonly candidatesTotal = this.counter("tracefix_candidates_total", "candidate programs proposed, by source (llm, edit, given)", ["source"]);
  private readonly executionsTotal = this.counter("tracefix_sandbox_executions_total", "sandbox jobs, by language and report status (cancelled: its caller stopped waiting)", ["language", "status"]);
  private readonly executionSeconds = new Histogram({
    name: "tracefix_sandbox_execution_seconds",
    help: "sandbox job latency as the caller sees it (queueing included), by language",
    labelNames: ["language"],
    buckets: EXECUTION_BUCKETS,
    registers: [this.registry],
  });
  private readonly rejectionsTotal = this.counter("tracefix_rejections_total", "requests refused with 429/503 and Retry-After, by error code", ["code"]);
  private readonly toolCallsTotal = this.counter("tracefix_agent_tool_calls_total", "tool calls of strategy agent's agents, by tool and status", ["tool", "status"]);
  private readonly llmCallsTotal = this.counter("tracefix_llm_calls_total", "requests sent to the language model endpoint (retries included), by outcome", ["outcome"]);
  private readonly llmTokensTotal = this.counter("tracefix_llm_tokens_total", "tokens the language model endpoint reported, by kind (prompt, completion)", ["kind"]);
  private readonly llmSeconds = new Histogram({
    name: "tracefix_llm_request_seconds",
    help: "latency of one generation (all its completions and retries), by outcome",
    labelNames: ["outcome"],
    buckets: MODEL_BUCKETS,
    registers: [this.registry],
  });
  private readonly onnxSeconds = new Histogram({
    name: "tracefix_model_inference_seconds",
    help: "latency of one scoring call of a local ONNX model, by model (reward, policy)",
    labelNames: ["model"],
    buckets: ONNX_BUCKETS,
    registers: [this.registry],
  });
  /** strategy and policy of each live run, from its run.started (events after it carry neither). */
  private readonly runLabels = new Map<string, { strategy: string; policy: string }>();

  constructor() {
    // Event-loop lag, heap, GC, CPU: prom-client's process and Node.js metrics.
    collectDefaultMetrics({ register: this.registry });
  }

  private counter<Label extends string>(name: string, help: string, labelNames: Label[]): Counter<Label> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  /** The gauges that read the server's state when scraped. */
  watch(sources: MetricsSources): void {
    const perLanguage = (name: string, help: string, read: (workers: WorkerCounts) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ["language"],
        registers: [this.registry],
        collect() {
          for (const [language, workers] of workersByLanguage(sources.executor.health())) this.set({ language }, read(workers));
        },
      });
    };
    perLanguage("tracefix_sandbox_queue_depth", "sandbox jobs waiting for a worker, by language", (workers) => workers.queued);
    perLanguage("tracefix_sandbox_workers_busy", "sandbox workers running a job, by language", (workers) => workers.busy);
    new Gauge({
      name: "tracefix_runs_running",
      help: "runs going now",
      registers: [this.registry],
      collect() {
        this.set(sources.liveRuns());
      },
    });
  }

  /** Every event a run publishes (RunManager's onEvent). */
  observeRunEvent(event: RunEvent): void {
    if (event.type === "run.started") {
      this.runLabels.set(event.run_id, { strategy: event.strategy, policy: event.policy });
      return;
    }
    const labels = this.runLabels.get(event.run_id) ?? { strategy: "unknown", policy: "unknown" };
    if (event.type === "round.completed") this.roundsTotal.inc(labels);
    else if (event.type === "candidate.generated") this.candidatesTotal.inc({ source: event.source });
    else if (event.type === "tool.completed") this.toolCallsTotal.inc({ tool: event.tool, status: event.status });
    else if (event.type === "run.completed" || event.type === "run.failed") {
      this.runsTotal.inc({ ...labels, status: event.type === "run.failed" ? "failed" : event.status });
      this.runLabels.delete(event.run_id);
    }
  }

  /** A refusal at the HTTP edge (the one place errors become statuses). */
  observeError(error: unknown): void {
    if (error instanceof OverloadedError) this.rejectionsTotal.inc({ code: error.code });
  }

  /** The same executor, its jobs counted and timed. */
  meterExecutor(executor: Executor): Executor {
    return {
      languages: executor.languages,
      execute: async (job, options) => {
        const started = performance.now();
        let status = "cancelled"; // execute rejects only when its caller aborted
        try {
          const report = await executor.execute(job, options);
          status = report.status;
          return report;
        } finally {
          this.executionSeconds.observe({ language: job.language }, seconds(started));
          this.executionsTotal.inc({ language: job.language, status });
        }
      },
      admit: (language, client) => executor.admit(language, client),
      checkSyntax: (language, code, options) => executor.checkSyntax(language, code, options),
      edits: (language, request, options) => executor.edits(language, request, options),
      health: () => executor.health(),
      close: () => executor.close(),
    };
  }

  /** The same model, its calls, tokens and latency counted. */
  meterModel(model: LanguageModel): LanguageModel {
    return {
      description: model.description,
      generate: async (request) => {
        const started = performance.now();
        try {
          const result = await model.generate(request);
          this.llmSeconds.observe({ outcome: "ok" }, seconds(started));
          this.llmCallsTotal.inc({ outcome: "ok" }, result.usage.calls);
          this.llmTokensTotal.inc({ kind: "prompt" }, result.usage.promptTokens);
          this.llmTokensTotal.inc({ kind: "completion" }, result.usage.completionTokens);
          return result;
        } catch (error) {
          this.llmSeconds.observe({ outcome: "error" }, seconds(started));
          this.llmCallsTotal.inc({ outcome: "error" }, usageOfFailure(error).calls);
          throw error;
        }
      },
    };
  }

  /** The agent strategy's tool agent, the model requests of each agent counted (an agent's session is not one request: not timed). */
  meterAgent(agent: ToolAgent): ToolAgent {
    return {
      description: agent.description,
      run: async (request) => {
        try {
          const outcome = await agent.run(request);
          this.llmCallsTotal.inc({ outcome: "ok" }, outcome.usage.calls);
          this.llmTokensTotal.inc({ kind: "prompt" }, outcome.usage.promptTokens);
          this.llmTokensTotal.inc({ kind: "completion" }, outcome.usage.completionTokens);
          return outcome;
        } catch (error) {
          this.llmCallsTotal.inc({ outcome: "error" }, usageOfFailure(error).calls);
          throw error;
        }
      },
    };
  }

  /** The reward model, its scoring calls timed. */
  meterScorer(scorer: CandidateScorer): CandidateScorer {
    return {
      description: scorer.description,
      score: (candidates, signal) => this.timeInference("reward", () => scorer.score(candidates, signal)),
    };
  }

  /** The repair search's policy model, its scoring calls timed. */
  meterOrder(order: EditOrder): EditOrder {
    return { name: order.name, score: (edits) => this.timeInference("policy", () => order.score(edits)) };
  }

  private async timeInference<T>(model: "reward" | "policy", score: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await score();
    } finally {
      this.onnxSeconds.observe({ model }, seconds(started));
    }
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
