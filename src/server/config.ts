/** Server configuration from the environment (DESIGN.md, "HTTP API"). */
export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  readonly python: string | undefined;
  readonly sandbox: "auto" | "bwrap" | "rlimits";
  readonly workers: number | undefined;
  readonly rewardModel: string | undefined;
  readonly rewardProvider: "auto" | "cuda" | "cpu";
  readonly admission: { readonly perClient: number; readonly queued: number; readonly maxWaitMs: number };
  readonly maxRuns: number;
}

function integer(name: string, value: string | undefined, fallback: number | undefined): number | undefined {
  if (value === undefined || value === "") return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return parsed;
}

export function configFromEnvironment(environment: NodeJS.ProcessEnv = process.env): ServerConfig {
  const sandbox = environment["TRACEFIX_SANDBOX"] ?? "auto";
  if (sandbox !== "auto" && sandbox !== "bwrap" && sandbox !== "rlimits") {
    throw new Error(`TRACEFIX_SANDBOX must be auto, bwrap or rlimits, got ${JSON.stringify(sandbox)}`);
  }
  const rewardProvider = environment["TRACEFIX_REWARD_PROVIDER"] ?? "auto";
  if (rewardProvider !== "auto" && rewardProvider !== "cuda" && rewardProvider !== "cpu") {
    throw new Error(`TRACEFIX_REWARD_PROVIDER must be auto, cuda or cpu, got ${JSON.stringify(rewardProvider)}`);
  }
  return {
    rewardModel: environment["TRACEFIX_REWARD_MODEL"] || undefined,
    rewardProvider,
    host: environment["HOST"] || "127.0.0.1",
    port: integer("PORT", environment["PORT"], 8787) ?? 8787,
    python: environment["PYTHON"] || undefined,
    sandbox,
    workers: integer("TRACEFIX_SANDBOX_WORKERS", environment["TRACEFIX_SANDBOX_WORKERS"], undefined),
    admission: {
      perClient: integer("TRACEFIX_QUEUE_PER_CLIENT", environment["TRACEFIX_QUEUE_PER_CLIENT"], 32) ?? 32,
      queued: integer("TRACEFIX_QUEUE_MAX", environment["TRACEFIX_QUEUE_MAX"], 1_024) ?? 1_024,
      maxWaitMs: integer("TRACEFIX_QUEUE_WAIT_MS", environment["TRACEFIX_QUEUE_WAIT_MS"], 2_500) ?? 2_500,
    },
    maxRuns: integer("TRACEFIX_MAX_RUNS", environment["TRACEFIX_MAX_RUNS"], 64) ?? 64,
  };
}
