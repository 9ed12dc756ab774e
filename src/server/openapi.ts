/** /openapi.json, generated from the same zod schemas the server validates with. */
import { z } from "zod";

import { RunEvent } from "../shared/schema/events.ts";
import { ExecutionReport } from "../shared/schema/execution.ts";
import { ExecuteRequest } from "../shared/schema/requests.ts";
import { PreferencePair, RunList, RunListQuery } from "../shared/schema/runs.ts";
import { SelectRequest, SelectResult, SolveRequest, SolveResult } from "../shared/schema/solve.ts";

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

/** One literal document (long by nature: every route with its schemas), built once per app. */
export function buildOpenApiDocument(version: string): Record<string, unknown> {
  return {
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
      "/v1/solve": {
        post: {
          summary: "The agent: sample, run with traces, revise, select",
          description:
            "JSON by default; Server-Sent Events when `stream` is true or the request accepts text/event-stream. " +
            "Each SSE message: `event:` the event type, `id:` its per-run id, `data:` the event (components/schemas/RunEvent).",
          requestBody: { required: true, ...jsonBody(SolveRequest, "input") },
          responses: {
            "200": {
              description: "the run's result, or its events",
              content: {
                "application/json": { schema: schema(SolveResult, "output") },
                "text/event-stream": { schema: schema(RunEvent, "output") },
              },
            },
            "400": { description: "invalid request; error.field names the field", ...jsonBody(ErrorResponse, "output") },
            "503": { description: "no language model configured", ...jsonBody(ErrorResponse, "output") },
          },
        },
      },
      "/v1/select": {
        post: {
          summary: "Rank programs the client already has: execution agreement, an LLM judge, the reward model",
          requestBody: { required: true, ...jsonBody(SelectRequest, "input") },
          responses: {
            "200": { description: "the ranking", ...jsonBody(SelectResult, "output") },
            "400": { description: "invalid request; error.field names the field", ...jsonBody(ErrorResponse, "output") },
            "503": { description: "the reward model was asked for and none is loaded", ...jsonBody(ErrorResponse, "output") },
          },
        },
      },
      "/v1/runs": {
        get: {
          summary: "The kept runs, newest first",
          parameters: Object.entries((schema(RunListQuery, "input")["properties"] ?? {}) as Record<string, Record<string, unknown>>).map(
            ([name, property]) => ({ name, in: "query", required: false, schema: property }),
          ),
          responses: {
            "200": { description: "the runs", ...jsonBody(RunList, "output") },
            "400": { description: "invalid query; error.field names the field", ...jsonBody(ErrorResponse, "output") },
          },
        },
      },
      "/v1/runs/{id}/preferences": {
        get: {
          summary: "The run's preference pairs by the ETA rules, as JSON Lines in TRL's DPO format",
          parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
          responses: {
            "200": { description: "one pair per line", content: { "application/x-ndjson": { schema: schema(PreferencePair, "output") } } },
            "404": { description: "no such run", ...jsonBody(ErrorResponse, "output") },
            "409": { description: "the run has not ended yet", ...jsonBody(ErrorResponse, "output") },
          },
        },
      },
      "/v1/runs/{id}": {
        get: {
          summary: "A run's state and, once it ended, its result",
          parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
          responses: { "200": { description: "the run" }, "404": { description: "no such run", ...jsonBody(ErrorResponse, "output") } },
        },
      },
      "/v1/runs/{id}/events": {
        get: {
          summary: "A run's events as Server-Sent Events: the stored ones, then live ones until it ends",
          parameters: [
            { name: "id", in: "path", required: true, schema: { type: "string" } },
            { name: "Last-Event-ID", in: "header", required: false, schema: { type: "integer" }, description: "resume after this event" },
          ],
          responses: { "200": { description: "text/event-stream", content: { "text/event-stream": { schema: schema(RunEvent, "output") } } } },
        },
      },
      "/healthz": {
        get: {
          summary: "Sandbox isolation, interpreter, workers; the reward model, the repair search's order (policy model or hand) and where they run",
          responses: { "200": { description: "health" } },
        },
      },
    },
  };
}
