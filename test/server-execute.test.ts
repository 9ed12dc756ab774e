/**
 * POST /v1/execute, /healthz and /openapi.json: validation in-process with
 * app.request(), transport and cancellation over a real loopback socket.
 */
import { serve, type ServerType } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { PythonPool } from "../src/sandbox/index.ts";
import { createApp } from "../src/server/app.ts";
import { MAX_TESTS_PER_REQUEST, type ExecutionReport } from "../src/shared/schema/execution.ts";
import { startPool } from "./support/sandbox.ts";

let pool: PythonPool;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  pool = await startPool();
  app = createApp({ executor: pool, version: "test", maxBodyBytes: 256 * 1024 });
});

afterAll(async () => {
  await pool.close();
});

function post(body: unknown): Promise<Response> {
  return Promise.resolve(
    app.request("/v1/execute", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
  );
}

const valid = { code: "def f(x):\n    return x\n", entry_point: "f", tests: [{ kind: "call", args: [1], expected: 1 }] };

describe("POST /v1/execute validation", () => {
  it.each([
    ["a missing code", { ...valid, code: undefined }, "code"],
    ["a wrong type", { ...valid, code: 42 }, "code"],
    ["no tests", { ...valid, tests: [] }, "tests"],
    ["an unknown test kind", { ...valid, tests: [{ kind: "fuzz" }] }, "tests.0.kind"],
    ["a call test with neither args nor input", { ...valid, tests: [{ kind: "call", expected: 1 }] }, "tests.0.args"],
    ["a misspelt field", { ...valid, tests: [{ kind: "call", args: [], expect: 1 }] }, "tests.0.expect"],
    ["a bad trace mode", { ...valid, trace: { mode: "sometimes" } }, "trace.mode"],
    ["an unknown trace format", { ...valid, trace: { format: "verbose" } }, "trace.format"],
    ["a rendering budget too small to say anything", { ...valid, trace: { budget: 50 } }, "trace.budget"],
    ["a timeout out of range", { ...valid, limits: { timeout_ms: 0 } }, "limits.timeout_ms"],
    ["an unsupported language", { ...valid, language: "cobol" }, "language"],
    ["an entry point that is not an identifier", { ...valid, entry_point: "f()" }, "entry_point"],
    ["too many tests", { ...valid, tests: Array.from({ length: MAX_TESTS_PER_REQUEST + 1 }, () => valid.tests[0]) }, "tests"],
  ])("answers 400 naming the field for %s", async (_label, body, field) => {
    const response = await post(body);
    expect(response.status).toBe(400);
    const payload = (await response.json()) as { error: { code: string; field: string; message: string } };
    expect(payload.error.code).toBe("invalid_request");
    expect(payload.error.field).toBe(field);
    expect(payload.error.message).toContain(field);
  });

  it("answers 400 for a body that is not JSON and for one over the size limit", async () => {
    const broken = await post("{not json");
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: { field: string } }).error.field).toBe("body");
    const huge = await post({ ...valid, code: `# ${"x".repeat(300 * 1024)}\n${valid.code}` });
    expect(huge.status).toBe(400);
    expect(((await huge.json()) as { error: { field: string } }).error.field).toBe("body");
  });

  it("runs a valid request and returns the execution report", async () => {
    const response = await post(valid);
    expect(response.status).toBe(200);
    const report = (await response.json()) as ExecutionReport;
    expect(report).toMatchObject({ status: "passed", language: "python", passed: 1, total: 1 });
  });
});

describe("renderings in /v1/execute", () => {
  it("renders each failing test in the requested format within the budget, and no passing one", async () => {
    const response = await post({
      code: "def mean(values):\n    total = 0\n    for value in values:\n        total += value\n    return total // len(values)\n",
      entry_point: "mean",
      tests: [
        { kind: "call", args: [[2, 4]], expected: 3 },
        { kind: "call", args: [[1, 2]], expected: 1.5 },
      ],
      trace: { format: "semcoder", budget: 600 },
    });
    const report = (await response.json()) as ExecutionReport;
    expect(report.tests[0]?.rendering).toBeUndefined();
    const rendering = report.tests[1]?.rendering ?? "";
    expect(rendering.length).toBeLessThanOrEqual(600);
    expect(rendering).toContain("Trace (semcoder):");
    expect(rendering).toContain("Line 4: `total` changes from 1 to 3.");
    expect(report.tests[1]?.trace?.events.length).toBeGreaterThan(0);
  });
});

describe("GET /healthz and /openapi.json", () => {
  it("reports the sandbox's isolation, interpreter and workers", async () => {
    const response = await app.request("/healthz");
    const health = (await response.json()) as {
      status: string;
      sandbox: { isolation: { kind: string }; runtime: { python: string; tracer: string }; workers: Record<string, number> };
    };
    expect(health.status).toBe("ok");
    expect(["bwrap", "rlimits"]).toContain(health.sandbox.isolation.kind);
    expect(health.sandbox.runtime.python).toMatch(/^3\.\d+\.\d+$/);
    expect(["settrace", "monitoring"]).toContain(health.sandbox.runtime.tracer);
    expect(health.sandbox.workers).toMatchObject({ size: pool.health().workers.size, busy: 0, queued: 0 });
  });

  it("describes /v1/execute from the request schema", async () => {
    const document = (await (await app.request("/openapi.json")).json()) as {
      paths: Record<string, { post?: { requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> } } }>;
    };
    const schema = document.paths["/v1/execute"]?.post?.requestBody.content["application/json"]?.schema;
    expect(Object.keys(schema?.properties ?? {})).toEqual(expect.arrayContaining(["code", "tests", "trace", "limits"]));
  });
});

describe("over a real socket", () => {
  let server: ServerType;
  let base = "";

  beforeAll(async () => {
    await new Promise<void>((resolve) => {
      server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (address) => {
        base = `http://127.0.0.1:${address.port}`;
        resolve();
      });
    });
  });

  afterAll(() => {
    server.close();
  });

  it("cancels the sandbox run when the client disconnects", async () => {
    const controller = new AbortController();
    const request = fetch(`${base}/v1/execute`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        code: "def spin():\n    while True:\n        pass\n",
        entry_point: "spin",
        tests: [{ kind: "call", args: [] }],
        limits: { timeout_ms: 20_000 },
      }),
      signal: controller.signal,
    }).catch((error: unknown) => error);
    await expect.poll(() => pool.health().workers.busy, { timeout: 2_000 }).toBe(1);
    const abortedAt = Date.now();
    controller.abort();
    await request;
    // The worker is free again long before the 20 s test deadline.
    await expect.poll(() => pool.health().workers.busy, { timeout: 2_000, interval: 20 }).toBe(0);
    expect(Date.now() - abortedAt).toBeLessThan(1_000);
    const after = (await (await fetch(`${base}/v1/execute`, { method: "POST", body: JSON.stringify(valid) })).json()) as ExecutionReport;
    expect(after.status).toBe("passed");
  });
});
