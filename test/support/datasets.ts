/**
 * The shared benchmark data in tests. Missing data fails the suite with a
 * message saying where it was looked for; TRACEFIX_SKIP_DATASETS=1 skips the
 * dataset checks on purpose (a machine without ../shared/data).
 */
import { dataDirectory, datasetAvailable } from "../../src/datasets/index.ts";

export const SKIP_DATASETS = process.env["TRACEFIX_SKIP_DATASETS"] === "1";

/** Throws (failing the suite that needs it) when a dataset is missing, unless skipping was asked for. */
export function requireDatasets(...names: ("humaneval" | "quixbugs")[]): void {
  const missing = names.filter((name) => !datasetAvailable(name));
  if (missing.length > 0) {
    throw new Error(`${missing.join(", ")} not found in ${dataDirectory()}: set TRACEFIX_DATA_DIR, or TRACEFIX_SKIP_DATASETS=1 to skip the dataset checks`);
  }
}
