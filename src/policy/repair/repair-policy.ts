/**
 * The built-in repair policy (architecture/repair.md): no model. Each round
 * it takes the best programs of the run so far (the beam: the given
 * program in round 2, then the best partial fixes by the ETA order), traces
 * each on every public test, localises the fault from the traces, asks the
 * sandbox for edits of the most suspicious lines first, orders them (hand
 * order or the policy model) and proposes the first `k` programs not yet
 * tried. It plans the whole round: chain i runs proposal i.
 */
import type { Executor } from "../../sandbox/index.ts";
import { describeEdit, type EditSite } from "../../shared/schema/edits.ts";
import type { ExecutionReport, Language } from "../../shared/schema/execution.ts";
import { buildJob } from "../../shared/schema/requests.ts";
import { NO_USAGE } from "../model.ts";
import type { Attempt, Policy, PolicyProblem, ProposeRequest, ProposeResult, Proposal } from "../policy.ts";
import { answerCloseness } from "./closeness.ts";
import { lineFacts, localize } from "./localize.ts";
import { HAND_ORDER, type EditOrder, type RankedEdit } from "./order.ts";

export interface RepairPolicyOptions {
  /** How edits are ordered; the hand order when no policy model is loaded. */
  readonly order?: EditOrder | undefined;
  /** Programs each round builds on (round 2: only the given one). */
  readonly beam?: number | undefined;
}

const DEFAULT_BEAM = 4;
/** Sites sent to the editor (the contract's bound). */
const MAX_SITES = 500;
/**
 * Edits asked for per parent, relative to the round's share. The editor
 * gives every edit of the most suspicious line before the next line's, so
 * the pool must hold many lines for the order to choose from: with 3× the
 * round, QuixBugs' fixes on less suspicious lines were never reached (28/40
 * repaired), with 10× 30/40 (bench:repair, 2026-12-04).
 */
const EDIT_HEADROOM = 10;
const MIN_EDITS_PER_PARENT = 60;
/** Localisation needs line coverage, not values: a short head and small reprs. */
const LOCALIZE_TRACE = { mode: "all", format: "none", max_events: 2_000, repr_limit: 40 } as const;

interface Parent {
  readonly attempt: Attempt & { readonly code: string };
  readonly rank: number;
}

/** A program to edit and where it stands in the round's beam. */
export interface EditTarget {
  readonly code: string;
  readonly problem: PolicyProblem;
  readonly executor: Executor;
  readonly signal: AbortSignal;
  /** Edits wanted. */
  readonly limit: number;
  /** 0: the best program of the run so far. */
  readonly parentRank?: number | undefined;
  /** Edits already between the given program and this one. */
  readonly depth?: number | undefined;
}

export interface EditCandidates {
  readonly report: ExecutionReport;
  readonly sites: readonly EditSite[];
  readonly edits: readonly RankedEdit[];
}

/** The program traced on every public test (coverage, not values: a short head, small reprs, no rendering). */
function localizationJob(code: string, problem: PolicyProblem): ReturnType<typeof buildJob> {
  return buildJob({
    language: problem.language,
    code,
    entryPoint: problem.entryPoint,
    tests: problem.tests,
    trace: { ...LOCALIZE_TRACE, max_tests: Math.min(100, Math.max(1, problem.tests.length)) },
    limits: problem.limits,
  });
}

/**
 * Fault localisation and the edits of its most suspicious lines, each with
 * what the order reads about it; undefined when the program could not be
 * run (a sandbox failure). Also what the policy model's data are made of.
 */
export async function editCandidates(target: EditTarget): Promise<EditCandidates | undefined> {
  const report = await target.executor.execute(localizationJob(target.code, target.problem), { signal: target.signal });
  if (report.status === "error") return undefined;
  const sites = localize(report, target.code.split("\n").length).slice(0, MAX_SITES);
  const edits = await target.executor.edits(target.problem.language, { code: target.code, sites, limit: target.limit }, { signal: target.signal });
  const placed = new Map(sites.map((site, rank) => [site.line, { site, rank }]));
  const top = sites[0]?.line ?? 1;
  const facts = lineFacts(report);
  const passRate = report.total === 0 ? 0 : report.passed / report.total;
  const ranked = edits.map((edit): RankedEdit => {
    const where = placed.get(edit.line) ?? { site: { line: edit.line, suspiciousness: 0 }, rank: sites.length };
    return {
      edit,
      site: where.site,
      siteRank: where.rank,
      distance: Math.abs(edit.line - top),
      parentRank: target.parentRank ?? 0,
      parentPassRate: passRate,
      depth: target.depth ?? 0,
      lineRaised: facts.raised.has(edit.line),
      lineEndedRun: facts.ended.has(edit.line),
    };
  });
  return { report, sites, edits: ranked };
}

function triedCodes(request: ProposeRequest): Set<string> {
  const tried = new Set<string>();
  for (const history of request.chains ?? [request.history]) for (const attempt of history) if (attempt.code !== null) tried.add(attempt.code);
  for (const attempt of request.ranked ?? []) if (attempt.code !== null) tried.add(attempt.code);
  return tried;
}

type Usable = Attempt & { readonly code: string; readonly report: ExecutionReport };

/**
 * Programs that ran (not a syntax error, not a sandbox failure) and did not
 * pass, best first: by the ETA order, then, among programs of one ETA tier,
 * the nearer answers first (closeness.ts), so a partial fix the tests cannot
 * yet see is built on before its equals.
 */
