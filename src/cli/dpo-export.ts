/**
 * Preference data from a running tracefix server's kept runs, for DPO:
 *
 *   npm run dpo:export -- [--server URL] [--runs ID,ID,...] [--status solved|unsolved|failed] [--limit N] [--out FILE]
 *
 * Without --runs, every finished run the server keeps (newest first, at most
 * --limit, default 1000; --status narrows them). Each run's pairs come from
 * GET /v1/runs/{id}/preferences; they are written one JSON object per line
 * (TRL's {prompt, chosen, rejected} plus rule, run_id and the candidate ids)
 * to FILE or standard output. A summary goes to standard error. A run that
 * is missing or still going is reported and skipped; the export goes on.
 */
import { createWriteStream } from "node:fs";

import { PreferencePair, RunList } from "../shared/schema/runs.ts";
import { option } from "./options.ts";

const server = (option("server") ?? process.env["TRACEFIX_URL"] ?? "http://127.0.0.1:8787").replace(/\/$/, "");
const named = option("runs");
const status = option("status");
const limit = option("limit", "1000");
const out = option("out");

async function fetchJson(url: string): Promise<unknown> {
  const response = await fetch(url);
  const body = await response.text();
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}: ${body.slice(0, 300)}`);
  return JSON.parse(body) as unknown;
}

async function runIds(): Promise<string[]> {
  if (named !== undefined) return named.split(",").map((id) => id.trim()).filter((id) => id !== "");
  const query = new URLSearchParams({ limit });
  if (status !== undefined) query.set("status", status);
  const list = RunList.parse(await fetchJson(`${server}/v1/runs?${query.toString()}`));
  return list.runs.filter((run) => run.status !== "running").map((run) => run.run_id);
}

async function main(): Promise<void> {
  const ids = await runIds();
  const output = out === undefined ? process.stdout : createWriteStream(out);
  const byRule = new Map<string, number>();
  let pairs = 0;
  let exported = 0;
  const skipped: string[] = [];
  for (const id of ids) {
    const response = await fetch(`${server}/v1/runs/${encodeURIComponent(id)}/preferences`);
    const body = await response.text();
    if (!response.ok) {
      skipped.push(`${id} (HTTP ${response.status}: ${body.slice(0, 200)})`);
      continue;
    }
    exported += 1;
    for (const line of body.split("\n")) {
      if (line === "") continue;
      // Checked against the shared schema: a server of another version fails loudly here.
      const pair = PreferencePair.parse(JSON.parse(line));
      output.write(`${JSON.stringify(pair)}\n`);
      pairs += 1;
      byRule.set(pair.rule, (byRule.get(pair.rule) ?? 0) + 1);
    }
  }
  if (output !== process.stdout) await new Promise<void>((resolve, reject) => output.end((error?: Error | null) => (error ? reject(error) : resolve())));
  const rules = [...byRule].map(([rule, count]) => `${rule} ${count}`).join(", ");
  process.stderr.write(`${pairs} pairs from ${exported} runs${rules === "" ? "" : ` (${rules})`}${out === undefined ? "" : ` → ${out}`}\n`);
  for (const entry of skipped) process.stderr.write(`skipped ${entry}\n`);
  if (exported === 0 && ids.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`dpo-export: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
