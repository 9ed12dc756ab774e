/**
 * The playground at `/`: a problem form, the run drawn live from its
 * events, and the runs the server keeps (replayed from their events).
 * Everything goes through the public API; nothing here is a second path.
 */
import type { RunEvent } from "../shared/schema/events.ts";
import { ApiError, listRuns, runEvents, solve } from "./api.ts";
import { byId, h } from "./dom.ts";
import { fillExample, FormError, setUpForm, solveBody } from "./problem-form.ts";
import { RunView } from "./run-view.ts";

/** Which input a server error's `field` is about (longest prefix first). */
const FIELD_INPUTS: readonly (readonly [string, string])[] = [
  ["problem.hidden_tests", "hidden-tests"],
  ["problem.entry_point", "entry-point"],
  ["problem.language", "language"],
  ["problem.prompt", "prompt"],
  ["problem.tests", "tests"],
  ["problem.code", "code"],
  ["trace", "trace-format"],
  ["strategy", "strategy"],
  ["policy", "policy"],
  ["rounds", "rounds"],
  ["n", "n"],
];

/** Resuming a live run after the connection dropped: tries, and the pause before each. */
const RESUME_TRIES = 3;
const RESUME_PAUSE_MS = 500;

const form = byId<HTMLFormElement>("problem-form");
const solveButton = byId<HTMLButtonElement>("solve");
const stopButton = byId<HTMLButtonElement>("stop");
const errorBox = byId("error");
const runRoot = byId("run");
const runStatus = byId("run-status");
const history = byId("history-list");

let streaming: AbortController | undefined;

function showError(error: unknown): void {
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  if (error === undefined) {
    errorBox.replaceChildren();
    errorBox.hidden = true;
    return;
  }
  let text: string;
  let input: string | undefined;
  if (error instanceof ApiError) {
    input = FIELD_INPUTS.find(([field]) => error.field === field || error.field?.startsWith(`${field}.`) === true)?.[1];
    text = `${error.code}${error.field === undefined ? "" : ` (${error.field})`}: ${error.message}`;
  } else if (error instanceof FormError) {
    text = error.message;
    input = form.querySelector<HTMLElement>(`[data-label="${error.label}"]`)?.id;
  } else text = `The server could not be reached: ${(error as Error).message}`;
  if (input !== undefined) byId(input).setAttribute("aria-invalid", "true");
  errorBox.replaceChildren(h("strong", {}, "Not started. "), text);
  errorBox.hidden = false;
}

function setRunning(running: boolean): void {
  solveButton.disabled = running;
  stopButton.disabled = !running;
  for (const button of history.querySelectorAll("button")) button.disabled = running;
}

async function draw(view: RunView, events: AsyncGenerator<RunEvent>): Promise<void> {
  for await (const event of events) view.apply(event);
}

/** Follows the rest of a run whose stream broke, from the last event drawn. */
async function resume(view: RunView, signal: AbortSignal): Promise<boolean> {
  for (let attempt = 1; attempt <= RESUME_TRIES && view.runId !== undefined && !view.ended; attempt += 1) {
    view.interrupted(`Connection lost: resuming after event ${view.lastEventId} (try ${attempt} of ${RESUME_TRIES})…`);
    await new Promise((resolve) => setTimeout(resolve, RESUME_PAUSE_MS));
    try {
      await draw(view, runEvents(view.runId, view.lastEventId, signal));
    } catch {
      if (signal.aborted) return false;
      continue;
    }
    if (view.ended) return true;
  }
  return view.ended;
}

/** After Stop: the server cancels the run; its last events (run.failed, cancelled) are read back and drawn. */
async function stopped(view: RunView): Promise<void> {
  view.interrupted("Stopped: the connection was closed, and the server cancels the run.");
  if (view.runId === undefined) return;
  try {
    await draw(view, runEvents(view.runId, view.lastEventId, AbortSignal.timeout(RESUME_PAUSE_MS * 20)));
  } catch {
    // The run's end could not be read: "Stopped" stands.
  }
}

async function startSolve(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  showError(undefined);
  let body: Record<string, unknown>;
  try {
    body = solveBody();
  } catch (error) {
    return showError(error);
  }
  const controller = new AbortController();
  streaming = controller;
  setRunning(true);
  const view = new RunView(runRoot, runStatus);
  runStatus.textContent = "Starting…";
  try {
    await draw(view, solve(body, controller.signal));
  } catch (error) {
    if (controller.signal.aborted) await stopped(view);
    else if (error instanceof ApiError || view.runId === undefined) {
      runStatus.textContent = "";
      showError(error);
    } else if (!(await resume(view, controller.signal))) view.interrupted(`The stream broke and could not be resumed: ${(error as Error).message}`);
  } finally {
    streaming = undefined;
    setRunning(false);
    void refreshHistory();
  }
}

async function replay(runId: string): Promise<void> {
  showError(undefined);
  const controller = new AbortController();
  streaming = controller;
  const view = new RunView(runRoot, runStatus);
  runStatus.textContent = `Replaying ${runId}…`;
  try {
    await draw(view, runEvents(runId, 0, controller.signal));
  } catch (error) {
    if (!controller.signal.aborted) showError(error);
  } finally {
    if (streaming === controller) streaming = undefined;
  }
}

async function refreshHistory(): Promise<void> {
  let runs;
  try {
    runs = await listRuns();
  } catch {
    return; // the list is a convenience: the run itself already said what went wrong
  }
  history.replaceChildren(
    ...runs.map((run) => {
      const button = h("button", { type: "button", "data-run": run.run_id }, `${run.run_id} · ${run.status} · ${run.strategy} · ${new Date(run.created_at).toLocaleTimeString()}`);
      button.disabled = solveButton.disabled; // no replay while a solve streams
      button.addEventListener("click", () => void replay(run.run_id));
      return h("li", { "data-status": run.status }, button);
    }),
  );
  if (runs.length === 0) history.append(h("li", {}, "No runs yet."));
}

async function showServer(): Promise<void> {
  const health = (await (await fetch("/healthz")).json()) as { version?: string; runs?: { model_configured?: boolean } };
  const model = health.runs?.model_configured === true ? "language model configured" : "no language model: the built-in repair search fixes a given program";
  byId("server-status").textContent = `v${health.version ?? "?"} · ${model}`;
}

setUpForm();
form.addEventListener("submit", (event) => void startSolve(event));
stopButton.addEventListener("click", () => streaming?.abort());
byId("example").addEventListener("click", () => fillExample());
byId("refresh").addEventListener("click", () => void refreshHistory());
void showServer().catch(() => undefined);
void refreshHistory();
