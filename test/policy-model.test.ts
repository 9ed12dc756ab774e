/**
 * The repair search's policy model: the shipped ONNX model loads and scores
 * a batch of candidate edits, scores the trainer's held-out groups exactly
 * as the trainer did (and so ranks their fixes the same), is refused with a
 * clear error when its metadata names other features, and the server then
 * falls back to the hand order (one log line, /healthz says so); with the
 * shipped model the server's repair search uses it.
 */
import { execFile, execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { rankOfFix } from "../src/cli/policy-groups.ts";
import {
  CHUNK_ROWS,
  DEFAULT_POLICY_DIRECTORY,
  HAND_ORDER,
  loadPolicyModel,
  POLICY_FEATURE_COUNT,
  POLICY_FEATURE_NAMES,
  POLICY_FEATURE_VERSION,
  PolicyModel,
  PolicyModelError,
  RepairPolicy,
  type RankedEdit,
} from "../src/policy/index.ts";
import type { EditOperator } from "../src/shared/schema/edits.ts";
import { silentLogger } from "../src/shared/logger.ts";
import { startServerProcess, stopServerProcess, type StartedServer } from "./support/server-process.ts";

const ROOT = path.resolve(import.meta.dirname, "..");

let model: PolicyModel;

beforeAll(async () => {
  model = await loadPolicyModel({ provider: "cpu", logger: silentLogger });
});

function ranked(operator: EditOperator, suspiciousness: number, siteRank: number, size = 2): RankedEdit {
  return {
    edit: { line: 3 + siteRank, operator, node: "Compare", before: "i < n", after: "i <= n", code: `# ${operator} ${siteRank}\n`, size },
    site: { line: 3 + siteRank, suspiciousness },
    siteRank,
    distance: siteRank,
    parentRank: 0,
    parentPassRate: 0.5,
    depth: 0,
    lineRaised: false,
    lineEndedRun: siteRank === 0,
  };
}

describe("the shipped policy model", () => {
  interface HeldOutGroup {
    readonly problem_id: string;
    readonly features: number[][];
    readonly labels: number[];
    readonly scores: number[];
    readonly learned_rank_of_fix: number;
    readonly hand_rank_of_fix: number;
  }
  const heldOut: HeldOutGroup[] = readFileSync(path.join(DEFAULT_POLICY_DIRECTORY, "heldout.jsonl"), "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as HeldOutGroup);
  const metadata = JSON.parse(readFileSync(path.join(DEFAULT_POLICY_DIRECTORY, "metadata.json"), "utf8")) as {
    feature_names: string[];
    data: { heldout_problems: string[] };
  };

  it("is named, says where it runs, and scores a batch of candidate edits, one finite score each", async () => {
    expect(model.name).toBe("policy model");
    expect(model.status).toMatchObject({ loaded: true, order: "policy model", provider: "cpu", feature_version: "edit-features-1" });
    const edits = [ranked("comparison", 1, 0), ranked("copy_statement", 0.2, 9, 12), ranked("off_by_one", 0.9, 1), ranked("delete_statement", 0.01, 30, 8)];
    const scores = await model.score(edits);
    expect(scores).toHaveLength(4);
    for (const score of scores) expect(Number.isFinite(score)).toBe(true);
    // A one-token edit at the most suspicious line comes before statement surgery at a line no test reached.
    expect(scores[0]).toBeGreaterThan(scores[3] as number);
    expect(await model.score([])).toEqual([]);
  });

  it("scores the trainer's held-out groups as the trainer did, and so ranks each fix where the trainer did", async () => {
    expect(heldOut.length).toBeGreaterThanOrEqual(20);
    const heldOutProblems = new Set(metadata.data.heldout_problems);
    for (const group of heldOut) {
      expect(heldOutProblems.has(group.problem_id)).toBe(true);
      const served = await model.scoreFeatures(Float32Array.from(group.features.flat()), group.features.length);
      expect(served).toHaveLength(group.scores.length);
      group.scores.forEach((score, index) => {
        // float32 through two runtimes: equal to a few units in the last place.
        expect(Math.abs((served[index] as number) - score)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(score)));
      });
      expect(rankOfFix(Array.from(served), group.labels)).toBe(group.learned_rank_of_fix);
      const hand = group.features.map((row) => row[POLICY_FEATURE_NAMES.indexOf("hand_score")] as number);
      expect(rankOfFix(hand, group.labels)).toBe(group.hand_rank_of_fix);
    }
  });

  it("scores a batch larger than one chunk the same as chunk by chunk, in order", async () => {
    const rows = CHUNK_ROWS * 2 + 7;
    const group = heldOut[0] as HeldOutGroup;
    const matrix = new Float32Array(rows * POLICY_FEATURE_COUNT);
    for (let row = 0; row < rows; row++) matrix.set(group.features[row % group.features.length] as number[], row * POLICY_FEATURE_COUNT);
    const served = await model.scoreFeatures(matrix, rows);
    for (let row = 0; row < rows; row++) expect(served[row]).toBeCloseTo(group.scores[row % group.features.length] as number, 4);
  });
});

function torchAvailable(): boolean {
  try {
    execFileSync("/usr/bin/python3", ["-c", "import torch, onnx"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const trainerAvailable = torchAvailable();
if (!trainerAvailable) console.warn("policy trainer test skipped: /usr/bin/python3 cannot import torch and onnx (apt-get install python3-torch python3-onnx)");

describe.skipIf(!trainerAvailable)("the policy trainer", () => {
  const directory = mkdtempSync(path.join(tmpdir(), "tracefix-policy-trainer-"));

  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it("trains on groups, exports ONNX with metadata, and the server's loader scores its held-out groups as it did", async () => {
    // The shipped held-out groups stand in for training data (the raw data is not committed).
    const groups = readFileSync(path.join(DEFAULT_POLICY_DIRECTORY, "heldout.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { problem_id: string; source: string; features: number[][]; labels: number[]; hand_rank_of_fix: number });
    const data = path.join(directory, "data");
    execFileSync("mkdir", ["-p", data]);
    writeFileSync(
      path.join(data, "groups.jsonl"),
      groups.map(({ problem_id, source, features, labels, hand_rank_of_fix }) => JSON.stringify({ problem_id, source, features, labels, hand_rank_of_fix })).join("\n"),
    );
    writeFileSync(path.join(data, "features.json"), JSON.stringify({ version: POLICY_FEATURE_VERSION, names: POLICY_FEATURE_NAMES }));
    const { stdout } = await promisify(execFile)(
      "/usr/bin/python3",
      [path.join(ROOT, "models/trainer/train_policy.py"), "--groups", path.join(data, "groups.jsonl"), "--out", directory, "--epochs", "3", "--heldout", "0.25", "--device", "cpu"],
      { cwd: ROOT },
    );
    const summary = JSON.parse(stdout.trim().split("\n").at(-1) as string) as { heldout: { learned: { groups: number }; hand: { groups: number } } };
    const metadata = JSON.parse(readFileSync(path.join(directory, "metadata.json"), "utf8")) as { feature_names: string[]; data: { heldout_problems: string[] } };
    expect(metadata.feature_names).toEqual([...POLICY_FEATURE_NAMES]);
    const problems = new Set(groups.map((group) => group.problem_id));
    expect(metadata.data.heldout_problems).toHaveLength(Math.round(problems.size * 0.25));
    expect(summary.heldout.learned.groups).toBe(summary.heldout.hand.groups);

    const trained = await loadPolicyModel({ directory, provider: "cpu", logger: silentLogger });
    const written = readFileSync(path.join(directory, "heldout.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { problem_id: string; features: number[][]; scores: number[] });
    expect(written.length).toBeGreaterThan(0);
    for (const group of written) {
      expect(metadata.data.heldout_problems).toContain(group.problem_id);
      const served = await trained.scoreFeatures(Float32Array.from(group.features.flat()), group.features.length);
      group.scores.forEach((score, index) => expect(Math.abs((served[index] as number) - score)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(score))));
    }
  }, 120_000);
});

describe("loading a policy model", () => {
  let directory: string;

  beforeAll(() => {
    directory = mkdtempSync(path.join(tmpdir(), "tracefix-policy-"));
  });

  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  function copyWith(name: string, change: (metadata: Record<string, unknown>) => void, onnx?: string): string {
    const target = path.join(directory, name);
    cpSync(DEFAULT_POLICY_DIRECTORY, target, { recursive: true, filter: (source) => path.basename(source) !== "data" });
    const file = path.join(target, "metadata.json");
    const metadata = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    change(metadata);
    writeFileSync(file, JSON.stringify(metadata));
    if (onnx !== undefined) writeFileSync(path.join(target, "policy.onnx"), onnx);
    return target;
  }

  async function loadError(target: string): Promise<PolicyModelError> {
    const error = await loadPolicyModel({ directory: target, provider: "cpu", logger: silentLogger }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(PolicyModelError);
    return error as PolicyModelError;
  }

  it("refuses a model trained on another feature list, naming both lists and how to rebuild it", async () => {
    const fewer = await loadError(copyWith("fewer", (metadata) => (metadata["feature_names"] = POLICY_FEATURE_NAMES.slice(0, -1))));
    expect(fewer.code).toBe("policy_model_mismatch");
    expect(fewer.stage).toBe("policy");
    expect(fewer.message).toContain("npm run policy:data && npm run policy:train");
    expect(fewer.message).toContain("this server computes [operator_binary_operator");
    const reordered = await loadError(copyWith("reordered", (metadata) => (metadata["feature_names"] = [...POLICY_FEATURE_NAMES].reverse())));
    expect(reordered.code).toBe("policy_model_mismatch");
    expect(reordered.message).toContain("expects the features [hand_score");
    const version = await loadError(copyWith("version", (metadata) => (metadata["feature_version"] = "edit-features-0")));
    expect(version.code).toBe("policy_model_mismatch");
    expect(version.message).toContain('"edit-features-0"');
  });

  it("refuses a missing directory, a file that is not an ONNX model, and one whose output is named otherwise", async () => {
    const missing = await loadError(path.join(directory, "nowhere"));
    expect(missing.code).toBe("policy_model_missing");
    expect(missing.message).toContain("nowhere");
    expect((await loadError(copyWith("garbage", () => undefined, "not a model"))).code).toBe("policy_model_unreadable");
    const renamed = await loadError(copyWith("renamed", (metadata) => (metadata["output"] = { name: "scores" })));
    expect(renamed.code).toBe("policy_model_mismatch");
    expect(renamed.message).toContain("outputs [score]");
    const unknownLanguage = await loadError(copyWith("cobol", (metadata) => (metadata["languages"] = "cobol")));
    expect(unknownLanguage.code).toBe("policy_model_mismatch");
    expect(unknownLanguage.message).toContain('"cobol"');
  });

  it("says which languages it orders: the shipped model learnt Python's edits only", () => {
    expect(model.languages).toEqual(["python"]);
    expect(model.status).toMatchObject({ languages: ["python"] });
  });

  it("orders the repair policy: its description names the order it was given", () => {
    expect(new RepairPolicy({ order: model }).description).toContain("policy model order");
    expect(new RepairPolicy({ order: HAND_ORDER }).description).toContain("hand order");
  });
});

describe("the server's start-up with its policy model", () => {
  const startServer = (environment: Record<string, string>): Promise<StartedServer> => startServerProcess({ TRACEFIX_POLICY_PROVIDER: "cpu", ...environment }, ["TRACEFIX_POLICY_MODEL"]);
  const stop = stopServerProcess;

  interface Health {
    policy_model: { loaded: boolean; order: string; provider?: string; reason?: string; heldout_median_rank?: { learned: number; hand: number } };
  }

  /** One repair run of a one-token bug; its run.started names the policy's order. */
  async function repairRun(url: string): Promise<{ status: string; model: string | undefined }> {
    const body = JSON.stringify({
      problem: {
        prompt: "add",
        entry_point: "add",
        code: "def add(a, b):\n    return a - b\n",
        tests: [
          { kind: "call", args: [1, 2], expected: 3 },
          { kind: "call", args: [0, 0], expected: 0 },
        ],
      },
      policy: "repair",
      n: 8,
      rounds: 2,
      stream: true,
    });
    let response = await fetch(`${url}/v1/solve`, { method: "POST", headers: { "content-type": "application/json" }, body });
    // The start-up self-check (a repair run from this same address) may still hold the sandbox: the server says when to come back.
    for (let attempt = 0; (response.status === 503 || response.status === 429) && attempt < 10; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 1_000 * Number(response.headers.get("retry-after") ?? "1")));
      response = await fetch(`${url}/v1/solve`, { method: "POST", headers: { "content-type": "application/json" }, body });
    }
    const text = await response.text();
    if (response.status !== 200) throw new Error(`/v1/solve answered ${response.status}: ${text}`);
    const started = /"type":"run\.started".*?"model":"([^"]*)"/.exec(text);
    const completed = /"type":"run\.completed".*?"status":"([^"]*)"/.exec(text);
    return { status: completed?.[1] ?? "none", model: started?.[1] };
  }

  it("with a model of another feature list: starts, logs one line, uses the hand order, and /healthz says so", async () => {
    const directory = mkdtempSync(path.join(tmpdir(), "tracefix-policy-server-"));
    cpSync(DEFAULT_POLICY_DIRECTORY, directory, { recursive: true, filter: (source) => path.basename(source) !== "data" });
    const metadata = JSON.parse(readFileSync(path.join(directory, "metadata.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(path.join(directory, "metadata.json"), JSON.stringify({ ...metadata, feature_names: [...POLICY_FEATURE_NAMES, "someone_elses_feature"] }));
    const started = await startServer({ TRACEFIX_POLICY_MODEL: directory });
    try {
      const health = (await (await fetch(`${started.url}/healthz`)).json()) as Health;
      expect(health.policy_model).toMatchObject({ loaded: false, order: "hand" });
      expect(health.policy_model.reason).toContain("someone_elses_feature");
      const lines = started.log().split("\n").filter((line) => line.includes("policy model"));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/policy model not loaded, the repair search uses the hand order: .*someone_elses_feature/);
      const run = await repairRun(started.url);
      expect(run).toMatchObject({ status: "solved" });
      expect(run.model).toContain("hand order");
    } finally {
      await stop(started);
      rmSync(directory, { recursive: true, force: true });
    }
  }, 60_000);

  it("with the shipped model and CUDA asked for: the repair search uses the policy model, one line about CUDA, /healthz says where it runs", async () => {
    const started = await startServer({ TRACEFIX_POLICY_PROVIDER: "cuda" });
    try {
      const health = (await (await fetch(`${started.url}/healthz`)).json()) as Health;
      expect(health.policy_model).toMatchObject({ loaded: true, order: "policy model" });
      const cudaLines = started.log().split("\n").filter((line) => line.includes("CUDA") && line.includes("policy model"));
      if (health.policy_model.provider === "cpu") expect(cudaLines).toHaveLength(1);
      else expect(health.policy_model.provider).toBe("cuda");
      expect(started.log()).not.toContain("onnxruntime_src");
      expect(health.policy_model.heldout_median_rank?.learned).toBeTypeOf("number");
      const run = await repairRun(started.url);
      expect(run).toMatchObject({ status: "solved" });
      expect(run.model).toContain("policy model order");
    } finally {
      await stop(started);
    }
  }, 60_000);
});
