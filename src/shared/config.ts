/**
 * The server's configuration: one zod schema over the environment and an
 * optional JSON file (`TRACEFIX_CONFIG`, whose keys are the same variable
 * names; the environment wins), read once at start-up and passed down. A
 * bad value stops the start with one line naming the variable. Nothing
 * else reads the environment for settings.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { z } from "zod";

import { ConfigError } from "./errors.ts";

const REPOSITORY_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const text = z.string().trim().min(1).optional();
const count = (fallback: number, minimum = 1) => z.coerce.number().int().min(minimum).default(fallback);

/** The variables, as they are written (see the README's configuration table). */
const Variables = z.object({
  HOST: z.string().trim().min(1).default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65_535).default(8787),
  PYTHON: text,
  TRACEFIX_SANDBOX: z.enum(["auto", "bwrap", "rlimits"]).default("auto"),
  TRACEFIX_SANDBOX_WORKERS: z.coerce.number().int().min(1).max(1_024).optional(),
  TRACEFIX_QUEUE_PER_CLIENT: count(32),
  TRACEFIX_QUEUE_MAX: count(1_024),
  TRACEFIX_QUEUE_WAIT_MS: count(2_500, 0),
  TRACEFIX_MAX_RUNS: count(64),
  TRACEFIX_MAX_BODY_BYTES: count(4 << 20, 1_024),
  TRACEFIX_LLM_BASE_URL: z.url().optional(),
  TRACEFIX_LLM_MODEL: text,
  TRACEFIX_LLM_API_KEY: text,
  OPENAI_BASE_URL: z.url().optional(),
  OPENAI_API_KEY: text,
  TRACEFIX_REWARD_MODEL: text,
  TRACEFIX_REWARD_PROVIDER: z.enum(["auto", "cuda", "cpu"]).default("auto"),
  TRACEFIX_POLICY_MODEL: text,
  TRACEFIX_POLICY_PROVIDER: z.enum(["auto", "cuda", "cpu"]).default("auto"),
  TRACEFIX_DATA_DIR: text,
  TRACEFIX_STORE: z.enum(["sqlite", "postgres", "memory"]).optional(),
  TRACEFIX_DATABASE_URL: z
    .url()
    .refine((url) => /^postgres(ql)?:\/\//.test(url), "must be a postgres:// URL")
    .optional(),
  TRACEFIX_STATE_DIR: text,
  TRACEFIX_SERVER_ID: text,
  TRACEFIX_RETAIN_DAYS: count(30, 0),
  TRACEFIX_RETAIN_RUNS: count(100_000, 0),
  TRACEFIX_SHUTDOWN_GRACE_MS: count(10_000, 0),
  LOG_FORMAT: z.enum(["text", "json"]).default("text"),
});

export interface LlmEndpoint {
  readonly baseURL: string;
  readonly apiKey: string;
  /** The model name sent when a request names none. */
  readonly model: string;
}

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly python: string | undefined;
  readonly sandbox: {
    readonly isolation: "auto" | "bwrap" | "rlimits";
    /** Workers per language pool; undefined: one per core. */
    readonly workers: number | undefined;
    readonly admission: { readonly perClient: number; readonly queued: number; readonly maxWaitMs: number };
  };
  readonly maxRuns: number;
  readonly maxBodyBytes: number;
  /** The OpenAI-compatible endpoint, when one is configured. */
  readonly llm: LlmEndpoint | undefined;
  readonly reward: { readonly directory: string | undefined; readonly provider: "auto" | "cuda" | "cpu" };
  /** The repair search's policy model (models/policy by default); the hand order when it cannot be loaded. */
  readonly policyModel: { readonly directory: string | undefined; readonly provider: "auto" | "cuda" | "cpu" };
  /** HumanEval/QuixBugs/MBPP JSONL (tests, benchmarks, training data). */
  readonly dataDirectory: string;
  readonly store: StoreConfig;
  /** SIGTERM: how long running runs get to finish before they are cancelled. */
  readonly shutdownGraceMs: number;
  readonly logFormat: "text" | "json";
}

export type StoreConfig =
  | ({ readonly kind: "sqlite"; readonly file: string } & StoreCommon)
  | ({ readonly kind: "postgres"; readonly url: string; readonly serverId: string } & StoreCommon)
  | ({ readonly kind: "memory" } & StoreCommon);

interface StoreCommon {
  /** Finished runs older than this, or beyond the newest maxRuns, are deleted (0: no bound). */
  readonly retention: { readonly maxAgeMs: number | undefined; readonly maxRuns: number | undefined };
}

/**
 * PostgreSQL when a database URL is set (or asked for), else SQLite in the
 * state directory (./.tracefix by default), or memory when asked. A
 * server's id must survive its restarts (its runs left running are its
 * orphans): by default host name and port.
 */
