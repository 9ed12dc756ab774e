/**
 * The reward model served with onnxruntime-node: models/reward/reward.onnx
 * and its metadata.json (the features it was trained on). Loaded once at
 * start-up:
 *
 * - the metadata's feature names, order and version must be exactly those of
 *   features.ts, else the model is refused (RewardModelError);
 * - CUDA when asked for (or on "auto") and installed, else the CPU
 *   (shared/onnx.ts); `status.provider` says which one runs.
 *
 * The network is tiny (16-32-16-1): scoring 16 candidates takes tens of
 * microseconds, so `session.run` does not hold the event loop noticeably.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { TracefixError, type ErrorCode } from "../../shared/errors.ts";
import type { Logger } from "../../shared/logger.ts";
import { featureMismatch, openOnnxSession, runOnnx, tensorMismatch, type InferenceSession } from "../../shared/onnx.ts";
import type { CandidateScorer, ScoringCandidate } from "../scorer.ts";
import { extractFeatures, FEATURE_COUNT, FEATURE_NAMES, FEATURE_VERSION } from "./features.ts";

export const DEFAULT_REWARD_DIRECTORY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../models/reward");

export class RewardModelError extends TracefixError {
  constructor(code: ErrorCode, message: string, cause?: unknown) {
    super(code, "judge", message, { cause });
  }
}

export interface RewardMetadata {
  readonly model: string;
  readonly feature_version: string;
  readonly feature_names: readonly string[];
  readonly input: { readonly name: string };
  readonly output: { readonly name: string };
  readonly accuracy?: { readonly heldout?: number };
}

export interface RewardModelStatus {
  readonly loaded: boolean;
  readonly directory: string;
  readonly provider?: "cuda" | "cpu";
  readonly feature_version?: string;
  readonly heldout_accuracy?: number;
  /** Why there is no reward model, when there is none. */
  readonly reason?: string;
}

export class RewardModel implements CandidateScorer {
  readonly description: string;

  constructor(
    private readonly session: InferenceSession,
    readonly metadata: RewardMetadata,
    readonly provider: "cuda" | "cpu",
    readonly directory: string,
  ) {
    this.description = `ONNX reward model ${path.join(directory, metadata.model)} (${provider})`;
  }

  /** Rewards for a batch of feature vectors (rows of FEATURE_COUNT floats). */
  scoreFeatures(matrix: Float32Array, rows: number): Promise<Float32Array> {
    return runOnnx(this.session, { input: this.metadata.input.name, output: this.metadata.output.name }, matrix, rows, FEATURE_COUNT);
  }

  async score(candidates: readonly ScoringCandidate[]): Promise<number[]> {
    const matrix = new Float32Array(candidates.length * FEATURE_COUNT);
    candidates.forEach((candidate, row) => matrix.set(extractFeatures(candidate.code, candidate.report, candidate.agreement), row * FEATURE_COUNT));
    return Array.from(await this.scoreFeatures(matrix, candidates.length));
  }

  get status(): RewardModelStatus {
    return {
      loaded: true,
      directory: this.directory,
      provider: this.provider,
      feature_version: this.metadata.feature_version,
      ...(this.metadata.accuracy?.heldout === undefined ? {} : { heldout_accuracy: this.metadata.accuracy.heldout }),
    };
  }
}

export interface LoadRewardOptions {
  readonly directory?: string | undefined;
  /** "auto" tries CUDA, then the CPU. */
  readonly provider?: "auto" | "cuda" | "cpu" | undefined;
  readonly logger: Logger;
}

function readMetadata(directory: string): RewardMetadata {
  let metadata: RewardMetadata;
  try {
    metadata = JSON.parse(readFileSync(path.join(directory, "metadata.json"), "utf8")) as RewardMetadata;
  } catch (error) {
    throw new RewardModelError("reward_model_missing", `no reward model metadata in ${directory} (metadata.json): ${(error as Error).message}`, error);
  }
  const mismatch = featureMismatch(metadata, { version: FEATURE_VERSION, names: FEATURE_NAMES });
  if (mismatch !== undefined) {
    const retrain = mismatch.startsWith("was trained") ? ": retrain it (npm run reward:data && npm run reward:train)" : "";
    throw new RewardModelError("reward_model_mismatch", `the reward model in ${directory} ${mismatch}${retrain}`);
  }
  return metadata;
}

/** Loads and checks the reward model; throws RewardModelError with a clear message when it cannot be used. */
export async function loadRewardModel(options: LoadRewardOptions): Promise<RewardModel> {
  const directory = options.directory ?? DEFAULT_REWARD_DIRECTORY;
  const metadata = readMetadata(directory);
  const file = path.join(directory, metadata.model);
  let opened;
  try {
    opened = await openOnnxSession(file, { provider: options.provider, logger: options.logger, label: "reward model" });
  } catch (error) {
    throw new RewardModelError("reward_model_unreadable", `the reward model ${file} could not be loaded: ${String(error)}`, error);
  }
  const { session, provider: used } = opened;
  const tensors = tensorMismatch(session, { input: metadata.input.name, output: metadata.output.name });
  if (tensors !== undefined) throw new RewardModelError("reward_model_mismatch", `the reward model ${file} ${tensors}`);
  return new RewardModel(session, metadata, used, directory);
}
