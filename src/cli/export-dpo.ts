/**
 * Preference data from a running tracefix server's kept runs, for DPO:
 *
 *   tracefix export-dpo [--server URL] [--runs ID,ID,...] [--status solved|unsolved|failed] [--limit N] [--out FILE]
 *   (npm run dpo:export -- … is the same command)
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

async function fetchJson(url: string): Promise<unknown> {
  const response = await fetch(url);
  const body = await response.text();
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}: ${body.slice(0, 300)}`);
  return JSON.parse(body) as unknown;
}

async function runIds(server: string): Promise<string[]> {
  const named = option("runs");
  const status = option("status");
  const limit = option("limit", "1000");
  if (named !== undefined) return named.split(",").map((id) => id.trim()).filter((id) => id !== "");
  const query = new URLSearchParams({ limit });
  if (status !== undefined) query.set("status", status);
  const list = RunList.parse(await fetchJson(`${server}/v1/runs?${query.toString()}`));
  return list.runs.filter((run) => run.status !== "running").map((run) => run.run_id);
}

/** Writes the pairs; 0 when some run was exported (or none was asked for), 1 when every one was skipped. */
export async function exportDpo(server: string): Promise<number> {
  const out = option("out");
  const ids = await runIds(server);
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
  return exported === 0 && ids.length > 0 ? 1 : 0;
}
