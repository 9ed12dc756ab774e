/** Helpers shared by the sandbox tests: a real pool, jobs built through the request schema. */
import type { z } from "zod";

import { JavaScriptPool, PythonPool, type JavaScriptPoolOptions, type PythonPoolOptions } from "../../src/sandbox/index.ts";
import { silentLogger } from "../../src/shared/logger.ts";
import type { ExecutionJob, TestReport } from "../../src/shared/schema/execution.ts";
import { ExecuteRequest, toExecutionJob } from "../../src/shared/schema/requests.ts";

export function startPool(options: PythonPoolOptions = {}): Promise<PythonPool> {
  return PythonPool.start({ logger: silentLogger, ...options });
}

/** A job exactly as /v1/execute would build it from this request body. */
export function job(body: z.input<typeof ExecuteRequest>): ExecutionJob {
  return toExecutionJob(ExecuteRequest.parse(body));
}

export function statuses(tests: readonly TestReport[]): string[] {
  return tests.map((test) => test.status);
}

export function startJavaScriptPool(options: JavaScriptPoolOptions = {}): Promise<JavaScriptPool> {
  return JavaScriptPool.start({ logger: silentLogger, ...options });
}
