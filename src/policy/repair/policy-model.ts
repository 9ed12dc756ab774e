/**
 * The learned order of the repair search: models/policy/policy.onnx and its
 * metadata.json, trained by models/trainer/train_policy.py on groups of
 * candidate edits of dataset mutants (npm run policy:data && npm run
 * policy:train; models/policy/CARD.md). It scores each candidate edit from
 * POLICY_FEATURE_NAMES (features.ts); the search tries them highest first.
 * Loaded once at start-up:
 *
 * - the metadata's feature names, order and version must be exactly those of
 *   features.ts, else the model is refused (PolicyModelError,
 *   `policy_model_mismatch`); the server then uses the hand order;
 * - CUDA when asked for (or on "auto") and installed, else the CPU
 *   (shared/onnx.ts, which says so once); `status.provider` says which.
 *
 * Measured here (2 cores, onnxruntime-node 1.30, CPU): `session.run` itself
 * does not hold the event loop — the network runs on onnxruntime's own
 * threads and the call returns at once (a 50,000-row batch: 72 ms of
 * inference, the loop never held longer than 0.16 ms). What is synchronous
 * is computing the features (featureMatrix: ~3 µs per edit, 8.6 ms for 3,000
 * edits). So edits are featurised and scored CHUNK_ROWS at a time, with the
 * event loop let through between chunks: a round's few hundred edits are
 * one chunk; a huge batch holds the loop ~3 ms at a time, not its whole length.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { TracefixError, type ErrorCode } from "../../shared/errors.ts";
import type { Logger } from "../../shared/logger.ts";
import type { Language } from "../../shared/schema/execution.ts";
import { LANGUAGES } from "../../shared/schema/names.ts";
import { featureMismatch, openOnnxSession, runOnnx, tensorMismatch, type InferenceSession, type OnnxProvider } from "../../shared/onnx.ts";
import { featureMatrix, POLICY_FEATURE_COUNT, POLICY_FEATURE_NAMES, POLICY_FEATURE_VERSION } from "./features.ts";
import type { EditOrder, RankedEdit } from "./order.ts";

export const DEFAULT_POLICY_DIRECTORY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../models/policy");
export const POLICY_MODEL_REBUILD = "npm run policy:data && npm run policy:train";

/** Edits featurised and scored at a time (~3 ms of features each): the event loop runs between chunks. */
export const CHUNK_ROWS = 1_024;

export class PolicyModelError extends TracefixError {
  constructor(code: ErrorCode, message: string, cause?: unknown) {
    super(code, "policy", message, { cause });
  }
}

interface RankFigures {
  readonly groups?: number;
  readonly mean_rank?: number;
  readonly median_rank?: number;
  readonly top_10?: number;
  readonly top_50?: number;
  readonly top_200?: number;
}

export interface PolicyModelMetadata {
  readonly model: string;
  readonly feature_version: string;
  readonly feature_names: readonly string[];
  readonly input: { readonly name: string };
  readonly output: { readonly name: string };
  readonly rank_of_fix?: { readonly heldout?: { readonly learned?: RankFigures; readonly hand?: RankFigures } };
  /** The languages of the programs its data were edits of; absent: every language. */
  readonly languages?: readonly Language[];
}

