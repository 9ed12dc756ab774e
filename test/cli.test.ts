/**
 * `tracefix` on the command line, as a user runs it: the bin, piped, with
 * its own embedded server (the one `npm start` runs), no language model.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { describe, expect, it } from "vitest";

import { datasetPath, loadDataset, testsOf } from "../src/datasets/index.ts";
import { RunCompleted } from "../src/shared/schema/events.ts";
import { requireDatasets, SKIP_DATASETS } from "./support/datasets.ts";

const BIN = path.resolve(import.meta.dirname, "../bin/tracefix.mjs");
const folder = mkdtempSync(path.join(tmpdir(), "tracefix-cli-"));

function file(name: string, value: unknown): string {
  const where = path.join(folder, name);
  writeFileSync(where, JSON.stringify(value));
  return where;
}

/** stdout, stderr and the exit code of `tracefix …args` (piped: not a terminal). */
async function tracefix(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { timeout: 120_000, env: { ...process.env, PORT: "0" } });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failed = error as { stdout: string; stderr: string; code: number };
    return { stdout: failed.stdout, stderr: failed.stderr, code: failed.code };
  }
}

describe.skipIf(SKIP_DATASETS)("tracefix solve", () => {
  async function quixbugsProblem(): Promise<string> {
    requireDatasets("quixbugs");
    const record = (await loadDataset(datasetPath("quixbugs"))).find((candidate) => candidate.id === "quixbugs/get_factors");
    if (record === undefined) throw new Error("get_factors is missing from the QuixBugs data");
    const tests = testsOf(record);
    return file("get_factors.json", { prompt: record.prompt, entry_point: record.entry_point, code: record.buggy_code, tests: tests.slice(0, 6), hidden_tests: tests.slice(6) });
  }

  it("repairs a QuixBugs program with no model, one line per event when piped, and exits 0", async () => {
    const { stdout, code } = await tracefix("solve", await quixbugsProblem(), "--rounds", "3");
    expect(code).toBe(0);
    const lines = stdout.split("\n");
    expect(lines[0]).toMatch(/^run run_\w+: repair policy, /);
    expect(lines).toContain("round 1 (given)");
    expect(lines.some((line) => /^  r2c\d+ from edit: line \d+: /.test(line))).toBe(true);
    expect(lines.some((line) => /^round \d+ solved, best r\d+c\d+ 6\/6$/.test(line))).toBe(true);
    expect(lines).toContain("solved, hidden tests 5/5");
  });

  it("shows one status line rewritten in place on a terminal: round, candidates run, best so far, the edit being tried", async () => {
    // `script` gives the command a pseudo-terminal, as a person's shell would.
    const command = [process.execPath, BIN, "solve", await quixbugsProblem(), "--rounds", "3"].map((part) => `'${part}'`).join(" ");
    const { stdout } = await promisify(execFile)("script", ["-qec", command, "/dev/null"], { timeout: 120_000, env: { ...process.env, PORT: "0", COLUMNS: "200" } });
    const rewrites = stdout.split("\r\x1b[2K").map((part) => part.trim());
    expect(rewrites.some((line) => /^round 2 · \d+\/\d+ run · best \d\/6 · line \d+: .+ → /.test(line))).toBe(true);
    expect(rewrites.some((line) => line.startsWith("solved, hidden tests 5/5"))).toBe(true);
  });

  it("prints only the final event with --json", async () => {
    const { stdout, code } = await tracefix("solve", await quixbugsProblem(), "--json");
    expect(code).toBe(0);
    const final = RunCompleted.parse(JSON.parse(stdout));
    expect(final.status).toBe("solved");
    expect(final.solution?.passed).toBe(6);
  });
});

describe("tracefix errors and verdicts", () => {
  it("ranks candidates with select: the pick that passes its public tests first, exit 0", async () => {
    const request = file("select.json", {
      problem: { prompt: "add two numbers", entry_point: "add", tests: [{ kind: "call", args: [1, 2], expected: 3 }, { kind: "call", args: [0, 0], expected: 0 }] },
      candidates: ["def add(a, b):\n    return a - b\n", "def add(a, b):\n    return a + b\n"],
    });
    const { stdout, code } = await tracefix("select", request);
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^selected by agreement/);
    expect(lines[1]).toMatch(/^1\. candidate 1 · score [\d.]+ · cluster 0 · public 2\/2/);
    expect(lines[2]).toMatch(/^2\. candidate 0 · .* public 1\/2/); // a - b is right for (0, 0) only
  });

  it("exits 1 when a program fails its tests", async () => {
    const request = file("execute.json", { code: "def add(a, b):\n    return a - b\n", entry_point: "add", tests: [{ kind: "call", args: [1, 2], expected: 3 }] });
    const { stdout, code } = await tracefix("execute", request);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ status: "failed", passed: 0, total: 1 });
  });

  it("exits 2 with the server's reason for a bad request, and with usage for no command", async () => {
    const bad = await tracefix("solve", file("bad.json", { problem: { prompt: "x", tests: "none" } }));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^tracefix: HTTP 400: .*problem\.tests/);
    const usage = await tracefix();
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("usage: tracefix solve|execute|select|runs|export-dpo");
  });
});

describe("tracefix solve with the agent strategy", () => {
  it("prints each tool call of each agent and what came of it, against a server with a model", async () => {
    const { startPool } = await import("./support/sandbox.ts");
    const { startSolveServer } = await import("./support/solve-server.ts");
    const pool = await startPool({ size: 1 });
    const right = "def add(a, b):\n    return a + b\n";
    const server = await startSolveServer(pool, (request) =>
      request.messages.length === 2
        ? { toolCalls: [{ name: "inspect", arguments: { code: "def add(a, b):\n    return a - b\n", test: 0, line: 2, expression: "a - b" } }] }
        : { toolCalls: [{ name: "submit", arguments: { code: right } }] },
    );
    try {
      const problem = file("agent.json", { prompt: "Add.", entry_point: "add", tests: [{ kind: "call", args: [1, 2], expected: 3 }] });
      const { stdout, code } = await tracefix("solve", problem, "--strategy", "agent", "--n", "1", "--server", server.url);
      expect(code).toBe(0);
      const lines = stdout.split("\n");
      expect(lines).toContain('  agent 0 #1 inspect(code (2 lines), test 0, line 2, expression "a - b")');
      expect(lines).toContain("  agent 0 #2 submit(code (2 lines))");
      expect(lines.find((line) => line.startsWith("  agent 0 #1 inspect ok in "))).toMatch(/ ms: `a - b` each time line 2 was about to run in test 0 \(1 time\):$/);
      expect(lines).toContain("solved");
    } finally {
      await server.close();
      await pool.close();
    }
  });
});
