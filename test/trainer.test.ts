/**
 * The trainer end to end: models/trainer/train.py on a slice of the shipped
 * pairs → an ONNX model and its metadata → loaded by the server's loader,
 * scoring the trainer's held-out pairs exactly as the trainer did. Needs
 * Debian's python3-torch and python3-onnx (.ci/run installs them); skipped,
 * with a warning, where they are missing.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { afterAll, describe, expect, it } from "vitest";

import { DEFAULT_REWARD_DIRECTORY, FEATURE_NAMES, FEATURE_VERSION, loadRewardModel } from "../src/judge/index.ts";
import { silentLogger } from "../src/shared/logger.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const TRAINER_PYTHON = "/usr/bin/python3";

function torchAvailable(): boolean {
  try {
    execFileSync(TRAINER_PYTHON, ["-c", "import torch, onnx"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const available = torchAvailable();
if (!available) console.warn("trainer tests skipped: /usr/bin/python3 cannot import torch and onnx (apt-get install python3-torch python3-onnx)");

describe.skipIf(!available)("the trainer", () => {
  const directory = mkdtempSync(path.join(tmpdir(), "tracefix-trainer-"));

  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it("trains on pairs, exports ONNX with metadata, and the server's loader scores its held-out pairs as it did", async () => {
    // A slice of the shipped training data: the first 60 problems' pairs.
    const lines = readFileSync(path.join(DEFAULT_REWARD_DIRECTORY, "data/pairs.jsonl"), "utf8").split("\n").filter(Boolean);
    const problems: string[] = [];
    const slice = lines.filter((line) => {
      const problem = (JSON.parse(line) as { problem_id: string }).problem_id;
      if (!problems.includes(problem)) problems.push(problem);
      return problems.indexOf(problem) < 60;
    });
    const data = path.join(directory, "data");
    execFileSync("mkdir", ["-p", data]);
    writeFileSync(path.join(data, "pairs.jsonl"), `${slice.join("\n")}\n`);
    writeFileSync(path.join(data, "features.json"), JSON.stringify({ version: FEATURE_VERSION, names: FEATURE_NAMES }));

    const { stdout } = await promisify(execFile)(
      TRAINER_PYTHON,
      [path.join(ROOT, "models/trainer/train.py"), "--pairs", path.join(data, "pairs.jsonl"), "--out", directory, "--epochs", "150", "--device", "cpu"],
      { cwd: ROOT },
    );
    const summary = JSON.parse(stdout.trim().split("\n").at(-1) as string) as { heldout_accuracy: number };
    expect(summary.heldout_accuracy).toBeGreaterThan(0.8);

    const metadata = JSON.parse(readFileSync(path.join(directory, "metadata.json"), "utf8")) as {
      feature_names: string[];
      data: { problems: { train: number; heldout: number }; heldout_problems: string[] };
      accuracy: { heldout: number };
    };
    expect(metadata.feature_names).toEqual([...FEATURE_NAMES]);
    expect(metadata.data.problems).toEqual({ train: 48, heldout: 12 });

    const model = await loadRewardModel({ directory, provider: "cpu", logger: silentLogger });
    const heldOut = readFileSync(path.join(directory, "heldout.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { chosen: number[]; rejected: number[]; chosen_score: number; rejected_score: number; problem_id: string });
    // Held-out pairs come only from the problems set apart, which had no training pair.
    const heldOutProblems = new Set(metadata.data.heldout_problems);
    expect(heldOutProblems.size).toBe(12);
    expect(heldOut.every((pair) => heldOutProblems.has(pair.problem_id))).toBe(true);
    expect(new Set(heldOut.map((pair) => pair.problem_id)).size).toBe(12);
    const rows = heldOut.flatMap((pair) => [pair.chosen, pair.rejected]);
    const served = await model.scoreFeatures(Float32Array.from(rows.flat()), rows.length);
    let right = 0;
    heldOut.forEach((pair, index) => {
      expect(served[2 * index]).toBeCloseTo(pair.chosen_score, 3);
      expect(served[2 * index + 1]).toBeCloseTo(pair.rejected_score, 3);
      if ((served[2 * index] as number) > (served[2 * index + 1] as number)) right += 1;
    });
    expect(right / heldOut.length).toBeCloseTo(metadata.accuracy.heldout, 3);
  }, 120_000);
});