function parentsOf(request: ProposeRequest, beam: number): Parent[] {
  const pool = request.ranked ?? request.history.slice(-1);
  const usable = pool.filter(
    (attempt): attempt is Usable =>
      attempt.code !== null && attempt.report !== undefined && attempt.report.status === "failed" && !attempt.report.tests.some((test) => test.status === "syntax_error"),
  );
  const chosen: Usable[] = [];
  for (let start = 0; start < usable.length && chosen.length < beam; ) {
    let end = start + 1;
    const tier = (usable[start] as Usable).tier;
    while (tier !== undefined && end < usable.length && usable[end]?.tier === tier) end += 1;
    chosen.push(...nearestFirst(usable.slice(start, end)));
    start = end;
  }
  return chosen.slice(0, beam).map((attempt, rank) => ({ attempt, rank }));
}

/** One tier's programs, nearest answers first (stable: earlier first among equals). */
function nearestFirst(tier: readonly Usable[]): Usable[] {
  if (tier.length < 2) return [...tier];
  return tier
    .map((attempt, position) => ({ attempt, position, closeness: answerCloseness(attempt.report) }))
    .sort((left, right) => right.closeness - left.closeness || left.position - right.position)
    .map((entry) => entry.attempt);
}

/**
 * The beam's edits in one list: each parent's in its own order, taken in
 * turn from the best parent down. Scores are compared only within a parent:
 * the policy model was trained on edits of one program, and its scores of
 * different programs' edits are not on one scale.
 */
function interleave(lists: readonly (readonly RankedEdit[])[]): RankedEdit[] {
  const merged: RankedEdit[] = [];
  const longest = Math.max(0, ...lists.map((list) => list.length));
  for (let index = 0; index < longest; index++) for (const list of lists) if (index < list.length) merged.push(list[index] as RankedEdit);
  return merged;
}

/** One parent's edits, most promising first by the order (ties: the editor's order). */
async function ordered(order: EditOrder, edits: readonly RankedEdit[]): Promise<RankedEdit[]> {
  const scores = await order.score(edits);
  return edits
    .map((edit, position) => ({ edit, score: scores[position] ?? 0, position }))
    .sort((left, right) => right.score - left.score || left.position - right.position)
    .map((entry) => entry.edit);
}

function editDepth(attempt: Attempt): number {
  return attempt.edit?.depth ?? 0;
}

export class RepairPolicy implements Policy {
  readonly name = "repair";
  readonly description: string;
  readonly plansRound = true;
  readonly readsTraces = false;
  readonly timesFromGiven = true;
  private readonly order: EditOrder;
  private readonly beam: number;

  constructor(options: RepairPolicyOptions = {}) {
    this.order = options.order ?? HAND_ORDER;
    this.beam = options.beam ?? DEFAULT_BEAM;
    const only = this.order.languages === undefined ? "" : ` for ${this.order.languages.join(", ")}, the hand order otherwise`;
    this.description = `built-in repair search (trace-guided edits, ${this.order.name} order${only})`;
  }

  async propose(request: ProposeRequest): Promise<ProposeResult> {
    const parents = parentsOf(request, request.round <= 2 ? 1 : this.beam);
    if (parents.length === 0) return { proposals: [], usage: NO_USAGE };
    const limit = Math.max(MIN_EDITS_PER_PARENT, Math.ceil((request.k * EDIT_HEADROOM) / parents.length));
    const found = await Promise.all(
      parents.map((parent) =>
        editCandidates({
          code: parent.attempt.code,
          problem: request.problem,
          executor: request.executor,
          signal: request.signal,
          limit,
          parentRank: parent.rank,
          depth: editDepth(parent.attempt),
        }),
      ),
    );
    const order = this.orderFor(request.problem.language);
    const perParent = await Promise.all(found.map((entry) => ordered(order, entry?.edits ?? [])));
    return {
      proposals: this.firstUntried(interleave(perParent), triedCodes(request), request.k, parents),
      usage: NO_USAGE,
      executions: parents.length,
      localization: found.find((entry) => entry !== undefined)?.sites.filter((site) => site.suspiciousness > 0.02),
    };
  }

  /**
   * The order for a problem's language: the configured one where it learnt
   * that language's edits, else the hand order. The policy model was trained
   * on Python edits only, and on the JavaScript set it repaired 15 of 22
   * against the hand order's 17 (bench:repair-javascript, 2026-12-04).
   */
  private orderFor(language: Language): EditOrder {
    const languages = this.order.languages;
    return languages === undefined || languages.includes(language) ? this.order : HAND_ORDER;
  }

  private firstUntried(ordered: readonly RankedEdit[], tried: Set<string>, k: number, parents: readonly Parent[]): Proposal[] {
    const proposals: Proposal[] = [];
    for (const ranked of ordered) {
      if (proposals.length >= k) break;
      if (tried.has(ranked.edit.code)) continue;
      tried.add(ranked.edit.code);
      proposals.push(this.proposalOf(ranked, parents[ranked.parentRank]?.attempt));
    }
    return proposals;
  }

  private proposalOf(ranked: RankedEdit, parent: Attempt | undefined): Proposal {
    const { edit, site } = ranked;
    const line = describeEdit(edit);
    const depth = ranked.depth + 1;
    const earlier = parent?.edit === undefined ? undefined : parent.description;
    return {
      code: edit.code,
      source: "edit",
      description: earlier === undefined ? line : `${earlier}; ${line}`,
      reasoning: `${edit.operator} at line ${edit.line} (suspiciousness ${site.suspiciousness.toFixed(2)})`,
      parent: parent?.code ?? null,
      edit: { line: edit.line, operator: edit.operator, before: edit.before, after: edit.after, suspiciousness: site.suspiciousness, depth },
    };
  }
}
