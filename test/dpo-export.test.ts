/**
 * The DPO export: GET /v1/runs, GET /v1/runs/{id}/preferences, and the
 * dpo:export command over several runs of a real server.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { PythonPool } from "../src/sandbox/index.ts";
import { PreferencePair, RunList } from "../src/shared/schema/runs.ts";
import { ADD, RIGHT_ADD, WRONG_ADD } from "./fixtures/add.ts";
import { fenced, lastUserMessage, type Script } from "./support/fake-llm.ts";
import { startPool } from "./support/sandbox.ts";
import { startSolveServer, type SolveServer } from "./support/solve-server.ts";
import { readSse } from "./support/sse.ts";

const ROOT = path.resolve(import.meta.dirname, "..");

let pool: PythonPool;
let server: SolveServer;

const WRONG = WRONG_ADD;
const HALF = "def add(a, b):\n    return a + b if a < 0 else a * b\n";
const RIGHT = RIGHT_ADD;

// Round 1: two wrong programs; every revision is right.
const script: Script = (request) => {
  if (lastUserMessage(request).includes("Feedback")) return { texts: Array.from({ length: request.n ?? 1 }, () => fenced(RIGHT)) };
  return { delayMs: 150, then: { texts: [fenced(WRONG), fenced(HALF)].slice(0, request.n ?? 1) } };
};

beforeAll(async () => {
  pool = await startPool();
  server = await startSolveServer(pool, script);
});

afterAll(async () => {
  await server.close();
  await pool.close();
});

async function solve(body: Record<string, unknown>): Promise<string> {
  const response = await fetch(`${server.url}/v1/solve`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  expect(response.status).toBe(200);
  await response.json();
  return response.headers.get("x-run-id") as string;
}

async function preferences(runId: string): Promise<{ response: Response; text: string; pairs: PreferencePair[] }> {
  const response = await fetch(`${server.url}/v1/runs/${runId}/preferences`);
  const text = await response.text();
  const pairs = response.ok
    ? text
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => PreferencePair.parse(JSON.parse(line)))
    : [];
  return { response, text, pairs };
}

describe("preference pairs from a run", () => {
  it("pairs every two distinct programs the ETA rules tell apart, with the prompt the client sent", async () => {
    const runId = await solve({ problem: ADD, n: 2, rounds: 3 });
    const { response, pairs } = await preferences(runId);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("application/x-ndjson");
    expect(response.headers.get("x-pair-count")).toBe("3");
    // Three programs (the two revisions are the same program): three pairs.
    const decided = pairs.map((pair) => [pair.chosen, pair.rejected, pair.rule]);
    expect(decided).toEqual(
      expect.arrayContaining([
        [RIGHT, WRONG, "passing_beats_failing"],
        [RIGHT, HALF, "passing_beats_failing"],
        [HALF, WRONG, "more_tests_passed"],
      ]),
    );
    expect(pairs).toHaveLength(3);
    for (const pair of pairs) expect(pair).toMatchObject({ prompt: ADD.prompt, run_id: runId });
    expect(new Set(pairs.map((pair) => pair.chosen_candidate)).size).toBeGreaterThan(1);
  });

  it("refuses a run that is still going (409) and one it does not know (404)", async () => {
    const response = await fetch(`${server.url}/v1/solve`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ problem: ADD, n: 1, rounds: 1, stream: true }),
    });
    const runId = response.headers.get("x-run-id") as string;
    const early = await preferences(runId);
    expect(early.response.status).toBe(409);
    expect((JSON.parse(early.text) as { error: { code: string } }).error.code).toBe("run_not_finished");
    await readSse(response);
    expect((await preferences(runId)).response.status).toBe(200);
    const missing = await fetch(`${server.url}/v1/runs/no-such-run/preferences`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("run_not_found");
  });
});

describe("GET /v1/runs", () => {
  it("pages with next_cursor, every run once, and filters by policy, language and time", async () => {
    const made = [await solve({ problem: ADD, n: 1, rounds: 1 }), await solve({ problem: ADD, n: 1, rounds: 1 }), await solve({ problem: ADD, n: 1, rounds: 1 })];
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? "limit=2" : `limit=2&cursor=${cursor}`;
      const page = RunList.parse(await (await fetch(`${server.url}/v1/runs?${query}`)).json());
      expect(page.runs.length).toBeLessThanOrEqual(2);
      seen.push(...page.runs.map((run) => run.run_id));
      cursor = page.next_cursor;
    } while (cursor !== null);
    expect(new Set(seen).size).toBe(seen.length);
    for (const runId of made) expect(seen).toContain(runId);
    const latest = RunList.parse(await (await fetch(`${server.url}/v1/runs?limit=1`)).json()).runs[0];
    expect(latest).toMatchObject({ run_id: made[2], policy: "llm", language: "python", strategy: "sequential" });
    const since = encodeURIComponent(latest?.created_at ?? "");
    expect(RunList.parse(await (await fetch(`${server.url}/v1/runs?since=${since}`)).json()).runs.map((run) => run.run_id)).toEqual([made[2]]);
    expect(RunList.parse(await (await fetch(`${server.url}/v1/runs?policy=repair`)).json()).runs).toEqual([]);
    expect(RunList.parse(await (await fetch(`${server.url}/v1/runs?language=javascript`)).json()).runs).toEqual([]);
  });

  it("deletes a finished run (204, then 404 everywhere), and a running one only once it ends (409)", async () => {
    const response = await fetch(`${server.url}/v1/solve`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ problem: ADD, n: 1, rounds: 2, stream: true }) });
    const runId = response.headers.get("x-run-id") as string;
    const early = await fetch(`${server.url}/v1/runs/${runId}`, { method: "DELETE" });
    expect(early.status).toBe(409);
    await readSse(response);
    expect((await fetch(`${server.url}/v1/runs/${runId}`, { method: "DELETE" })).status).toBe(204);
    for (const suffix of ["", "/events", "/preferences"]) expect((await fetch(`${server.url}/v1/runs/${runId}${suffix}`)).status).toBe(404);
    expect((await fetch(`${server.url}/v1/runs/${runId}`, { method: "DELETE" })).status).toBe(404);
  });

  it("streams every finished run's pairs from the store at GET /v1/preferences, filtered by status", async () => {
    const solved = await solve({ problem: ADD, n: 2, rounds: 2 });
    const all = (await (await fetch(`${server.url}/v1/preferences`)).text()).split("\n").filter((line) => line !== "").map((line) => PreferencePair.parse(JSON.parse(line)));
    const own = (await preferences(solved)).pairs;
    expect(own.length).toBeGreaterThan(0);
    expect(all.filter((pair) => pair.run_id === solved)).toEqual(own);
    const unsolvedOnly = (await (await fetch(`${server.url}/v1/preferences?status=unsolved`)).text()).split("\n").filter((line) => line !== "").map((line) => PreferencePair.parse(JSON.parse(line)));
    expect(unsolvedOnly.some((pair) => pair.run_id === solved)).toBe(false);
  });

  it("lists the kept runs newest first, filtered by status", async () => {
    const first = await solve({ problem: ADD, n: 2, rounds: 1 }); // unsolved: one round of wrong programs
    const second = await solve({ problem: ADD, n: 2, rounds: 2 }); // solved in round 2
    const all = RunList.parse(await (await fetch(`${server.url}/v1/runs`)).json());
    const ids = all.runs.map((run) => run.run_id);
    expect(ids.indexOf(second)).toBeLessThan(ids.indexOf(first));
    expect(ids.indexOf(first)).toBeGreaterThanOrEqual(0);
    const unsolved = RunList.parse(await (await fetch(`${server.url}/v1/runs?status=unsolved&limit=5`)).json());
    expect(unsolved.runs.map((run) => run.run_id)).toContain(first);
    expect(unsolved.runs.every((run) => run.status === "unsolved")).toBe(true);
    expect(RunList.parse(await (await fetch(`${server.url}/v1/runs?limit=1`)).json()).runs).toHaveLength(1);
  });

  it.each([
    ["status=lost", "status"],
    ["limit=0", "limit"],
    ["limit=many", "limit"],
    ["colour=red", "colour"],
    ["since=yesterday", "since"],
    ["language=cobol", "language"],
    ["cursor=not-ours", "cursor"],
  ])("answers 400 naming the field for ?%s", async (query, field) => {
    const response = await fetch(`${server.url}/v1/runs?${query}`);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; field: string } };
    expect(body.error).toMatchObject({ code: "invalid_request", field });
  });
});

describe("tracefix export-dpo (npm run dpo:export)", () => {
  it("without --runs exports the whole store's history, narrowed by --status", async () => {
    const solved = await solve({ problem: ADD, n: 2, rounds: 2 });
    const expected = (await (await fetch(`${server.url}/v1/preferences?status=solved`)).text()).split("\n").filter((line) => line !== "");
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["bin/tracefix.mjs", "export-dpo", "--server", server.url, "--status", "solved"], { cwd: ROOT });
    const lines = stdout.split("\n").filter((line) => line !== "");
    expect(lines).toEqual(expected);
    expect(lines.some((line) => PreferencePair.parse(JSON.parse(line)).run_id === solved)).toBe(true);
    expect(stderr).toMatch(new RegExp(`^${expected.length} pairs from \\d+ runs`));
  }, 60_000);

  it("writes the pairs of several runs as one JSONL file and reports what it skipped", async () => {
    const runs = [await solve({ problem: ADD, n: 2, rounds: 2 }), await solve({ problem: ADD, n: 2, rounds: 1 })];
    const expected = (await Promise.all(runs.map(preferences))).reduce((sum, { pairs }) => sum + pairs.length, 0);
    const directory = mkdtempSync(path.join(tmpdir(), "tracefix-dpo-"));
    const out = path.join(directory, "pairs.jsonl");
    try {
      const { stderr } = await promisify(execFile)(
        process.execPath,
        ["bin/tracefix.mjs", "export-dpo", "--server", server.url, "--runs", [...runs, "gone"].join(","), "--out", out],
        { cwd: ROOT },
      );
      const lines = readFileSync(out, "utf8").split("\n").filter((line) => line !== "");
      expect(lines).toHaveLength(expected);
      const pairs = lines.map((line) => PreferencePair.parse(JSON.parse(line)));
      expect(new Set(pairs.map((pair) => pair.run_id))).toEqual(new Set(runs));
      expect(stderr).toContain(`${expected} pairs from 2 runs`);
      expect(stderr).toMatch(/skipped gone \(HTTP 404/);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  }, 60_000);
});