function storeOf(variables: z.infer<typeof Variables>): StoreConfig {
  const retention = {
    maxAgeMs: variables.TRACEFIX_RETAIN_DAYS === 0 ? undefined : variables.TRACEFIX_RETAIN_DAYS * 86_400_000,
    maxRuns: variables.TRACEFIX_RETAIN_RUNS === 0 ? undefined : variables.TRACEFIX_RETAIN_RUNS,
  };
  const kind = variables.TRACEFIX_STORE ?? (variables.TRACEFIX_DATABASE_URL === undefined ? "sqlite" : "postgres");
  if (kind === "postgres") {
    if (variables.TRACEFIX_DATABASE_URL === undefined) throw new ConfigError("TRACEFIX_DATABASE_URL", "TRACEFIX_STORE=postgres needs TRACEFIX_DATABASE_URL (postgres://…)");
    const serverId = variables.TRACEFIX_SERVER_ID ?? `${hostname()}:${variables.PORT === 0 ? `pid${process.pid}` : variables.PORT}`;
    return { kind, url: variables.TRACEFIX_DATABASE_URL, serverId, retention };
  }
  if (kind === "memory") return { kind, retention };
  return { kind, file: path.resolve(variables.TRACEFIX_STATE_DIR ?? ".tracefix", "runs.sqlite"), retention };
}

/** TRACEFIX_LLM_*, with the usual OPENAI_* as fallbacks (OpenAI itself when only a key is set). */
function endpointOf(variables: z.infer<typeof Variables>): LlmEndpoint | undefined {
  const apiKey = variables.TRACEFIX_LLM_API_KEY ?? variables.OPENAI_API_KEY ?? "";
  const baseURL = variables.TRACEFIX_LLM_BASE_URL ?? variables.OPENAI_BASE_URL ?? (apiKey === "" ? undefined : "https://api.openai.com/v1");
  if (baseURL === undefined) return undefined;
  // Local servers (vLLM, Ollama, llama.cpp) take any key.
  return { baseURL, apiKey: apiKey || "not-needed", model: variables.TRACEFIX_LLM_MODEL ?? "default" };
}

function readFile(file: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as unknown;
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not a JSON object");
    return parsed as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError("TRACEFIX_CONFIG", `${file} could not be read: ${(error as Error).message}`);
  }
}

/** Empty variables count as unset (a shell's `PORT=` means "the default"). */
function setVariables(environment: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ""));
}

/** Reads and checks the configuration; throws ConfigError naming the first bad variable. */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  const file = environment["TRACEFIX_CONFIG"];
  const values = { ...(file === undefined || file === "" ? {} : readFile(file)), ...setVariables(environment) };
  const parsed = Variables.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(String(issue?.path[0] ?? "configuration"), `${issue?.message ?? "invalid"} (got ${JSON.stringify(values[String(issue?.path[0])])})`);
  }
  const variables = parsed.data;
  return {
    host: variables.HOST,
    port: variables.PORT,
    python: variables.PYTHON,
    sandbox: {
      isolation: variables.TRACEFIX_SANDBOX,
      workers: variables.TRACEFIX_SANDBOX_WORKERS,
      admission: { perClient: variables.TRACEFIX_QUEUE_PER_CLIENT, queued: variables.TRACEFIX_QUEUE_MAX, maxWaitMs: variables.TRACEFIX_QUEUE_WAIT_MS },
    },
    maxRuns: variables.TRACEFIX_MAX_RUNS,
    maxBodyBytes: variables.TRACEFIX_MAX_BODY_BYTES,
    llm: endpointOf(variables),
    reward: { directory: variables.TRACEFIX_REWARD_MODEL, provider: variables.TRACEFIX_REWARD_PROVIDER },
    policyModel: { directory: variables.TRACEFIX_POLICY_MODEL, provider: variables.TRACEFIX_POLICY_PROVIDER },
    dataDirectory: variables.TRACEFIX_DATA_DIR ?? path.resolve(REPOSITORY_ROOT, "../shared/data"),
    store: storeOf(variables),
    shutdownGraceMs: variables.TRACEFIX_SHUTDOWN_GRACE_MS,
    logFormat: variables.LOG_FORMAT,
  };
}

/** A database URL without its password. */
function withoutPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== "") parsed.password = "***";
  return parsed.toString();
}

/** The configuration as /healthz shows it: everything but secrets (a key is only "set" or not). */
export function publicConfig(config: Config): Record<string, unknown> {
  const { llm, store, ...rest } = config;
  return { ...rest, store: store.kind === "postgres" ? { ...store, url: withoutPassword(store.url) } : store, llm: llm === undefined ? null : { baseURL: llm.baseURL, model: llm.model, apiKey: llm.apiKey === "not-needed" ? "not set" : "set" } };
}
