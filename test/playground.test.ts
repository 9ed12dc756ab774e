/**
 * The playground at `/` in a real browser (Debian's Chromium through
 * playwright-core) against the server `npm start` runs, with no language
 * model: a person fills in a buggy program and its tests, presses Solve,
 * watches the rounds arrive, and sees the fix.
 */
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { Hono } from "hono";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";

import type { LoopbackServer } from "../src/server/compose.ts";
import { errorResponse } from "../src/server/errors.ts";
import { registerPlayground } from "../src/server/playground.ts";
import { silentLogger } from "../src/shared/logger.ts";
import type { PythonPool } from "../src/sandbox/index.ts";
import { launchChromium, outputFile, SKIP_BROWSER, SKIP_REASON, startServerWithoutModel } from "./support/browser.ts";
import { startPool } from "./support/sandbox.ts";
import { startSolveServer, type SolveServer } from "./support/solve-server.ts";

const BUGGY = "def total(xs):\n    result = 0\n    for i in range(1, len(xs)):\n        result += xs[i]\n    return result\n";
const TESTS = [
  { kind: "call", args: [[1, 2, 3]], expected: 6 },
  { kind: "call", args: [[]], expected: 0 },
  { kind: "call", args: [[4]], expected: 4 },
];
const HIDDEN = [{ kind: "call", args: [[10, -1]], expected: 9 }];
// Every run of it sleeps: a run long enough to be cut halfway.
const SLOW = "import time\n\ndef slow(x):\n    time.sleep(0.4)\n    return x + 1\n";

if (SKIP_BROWSER) console.warn(SKIP_REASON);

