/**
 * The command line (`npx tracefix …`, bin/tracefix.mjs):
 *
 *   tracefix solve problem.json [--n N] [--rounds R] [--policy P] [--strategy S] [--format F] [--json]
 *   tracefix execute request.json
 *   tracefix select request.json [--json]
 *   tracefix runs
 *   tracefix export-dpo [--runs ID,ID] [--status S] [--limit N] [--out FILE]
 *
 * `--server URL` (or TRACEFIX_URL) talks to a running server. Without it,
 * `solve`, `execute` and `select` start the same server `npm start` runs
 * (src/server/compose.ts) on a loopback port for themselves; `runs` and
 * `export-dpo` read what a server has kept, so they ask the one at the
 * configured address (HOST:PORT, 127.0.0.1:8787 by default). `solve` reads
 * a /v1/solve body, or only its `problem`, and streams the run: on a
 * terminal one status line rewritten as events arrive (round, candidates
 * run, best so far, the edit being tried) and a line per round; piped, one
 * line per event; `--json` prints only the final event. Exit codes: 0
 * solved (or passed, or the pick passes its public tests), 1 unsolved (or
 * failed), 2 error.
 */
import { readFileSync } from "node:fs";

import { toolCallText } from "../shared/tool-text.ts";
import { startLoopbackServer, type LoopbackServer } from "../server/compose.ts";
import { loadConfig } from "../shared/config.ts";
import { silentLogger } from "../shared/logger.ts";
import { RunEvent } from "../shared/schema/events.ts";
import { SelectResult, type RankedCandidate } from "../shared/schema/solve.ts";
import { sseMessages } from "../shared/sse.ts";
import { exportDpo } from "./export-dpo.ts";
import { option } from "./options.ts";

const EXIT = { solved: 0, unsolved: 1, error: 2 } as const;

class UsageError extends Error {}

type Server = LoopbackServer;

/** Commands that read the runs a server keeps: an embedded server would have none. */
const READS_KEPT_RUNS = new Set(["runs", "export-dpo"]);

/** The server named by --server, the configured one for commands that read kept runs, else one of our own on a loopback port. */
async function connect(command: string): Promise<Server> {
  const named = option("server") ?? process.env["TRACEFIX_URL"];
  if (named !== undefined) return { url: named.replace(/\/$/, ""), close: async () => undefined };
  const config = loadConfig();
  if (READS_KEPT_RUNS.has(command)) return { url: `http://${config.host}:${config.port}`, close: async () => undefined };
  // The embedded server's runs end with the command: kept in memory, never in the state directory a running server holds.
  return startLoopbackServer({ ...config, store: { kind: "memory", retention: config.store.retention } }, silentLogger);
}

function readJson(file: string | undefined): Record<string, unknown> {
  if (file === undefined) throw new UsageError("name a JSON file");
  const value: unknown = JSON.parse(readFileSync(file, "utf8"));
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new UsageError(`${file} holds no JSON object`);
  return value as Record<string, unknown>;
}

/** The /v1/solve body: the file's (or the file as its problem), the flags on top, streamed. */
function solveBody(file: string | undefined): Record<string, unknown> {
  const read = readJson(file);
  const body: Record<string, unknown> = "problem" in read ? { ...read } : { problem: read };
  for (const name of ["n", "rounds"]) {
    const value = option(name);
    if (value !== undefined) body[name] = Number(value);
  }
  for (const name of ["policy", "strategy"]) {
    const value = option(name);
    if (value !== undefined) body[name] = value;
  }
  const format = option("format");
  if (format !== undefined) body["trace"] = { ...(body["trace"] as object | undefined), format };
  return { ...body, stream: true };
}

async function post(server: Server, path: string, body: unknown): Promise<Response> {
  const response = await fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
  return response;
}

async function* runEvents(response: Response): AsyncGenerator<RunEvent> {
  for await (const message of sseMessages(response.body as ReadableStream<Uint8Array>)) yield RunEvent.parse(JSON.parse(message.data));
}

/** One line saying what an event is. */
function describe(event: RunEvent): string {
  switch (event.type) {
    case "run.started":
      return `run ${event.run_id}: ${event.policy} policy, ${event.strategy}, n ${event.n}, ${event.rounds} rounds`;
    case "round.started":
      return `round ${event.round} (${event.mode})`;
    case "candidate.generated":
      return `  ${event.candidate} from ${event.source}: ${event.description}`;
    case "candidate.executed":
      return `  ${event.candidate} ${event.status} ${event.passed}/${event.total}`;
    case "tool.called":
      return `  agent ${event.agent} #${event.call} ${toolCallText(event.tool, event.arguments)}`;
    case "tool.completed":
      return `  agent ${event.agent} #${event.call} ${event.tool} ${event.status} in ${Math.round(event.duration_ms)} ms: ${event.result.split("\n")[0]}`;
    case "round.completed":
      return `round ${event.round} ${event.solved ? "solved" : "not solved"}${event.best === null ? "" : `, best ${event.best.candidate} ${event.best.passed}/${event.best.total}`}`;
    case "run.completed":
      return `${event.status}${event.hidden === null ? "" : `, hidden tests ${event.hidden.passed}/${event.hidden.total}`}\n${event.solution?.code ?? ""}`;
    case "run.failed":
      return `failed: ${event.error.code}: ${event.error.message}`;
    default:
      return event.type;
  }
}