/** What /healthz says of the repair search's order. */
export interface PolicyModelStatus {
  readonly loaded: boolean;
  /** The order the repair policy uses: the model's, or the hand order without one. */
  readonly order: string;
  readonly directory: string;
  readonly provider?: OnnxProvider;
  readonly feature_version?: string;
  /** The languages it orders edits of; the others get the hand order. */
  readonly languages?: readonly Language[];
  /** Median rank of the fix on held-out problems, learned vs hand order (from the metadata). */
  readonly heldout_median_rank?: { readonly learned: number | undefined; readonly hand: number | undefined };
  /** Why there is no policy model, when there is none. */
  readonly reason?: string;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class PolicyModel implements EditOrder {
  readonly name = "policy model";
  readonly description: string;
  readonly languages: readonly Language[] | undefined;

  constructor(
    private readonly session: InferenceSession,
    readonly metadata: PolicyModelMetadata,
    readonly provider: OnnxProvider,
    readonly directory: string,
  ) {
    this.description = `ONNX policy model ${path.join(directory, metadata.model)} (${provider})`;
    this.languages = metadata.languages;
  }

  /** Scores for rows of POLICY_FEATURE_COUNT floats, CHUNK_ROWS at a time, the event loop let through between chunks. */
  async scoreFeatures(matrix: Float32Array, rows: number): Promise<Float32Array> {
    const scores = new Float32Array(rows);
    for (let start = 0; start < rows; start += CHUNK_ROWS) {
      if (start > 0) await yieldToEventLoop();
      const end = Math.min(rows, start + CHUNK_ROWS);
      scores.set(await this.run(matrix.subarray(start * POLICY_FEATURE_COUNT, end * POLICY_FEATURE_COUNT), end - start), start);
    }
    return scores;
  }

  /** The edits' scores, in their order: features and `session.run` a chunk at a time. */
  async score(edits: readonly RankedEdit[]): Promise<readonly number[]> {
    const scores: number[] = [];
    for (let start = 0; start < edits.length; start += CHUNK_ROWS) {
      if (start > 0) await yieldToEventLoop();
      const chunk = edits.slice(start, start + CHUNK_ROWS);
      for (const score of await this.run(featureMatrix(chunk), chunk.length)) scores.push(score);
    }
    return scores;
  }

  private run(matrix: Float32Array, rows: number): Promise<Float32Array> {
    return runOnnx(this.session, { input: this.metadata.input.name, output: this.metadata.output.name }, matrix, rows, POLICY_FEATURE_COUNT);
  }

  get status(): PolicyModelStatus {
    const heldout = this.metadata.rank_of_fix?.heldout;
    return {
      loaded: true,
      order: this.name,
      directory: this.directory,
      provider: this.provider,
      feature_version: this.metadata.feature_version,
      ...(this.languages === undefined ? {} : { languages: this.languages }),
      ...(heldout === undefined ? {} : { heldout_median_rank: { learned: heldout.learned?.median_rank, hand: heldout.hand?.median_rank } }),
    };
  }
}

export interface LoadPolicyModelOptions {
  readonly directory?: string | undefined;
  /** "auto" tries CUDA, then the CPU. */
  readonly provider?: "auto" | OnnxProvider | undefined;
  readonly logger: Logger;
}

function readMetadata(directory: string): PolicyModelMetadata {
  let metadata: PolicyModelMetadata;
  try {
    metadata = JSON.parse(readFileSync(path.join(directory, "metadata.json"), "utf8")) as PolicyModelMetadata;
  } catch (error) {
    throw new PolicyModelError(
      "policy_model_missing",
      `no policy model metadata in ${directory} (metadata.json): ${(error as Error).message}; build one with ${POLICY_MODEL_REBUILD}`,
      error,
    );
  }
  const mismatch = featureMismatch(metadata, { version: POLICY_FEATURE_VERSION, names: POLICY_FEATURE_NAMES });
  if (mismatch !== undefined) throw new PolicyModelError("policy_model_mismatch", `the policy model in ${directory} ${mismatch}: retrain it (${POLICY_MODEL_REBUILD})`);
  if (typeof metadata.model !== "string" || typeof metadata.input?.name !== "string" || typeof metadata.output?.name !== "string") {
    throw new PolicyModelError("policy_model_mismatch", `the policy model metadata in ${directory} does not name its model file, input and output`);
  }
  const languages: unknown = metadata.languages;
  if (languages !== undefined && !(Array.isArray(languages) && languages.length > 0 && languages.every((language) => (LANGUAGES as readonly unknown[]).includes(language)))) {
    throw new PolicyModelError("policy_model_mismatch", `the policy model metadata in ${directory} names languages ${JSON.stringify(languages)}: a non-empty list of ${LANGUAGES.join(", ")}`);
  }
  return metadata;
}

/** Loads and checks the policy model; throws PolicyModelError with a clear message when it cannot be used. */
export async function loadPolicyModel(options: LoadPolicyModelOptions): Promise<PolicyModel> {
  const directory = options.directory ?? DEFAULT_POLICY_DIRECTORY;
  const metadata = readMetadata(directory);
  const file = path.join(directory, metadata.model);
  let opened;
  try {
    opened = await openOnnxSession(file, { provider: options.provider, logger: options.logger, label: "policy model" });
  } catch (error) {
    throw new PolicyModelError("policy_model_unreadable", `the policy model ${file} could not be loaded: ${String(error)}`, error);
  }
  const { session, provider } = opened;
  const tensors = tensorMismatch(session, { input: metadata.input.name, output: metadata.output.name });
  if (tensors !== undefined) throw new PolicyModelError("policy_model_mismatch", `the policy model ${file} ${tensors}`);
  return new PolicyModel(session, metadata, provider, directory);
}
