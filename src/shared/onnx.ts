/**
 * One way to open an ONNX model with onnxruntime-node, for the reward model
 * and the policy model alike: the CUDA execution provider is tried when
 * asked for (or on "auto"); when its libraries are not installed the model
 * runs on the CPU and one log line says so (onnxruntime's own multi-line
 * error output is silenced: every failure reaches us as an exception).
 */
import * as ort from "onnxruntime-node";

import type { Logger } from "./logger.ts";

export type OnnxProvider = "cuda" | "cpu";

export interface OpenOnnxOptions {
  /** "auto" tries CUDA, then the CPU. */
  readonly provider?: "auto" | OnnxProvider | undefined;
  readonly logger: Logger;
  /** Names the model in the log line ("reward model", "policy model"). */
  readonly label: string;
}

/** The session and the provider it runs on; throws what onnxruntime throws when even the CPU cannot load it. */
export async function openOnnxSession(file: string, options: OpenOnnxOptions): Promise<{ session: ort.InferenceSession; provider: OnnxProvider }> {
  // The level applies when onnxruntime's environment starts, at the first session.
  ort.env.logLevel = "fatal";
  if ((options.provider ?? "auto") !== "cpu") {
    try {
      return { session: await ort.InferenceSession.create(file, { executionProviders: ["cuda"], logSeverityLevel: 4 }), provider: "cuda" };
    } catch (error) {
      options.logger.warn(`${options.label}: the CUDA execution provider is not available (${String(error).split("\n")[0]}); running on the CPU`);
    }
  }
  return { session: await ort.InferenceSession.create(file, { executionProviders: ["cpu"] }), provider: "cpu" };
}

/** A float32 batch through a one-input, one-output session. */
export async function runOnnx(session: ort.InferenceSession, names: { input: string; output: string }, matrix: Float32Array, rows: number, columns: number): Promise<Float32Array> {
  if (rows === 0) return new Float32Array();
  const output = await session.run({ [names.input]: new ort.Tensor("float32", matrix, [rows, columns]) });
  return output[names.output]?.data as Float32Array;
}

export type { InferenceSession } from "onnxruntime-node";

/** Why a model's metadata does not fit the features this server computes (one rule for every model); undefined when it fits. */
export function featureMismatch(metadata: { readonly feature_version?: unknown; readonly feature_names?: unknown }, expected: { readonly version: string; readonly names: readonly string[] }): string | undefined {
  if (metadata.feature_version !== expected.version) {
    return `was trained on features ${JSON.stringify(metadata.feature_version)}; this server computes ${JSON.stringify(expected.version)}`;
  }
  const names: readonly unknown[] = Array.isArray(metadata.feature_names) ? metadata.feature_names : [];
  if (names.length !== expected.names.length || names.some((name, index) => name !== expected.names[index])) {
    return `expects the features [${names.join(", ")}]; this server computes [${expected.names.join(", ")}]`;
  }
  return undefined;
}

/** Why a session lacks the named input or output; undefined when it has both. */
export function tensorMismatch(session: ort.InferenceSession, names: { readonly input: string; readonly output: string }): string | undefined {
  if (session.inputNames.includes(names.input) && session.outputNames.includes(names.output)) return undefined;
  return `has inputs [${session.inputNames.join(", ")}] and outputs [${session.outputNames.join(", ")}], not ${names.input} → ${names.output}`;
}
