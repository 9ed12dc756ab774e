/** /openapi.json, generated from the same zod schemas the server validates with. */
import { z } from "zod";

import { ExecutionReport } from "../shared/schema/execution.ts";
import { ExecuteRequest } from "../shared/schema/requests.ts";

const ErrorResponse = z.object({
  error: z.object({
    code: z.string(),
    stage: z.string(),
    message: z.string(),
    field: z.string().optional().describe("for invalid_request: the dotted path of the offending field"),
    run_id: z.string().optional(),
  }),
});

function schema(value: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  return z.toJSONSchema(value, { io, unrepresentable: "any" }) as Record<string, unknown>;
}

function jsonBody(value: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  return { content: { "application/json": { schema: schema(value, io) } } };
}

let cached: Record<string, unknown> | undefined;

export function buildOpenApiDocument(version: string): Record<string, unknown> {
  cached ??= {
    openapi: "3.1.0",
    info: {
      title: "tracefix",
      version,
      description: "Test-time scaling for code LLMs: sample, run with line traces, revise, select.",
    },
    paths: {
      "/v1/execute": {
        post: {
          summary: "Run one program against tests, failing tests re-run with line-level traces",
          requestBody: { required: true, ...jsonBody(ExecuteRequest, "input") },
          responses: {
            "200": { description: "the execution report", ...jsonBody(ExecutionReport, "output") },
            "400": { description: "invalid request; error.field names the field", ...jsonBody(ErrorResponse, "output") },
          },
        },
      },
      "/healthz": {
        get: {
          summary: "Sandbox isolation, interpreter, workers",
          responses: { "200": { description: "health" } },
        },
      },
    },
  };
  return cached;
}
