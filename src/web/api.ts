/**
 * The playground's calls to the server: the same public API every client
 * uses (POST /v1/solve streamed, the runs API), read with the shared SSE
 * parser and checked against the shared event schema.
 */
import type { RunEvent } from "../shared/schema/events.ts";
import type { RunList } from "../shared/schema/runs.ts";
import { sseMessages } from "../shared/sse.ts";

/** An error answer of the server, in its one error body shape. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly field: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

async function failure(response: Response): Promise<ApiError> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string; field?: string; details?: { field?: string } } };
    // A 400 names its field; a refusal of a well-formed problem (422 model_required) names it in its details.
    const field = body.error?.field ?? body.error?.details?.field;
    if (body.error?.message !== undefined) return new ApiError(response.status, body.error.code ?? "error", field, body.error.message);
  } catch {
    // Not the error body: say what came back.
  }
  return new ApiError(response.status, "http_error", undefined, `HTTP ${response.status}: ${text.slice(0, 300)}`);
}

async function* eventsOf(response: Response): AsyncGenerator<RunEvent> {
  if (!response.ok) throw await failure(response);
  if (response.body === null) return;
  // The server's own events, typed by the shared schema (not parsed with it: that would put zod in the page).
  for await (const message of sseMessages(response.body)) yield JSON.parse(message.data) as RunEvent;
}

/** Starts a run and yields its events as they happen; aborting `signal` disconnects (the server cancels the run). */
export async function* solve(body: Record<string, unknown>, signal: AbortSignal): AsyncGenerator<RunEvent> {
  const response = await fetch("/v1/solve", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify({ ...body, stream: true }),
    signal,
  });
  yield* eventsOf(response);
}

/** A kept run's events after `afterId`: a finished run's replay, or the rest of a live one as it happens. */
export async function* runEvents(runId: string, afterId: number, signal: AbortSignal): AsyncGenerator<RunEvent> {
  const response = await fetch(`/v1/runs/${encodeURIComponent(runId)}/events`, { headers: { "last-event-id": String(afterId) }, signal });
  yield* eventsOf(response);
}

export async function listRuns(): Promise<RunList["runs"]> {
  const response = await fetch("/v1/runs?limit=50");
  if (!response.ok) throw await failure(response);
  return ((await response.json()) as RunList).runs;
}

export function preferencesUrl(runId: string): string {
  return `/v1/runs/${encodeURIComponent(runId)}/preferences`;
}