/** On a terminal: one status line for the round going on, rewritten in place. */
class Progress {
  private round = 0;
  private run = 0;
  private proposed = 0;
  private best = "";
  private current = "";

  update(event: RunEvent): string | undefined {
    if (event.type === "round.started") Object.assign(this, { round: event.round, run: 0, proposed: 0, current: "" });
    else if (event.type === "candidate.generated") {
      this.proposed += 1;
      if (event.edit !== undefined) this.current = `line ${event.edit.line}: ${event.edit.before} → ${event.edit.after}`;
    } else if (event.type === "candidate.executed") {
      this.run += 1;
      if (this.best === "" || event.passed > Number(this.best.split("/")[0])) this.best = `${event.passed}/${event.total}`;
    } else return undefined;
    return `round ${this.round} · ${this.run}/${this.proposed} run · best ${this.best || "-"}${this.current === "" ? "" : ` · ${this.current}`}`;
  }
}

async function solve(server: Server, file: string | undefined): Promise<number> {
  const response = await post(server, "/v1/solve", solveBody(file));
  const json = process.argv.includes("--json");
  const tty = process.stdout.isTTY === true && !json;
  const progress = new Progress();
  let exit: number = EXIT.error;
  for await (const event of runEvents(response)) {
    if (event.type === "run.completed") exit = event.status === "solved" ? EXIT.solved : EXIT.unsolved;
    const terminal = event.type === "run.completed" || event.type === "run.failed";
    if (json) {
      if (terminal) process.stdout.write(`${JSON.stringify(event)}\n`);
    } else if (tty) {
      const status = progress.update(event);
      if (status !== undefined) process.stdout.write(`\r\x1b[2K${status.slice(0, process.stdout.columns - 1)}`);
      else process.stdout.write(`\r\x1b[2K${describe(event)}\n`);
    } else process.stdout.write(`${describe(event)}\n`);
  }
  return exit;
}

async function execute(server: Server, file: string | undefined): Promise<number> {
  const report = (await (await post(server, "/v1/execute", readJson(file))).json()) as { status: string };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return report.status === "passed" ? EXIT.solved : EXIT.unsolved;
}

async function listRuns(server: Server): Promise<number> {
  const response = await fetch(`${server.url}/v1/runs`);
  process.stdout.write(`${await response.text()}\n`);
  return response.ok ? EXIT.solved : EXIT.error;
}

/** One line per ranked candidate, best first. */
function rankingLine(entry: RankedCandidate, position: number): string {
  const cluster = entry.cluster === null ? "no program" : `cluster ${entry.cluster}`;
  return `${position + 1}. candidate ${entry.index} · score ${entry.score.toFixed(3)} · ${cluster} · public ${entry.public.passed}/${entry.public.total}${entry.reasons.length === 0 ? "" : ` · ${entry.reasons.join("; ")}`}`;
}

async function select(server: Server, file: string | undefined): Promise<number> {
  const result = SelectResult.parse(await (await post(server, "/v1/select", readJson(file))).json());
  if (process.argv.includes("--json")) process.stdout.write(`${JSON.stringify(result)}\n`);
  else process.stdout.write(`selected by ${result.judge.method}${result.judge.fallback === null ? "" : ` (${result.judge.fallback})`}, ${result.inputs.total} synthesized inputs\n${result.ranking.map(rankingLine).join("\n")}\n`);
  const best = result.ranking[0];
  return best !== undefined && best.public.total > 0 && best.public.passed === best.public.total ? EXIT.solved : EXIT.unsolved;
}

const COMMANDS: Record<string, (server: Server, file: string | undefined) => Promise<number>> = {
  solve,
  execute,
  select,
  runs: listRuns,
  "export-dpo": async (server) => exportDpo(server.url),
};

async function main(): Promise<number> {
  const [command, file] = process.argv.slice(2);
  const run = command === undefined ? undefined : COMMANDS[command];
  if (command === undefined || run === undefined) throw new UsageError(`usage: tracefix ${Object.keys(COMMANDS).join("|")} [file.json] [--server URL] (see src/cli/tracefix.ts)`);
  const server = await connect(command);
  try {
    return await run(server, file);
  } finally {
    await server.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`tracefix: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(EXIT.error);
  },
);
