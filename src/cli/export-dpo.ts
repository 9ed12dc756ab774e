/**
 * Preference data from a tracefix server's run store, for DPO:
 *
 *   tracefix export-dpo [--server URL] [--runs ID,ID,...] [--status solved|unsolved|failed] [--since ISO] [--until ISO] [--out FILE]
 *   (npm run dpo:export -- … is the same command)
 *
 * Without --runs: every finished run in the store's whole history (--status,
 * --since, --until narrow them), streamed from GET /v1/preferences. With
 * --runs: those runs' GET /v1/runs/{id}/preferences; a run that is missing
 * or still going is reported and skipped, the export goes on. Pairs are
 * written one JSON object per line (TRL's {prompt, chosen, rejected} plus
 * rule, run_id and the candidate ids) to FILE or standard output; a summary
 * goes to standard error.
 */
import { createWriteStream } from "node:fs";

import { PreferencePair } from "../shared/schema/runs.ts";
import { bodyPieces } from "../shared/sse.ts";
import { option } from "./options.ts";

interface Tally {
  pairs: number;
  runs: Set<string>;
  readonly byRule: Map<string, number>;
  readonly skipped: string[];
}

/** Writes the pairs of one JSON Lines body, each checked against the shared schema (a server of another version fails loudly). */
async function copyPairs(response: Response, output: NodeJS.WritableStream, tally: Tally): Promise<void> {
  for await (const line of bodyPieces(response.body as ReadableStream<Uint8Array>, "\n")) {
    if (line === "") continue;
    const pair = PreferencePair.parse(JSON.parse(line));
    output.write(`${JSON.stringify(pair)}\n`);
    tally.pairs += 1;
    tally.runs.add(pair.run_id);
    tally.byRule.set(pair.rule, (tally.byRule.get(pair.rule) ?? 0) + 1);
  }
}

async function fromStore(server: string, output: NodeJS.WritableStream, tally: Tally): Promise<void> {
  const query = new URLSearchParams();
  for (const name of ["status", "since", "until"]) {
    const value = option(name);
    if (value !== undefined) query.set(name, value);
  }
  const response = await fetch(`${server}/v1/preferences?${query.toString()}`);
  if (!response.ok) throw new Error(`GET /v1/preferences: HTTP ${response.status}: ${(await response.text()).slice(0, 300)}`);
  await copyPairs(response, output, tally);
}

async function fromRuns(server: string, ids: readonly string[], output: NodeJS.WritableStream, tally: Tally): Promise<void> {
  for (const id of ids) {
    const response = await fetch(`${server}/v1/runs/${encodeURIComponent(id)}/preferences`);
    if (!response.ok) {
      tally.skipped.push(`${id} (HTTP ${response.status}: ${(await response.text()).slice(0, 200)})`);
      continue;
    }
    tally.runs.add(id);
    await copyPairs(response, output, tally);
  }
}

/** Writes the pairs; 0 when something was exported (or nothing was asked for), 1 when every named run was skipped. */
export async function exportDpo(server: string): Promise<number> {
  const out = option("out");
  const named = option("runs")?.split(",").map((id) => id.trim()).filter((id) => id !== "");
  const output = out === undefined ? process.stdout : createWriteStream(out);
  const tally: Tally = { pairs: 0, runs: new Set(), byRule: new Map(), skipped: [] };
  if (named === undefined) await fromStore(server, output, tally);
  else await fromRuns(server, named, output, tally);
  if (output !== process.stdout) await new Promise<void>((resolve, reject) => (output as ReturnType<typeof createWriteStream>).end((error?: Error | null) => (error ? reject(error) : resolve())));
  const rules = [...tally.byRule].map(([rule, count]) => `${rule} ${count}`).join(", ");
  process.stderr.write(`${tally.pairs} pairs from ${tally.runs.size} runs${rules === "" ? "" : ` (${rules})`}${out === undefined ? "" : ` → ${out}`}\n`);
  for (const entry of tally.skipped) process.stderr.write(`skipped ${entry}\n`);
  return named !== undefined && named.length > 0 && tally.runs.size === 0 ? 1 : 0;
}