describe.skipIf(SKIP_BROWSER)("the playground in Chromium", () => {
  let server: LoopbackServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServerWithoutModel(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  beforeEach(async () => {
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(server.url);
  });

  async function fill(problem: { prompt: string; entryPoint: string; code?: string; tests: unknown; hidden?: unknown }): Promise<void> {
    await page.getByLabel("Description").fill(problem.prompt);
    await page.getByLabel("Entry point").fill(problem.entryPoint);
    await page.getByLabel("Code", { exact: true }).fill(problem.code ?? "");
    await page.getByLabel("Tests", { exact: true }).fill(typeof problem.tests === "string" ? problem.tests : JSON.stringify(problem.tests));
    await page.getByLabel("Hidden tests").fill(JSON.stringify(problem.hidden ?? []));
  }

  it("repairs a buggy program with no model: the rounds stream in, the diff shows the fix, the hidden tests pass", async () => {
    await fill({ prompt: "Sum of xs.", entryPoint: "total", code: BUGGY, tests: TESTS, hidden: HIDDEN });
    // What the status line said while the run went on: proof that the rounds were drawn as they streamed.
    // (A string: it runs in the page, whose DOM types this Node program does not have.)
    await page.evaluate(`(() => {
      const status = document.getElementById("run-status");
      window.statuses = [];
      new MutationObserver(() => window.statuses.push(status.textContent)).observe(status, { childList: true, characterData: true, subtree: true });
    })()`);
    await page.getByRole("button", { name: "Solve", exact: true }).click();
    await page.locator('#run[data-state="solved"]').waitFor({ timeout: 60_000 });

    const statuses = (await page.evaluate("window.statuses")) as string[];
    expect(statuses.some((status) => /^Running · round 2 · \d+\/\d+ run/.test(status))).toBe(true);
    expect(statuses.at(-1)).toBe("Solved · hidden tests 1/1 passed");
    // Round 1 ran the given program; round 2's edits each say what they changed, against the program they came from.
    expect(await page.locator('.round[data-round="1"] .candidate').first().getAttribute("data-status")).toBe("failed");
    const edits = page.locator('.round[data-round="2"] .candidate:has(.source-edit)');
    expect(await edits.count()).toBeGreaterThan(0);
    await expect.poll(() => edits.first().locator(".diff-label").textContent()).toBe("diff against r1given");
    expect(await page.locator(".localized").first().textContent()).toMatch(/^Most suspicious: line \d/);
    // The answer's diff against the given program: the buggy range line out, a fixed one in.
    const fix = page.getByLabel("Answer").locator(".code");
    expect(await fix.locator(".line.del .text").allTextContents()).toEqual(["    for i in range(1, len(xs)):"]);
    const added = await fix.locator(".line.ins .text").allTextContents();
    expect(added).toHaveLength(1);
    expect(added[0]).not.toContain("range(1, len(xs))");
    // The solved run as a person sees it: the answer's diff on top, the rounds below it.
    await page.screenshot({ path: outputFile("playground-solved.png") });
  });

  it("replays a past run from the history, and downloads its DPO pairs", async () => {
    // A run of its own, made through the API: the history lists whatever the server keeps.
    const response = await fetch(`${server.url}/v1/solve`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ problem: { prompt: "Sum of xs.", entry_point: "total", code: BUGGY, tests: TESTS }, rounds: 2 }),
    });
    const result = (await response.json()) as { run_id: string; status: string; rounds: { candidates: unknown[] }[] };
    expect(result.status).toBe("solved");
    await page.getByRole("button", { name: "Refresh" }).click();
    await page.locator(`button[data-run="${result.run_id}"]`).click();
    await page.locator(`#run[data-run-id="${result.run_id}"][data-state="solved"]`).waitFor({ timeout: 30_000 });
    const drawn = await page.locator(".candidate").count();
    expect(drawn).toBe(result.rounds.reduce((sum, round) => sum + round.candidates.length, 0));

    const download = page.waitForEvent("download");
    await page.getByRole("link", { name: "Download DPO pairs" }).click();
    const file = await (await download).path();
    const pairs = readFileSync(file, "utf8").trim().split("\n").map((line) => JSON.parse(line) as { chosen: string; rejected: string; run_id: string });
    expect(pairs.length).toBeGreaterThan(0);
    for (const pair of pairs) expect(pair.run_id).toBe(result.run_id);
    expect(pairs.some((pair) => pair.rejected === BUGGY)).toBe(true);
  });

  it("a disconnect mid-run (Stop) cancels the run on the server, and the page says so", async () => {
    await fill({ prompt: "x + 2", entryPoint: "slow", code: SLOW, tests: [{ kind: "call", args: [1], expected: 3 }, { kind: "call", args: [2], expected: 4 }] });
    await page.getByLabel("Rounds").fill("10");
    await page.getByRole("button", { name: "Solve", exact: true }).click();
    await page.locator('.round[data-round="2"] .candidate').first().waitFor({ timeout: 30_000 });
    const runId = await page.locator("#run").getAttribute("data-run-id");
    await page.getByRole("button", { name: "Stop", exact: true }).click();
    // The page reads the run's end back: the server cancelled it.
    await expect.poll(() => page.locator("#run-status").textContent(), { timeout: 10_000 }).toMatch(/^Failed: cancelled: /);
    await expect
      .poll(async () => ((await (await fetch(`${server.url}/v1/runs/${runId}`)).json()) as { status: string }).status, { timeout: 10_000 })
      .toBe("failed");
    expect(await page.getByRole("button", { name: "Solve", exact: true }).isEnabled()).toBe(true);
    await expect.poll(() => page.locator(`li[data-status="failed"] button[data-run="${runId}"]`).count()).toBe(1);
  });

  it("shows a bad request as a readable error naming the field, and why a problem without code needs a model", async () => {
    await fill({ prompt: "Sum of xs.", entryPoint: "total", code: BUGGY, tests: [{ kind: "call", args: "not a list", expected: 1 }] });
    await page.getByRole("button", { name: "Solve", exact: true }).click();
    const error = page.getByRole("alert");
    await expect.poll(() => error.textContent()).toMatch(/^Not started\. invalid_request \(problem\.tests\.0\.args\): /);
    expect(await page.getByLabel("Tests", { exact: true }).getAttribute("aria-invalid")).toBe("true");

    await fill({ prompt: "Sum of xs.", entryPoint: "total", tests: TESTS });
    await page.getByRole("button", { name: "Solve", exact: true }).click();
    await expect.poll(() => error.textContent()).toMatch(/model_required \(problem\.code\): no language model is configured, and the built-in repair search needs a program/);
    expect(await page.getByLabel("Code", { exact: true }).getAttribute("aria-invalid")).toBe("true");

    await page.getByLabel("Tests", { exact: true }).fill("[{oops");
    await page.getByRole("button", { name: "Solve", exact: true }).click();
    await expect.poll(() => error.textContent()).toMatch(/^Not started\. Tests: not JSON/);
  });
});

