/**
 * What the policy model is trained and measured on (npm run policy:data,
 * npm run bench:policy): a dataset's reference program, mutated by ONE edit
 * the sandbox's own editor proposes for it (Executor.edits, every line a
 * site), kept when it still parses and fails a test; then the repair
 * search's candidate edits of that mutant (editCandidates: fault
 * localisation from its traces, the edits of its most suspicious lines),
 * each labelled 1 when it turns the mutant back into the reference (the
 * inverse edit), else 0. Deterministic for a seed, up to timing (a mutant
 * near a time limit may pass or fail).
 */
import { editCandidates, editFeatures, handScore, type PolicyProblem, type RankedEdit } from "../policy/index.ts";
import type { Executor } from "../sandbox/index.ts";
import type { Edit, EditOperator } from "../shared/schema/edits.ts";
import { Limits, type TestSpec } from "../shared/schema/execution.ts";
import { buildJob } from "../shared/schema/requests.ts";

/** Per test while mutating and localising: dataset references take milliseconds; a mutant that loops costs this. */
export const MUTANT_LIMITS = Limits.parse({ timeout_ms: 1_000, total_ms: 10_000 });
/** Edits asked of the editor for the reference: every edit of a short program. */
const MUTATION_EDITS = 5_000;
/** Sites the edit contract takes. */
const MAX_SITES = 500;
/**
 * Mutations no single edit of the editor undoes (a deleted statement is not
 * re-inserted, a replaced return expression not restored): measured on 40
 * MBPP and 39 QuixBugs references, 0 of 26 and 0 of 10 such mutants had
 * their fix among even 5,000 edits. They would only be dropped later, so
 * they are not drawn.
 */
export const NOT_UNDONE_BY_ONE_EDIT: readonly EditOperator[] = ["delete_statement", "return_value"];

export interface Mutant {
  readonly code: string;
  /** The operator of the edit that made it (not of its fix). */
  readonly operator: EditOperator;
  readonly line: number;
}

export interface CandidateGroup {
  readonly edits: readonly RankedEdit[];
  /** One row of POLICY_FEATURE_COUNT floats per edit, rounded to 1e-6, in the editor's order. */
  readonly features: number[][];
  /** 1: the edit's program is the reference (whitespace at line ends aside). */
  readonly labels: number[];
  /** 1-based position of the first fix under the hand order (ties: the editor's order); undefined without a fix. */
  readonly handRankOfFix: number | undefined;
}

export function policyProblem(tests: readonly TestSpec[], entryPoint: string | undefined, prompt = ""): PolicyProblem {
  return { language: "python", prompt, entryPoint, tests, limits: MUTANT_LIMITS };
}

/** Programs compared as text, whitespace at line ends and trailing blank lines aside. */
export function normaliseCode(code: string): string {
  return code
    .split(/\r\n|\r|\n/)
    .map((line) => line.trimEnd())
    .join("\n")
    .trimEnd();
}

/** A small deterministic generator seeded by a key and a number (mulberry32 over a string hash). */
export function seededRandom(key: string, seed: number): () => number {
  let state = [...key].reduce((hash, character) => (Math.imul(hash, 31) + character.charCodeAt(0)) | 0, seed | 0);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** 1-based rank of the first labelled candidate when tried by score, highest first, ties in the given order. */
export function rankOfFix(scores: readonly number[], labels: readonly number[]): number | undefined {
  const order = scores.map((score, index) => ({ score, index })).sort((left, right) => right.score - left.score || left.index - right.index);
  const position = order.findIndex((entry) => labels[entry.index] === 1);
  return position < 0 ? undefined : position + 1;
}

/** Does the program pass every test (the reference must, or the problem is skipped)? */
export async function passesAll(executor: Executor, problem: PolicyProblem, code: string, signal: AbortSignal): Promise<boolean> {
  const report = await executor.execute(buildJob({ language: "python", code, entryPoint: problem.entryPoint, tests: problem.tests, trace: { mode: "none" }, limits: problem.limits }), {
    signal,
  });
  return report.status === "passed";
}

/**
 * Up to `count` buggy mutants of `reference`: each ONE edit from the
 * sandbox's editor over every line, drawn by the seeded generator — an
 * operator first (uniformly among those the program offers, less
 * NOT_UNDONE_BY_ONE_EDIT), then one of its edits — and kept when the mutant
 * parses and fails at least one test.
 * At most `count × tries` draws.
 */
export async function mutantsOf(
  executor: Executor,
  problem: PolicyProblem,
  reference: string,
  options: { readonly count: number; readonly seed: number; readonly key: string; readonly signal: AbortSignal; readonly tries?: number },
): Promise<{ mutants: Mutant[]; draws: number }> {
  const lines = reference.split("\n").length;
  const sites = Array.from({ length: Math.min(lines, MAX_SITES) }, (_, index) => ({ line: index + 1, suspiciousness: 1 }));
  const edits: readonly Edit[] = await executor.edits("python", { code: reference, sites, limit: MUTATION_EDITS }, { signal: options.signal });
  const byOperator = new Map<EditOperator, Edit[]>();
  const target = normaliseCode(reference);
  for (const edit of edits) {
    if (normaliseCode(edit.code) === target || NOT_UNDONE_BY_ONE_EDIT.includes(edit.operator)) continue;
    byOperator.set(edit.operator, [...(byOperator.get(edit.operator) ?? []), edit]);
  }
  const random = seededRandom(options.key, options.seed);
  const mutants: Mutant[] = [];
  const seen = new Set<string>();
  let draws = 0;
  const maxDraws = options.count * (options.tries ?? 4);
  while (mutants.length < options.count && draws < maxDraws && byOperator.size > 0) {
    draws += 1;
    const operators = [...byOperator.keys()];
    const operator = operators[Math.floor(random() * operators.length)] as EditOperator;
    const pool = byOperator.get(operator) as Edit[];
    const [edit] = pool.splice(Math.floor(random() * pool.length), 1) as [Edit];
    if (pool.length === 0) byOperator.delete(operator);
    const key = normaliseCode(edit.code);
    if (seen.has(key)) continue;
    seen.add(key);
    const report = await executor.execute(
      buildJob({ language: "python", code: edit.code, entryPoint: problem.entryPoint, tests: problem.tests, trace: { mode: "none" }, limits: problem.limits }),
      { signal: options.signal },
    );
    // A sandbox failure tells nothing; a syntax error does not happen (edits parse) but would not be a bug of the kind searched for.
    if (report.status !== "failed" || report.tests.some((test) => test.status === "syntax_error")) continue;
    mutants.push({ code: edit.code, operator: edit.operator, line: edit.line });
  }
  return { mutants, draws };
}

const round = (value: number): number => Math.round(value * 1e6) / 1e6;

/** The repair search's candidates for a mutant, with their features and labels; undefined when the mutant could not be run. */
export async function candidateGroup(
  executor: Executor,
  problem: PolicyProblem,
  mutant: string,
  reference: string,
  options: { readonly limit: number; readonly signal: AbortSignal },
): Promise<CandidateGroup | undefined> {
  const found = await editCandidates({ code: mutant, problem, executor, signal: options.signal, limit: options.limit });
  if (found === undefined) return undefined;
  const target = normaliseCode(reference);
  const labels = found.edits.map((ranked) => (normaliseCode(ranked.edit.code) === target ? 1 : 0));
  const features = found.edits.map((ranked) => Array.from(editFeatures(ranked), round));
  return { edits: found.edits, features, labels, handRankOfFix: rankOfFix(found.edits.map(handScore), labels) };
}