describe.skipIf(SKIP_BROWSER)("an agent run in the playground", () => {
  let pool: PythonPool;
  let server: SolveServer;
  let browser: Browser;

  beforeAll(async () => {
    pool = await startPool();
    const fixed = BUGGY.replace("range(1, len(xs))", "range(len(xs))");
    // The scripted model runs the tests on the given program, then submits the fix.
    server = await startSolveServer(pool, (request) =>
      request.messages.length === 2 ? { toolCalls: [{ name: "run_tests", arguments: { code: BUGGY } }] } : { toolCalls: [{ name: "submit", arguments: { code: fixed } }] },
    );
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await pool?.close();
  });

  it("lists each agent's tool calls as they happen, with what the model was told", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(server.url);
    await page.getByLabel("Description").fill("Sum of xs.");
    await page.getByLabel("Entry point").fill("total");
    await page.getByLabel("Code", { exact: true }).fill(BUGGY);
    await page.getByLabel("Tests", { exact: true }).fill(JSON.stringify(TESTS));
    await page.getByLabel("Hidden tests").fill(JSON.stringify(HIDDEN));
    await page.getByLabel("Strategy").selectOption("agent");
    await page.getByLabel("N", { exact: true }).fill("1");
    await page.getByRole("button", { name: "Solve", exact: true }).click();
    await page.locator('#run[data-state="solved"]').waitFor({ timeout: 60_000 });
    const calls = page.getByLabel("Agent 0 tool calls").locator(".tool-call");
    expect(await calls.locator("code").allTextContents()).toEqual(["run_tests(code (5 lines))", "submit(code (5 lines))"]);
    expect(await calls.first().getAttribute("data-status")).toBe("ok");
    expect(await calls.first().locator(".tool-result pre").textContent()).toMatch(/^Passed 1 of 3 public tests \(test 0: wrong_answer, test 1: passed, test 2: wrong_answer\)/);
    expect(await page.locator("#run-status").textContent()).toBe("Solved · hidden tests 1/1 passed");
    // The submission against the given program: the buggy line out.
    expect(await page.getByLabel("Answer").locator(".code .line.del .text").allTextContents()).toEqual(["    for i in range(1, len(xs)):"]);
    await page.screenshot({ path: outputFile("playground-agent.png") });
  });
});

describe("the playground's files", () => {
  it("are served at / with a policy that lets only the page's own script and styles run", async () => {
    const app = new Hono();
    registerPlayground(app);
    const page = await app.request("/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await page.text();
    for (const label of ["Code", "Tests", "Entry point", "Hidden tests", "Description"]) expect(html).toContain(`>${label}</label>`);
    const script = await app.request("/playground/app.js");
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    // Small: the schemas' names and types, not the schema library.
    expect((await script.arrayBuffer()).byteLength).toBeLessThan(64 * 1024);
  });

  it("answer 503 playground_not_built, saying how to build them, when they are missing", async () => {
    const app = new Hono();
    app.onError((error, context) => errorResponse(context, error, silentLogger));
    registerPlayground(app, path.join(tmpdir(), "tracefix-no-playground"));
    const response = await app.request("/");
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: { code: "playground_not_built", message: expect.stringContaining("npm run build:web") } });
  });
});
