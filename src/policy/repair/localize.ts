/**
 * Fault localisation from traces (architecture/repair.md): the line spectra
 * of the passing and failing public tests, scored by Ochiai, then sharpened
 * by what each failing run's trace says — the line that raised, where the
 * run ended, the lines that last set what it returned, and the loop whose
 * iteration count looks off when the answer's length is off.
 */
import type { EditSite } from "../../shared/schema/edits.ts";
import type { ExecutionReport, TestReport, TraceEvent } from "../../shared/schema/execution.ts";

/** How much each piece of evidence adds to a line's Ochiai score (before normalising to 0..1). */
const EVIDENCE = {
  raised: 0.6,
  endedAt: 0.1,
  setReturned: 0.15,
  returned: 0.1,
  loopCount: 0.15,
} as const;
/** Lines no test reached: still editable (a missing case is often there), after every covered one. */
const UNCOVERED = 0.01;
/** Only the last lines before a return are read for what set the returned value. */
const RETURN_WINDOW = 30;

interface LineScore {
  failing: number;
  passing: number;
  bonus: number;
}

function linesOf(test: TestReport): Set<number> {
  const lines = new Set<number>();
  for (const event of test.trace?.events ?? []) if (event.event === "line") lines.add(event.line);
  if (test.error?.line != null) lines.add(test.error.line);
  return lines;
}

function scoreOf(scores: Map<number, LineScore>, line: number): LineScore {
  let score = scores.get(line);
  if (score === undefined) {
    score = { failing: 0, passing: 0, bonus: 0 };
    scores.set(line, score);
  }
  return score;
}

/** The lines that ran just before the run's outermost return, and those that changed names it read. */
function returnEvidence(events: readonly TraceEvent[], scores: Map<number, LineScore>): void {
  const outermost = Math.min(...events.map((event) => event.depth));
  const returnAt = events.findLastIndex((event) => event.event === "return" && event.depth === outermost);
  if (returnAt < 0) return;
  const lineBefore = events.slice(0, returnAt).findLast((event) => event.event === "line" && event.depth === outermost);
  if (lineBefore !== undefined) scoreOf(scores, lineBefore.line).bonus += EVIDENCE.returned;
  const window = events.slice(Math.max(0, returnAt - RETURN_WINDOW), returnAt);
  const setters = new Set(window.filter((event) => event.event === "line" && (event.changed?.length ?? 0) > 0).map((event) => event.line));
  for (const line of setters) scoreOf(scores, line).bonus += EVIDENCE.setReturned / setters.size;
}

function lengthOf(text: string | null): number | undefined {
  if (text === null) return undefined;
  const trimmed = text.trim();
  if (!/^[[(]/.test(trimmed) || trimmed.length < 2) return /^['"]/.test(trimmed) ? trimmed.length - 2 : undefined;
  const inner = trimmed.slice(1, -1).trim();
  return inner === "" ? 0 : inner.split(",").filter((part) => part.trim() !== "").length;
}

/** An answer of the wrong length points at the loop that built it: the most-run lines. */
function loopEvidence(test: TestReport, scores: Map<number, LineScore>): void {
  const expected = lengthOf(test.expected);
  const actual = lengthOf(test.actual);
  if (expected === undefined || actual === undefined || expected === actual) return;
  const hits = new Map<number, number>();
  for (const event of test.trace?.events ?? []) if (event.event === "line") hits.set(event.line, (hits.get(event.line) ?? 0) + 1);
  const most = Math.max(0, ...hits.values());
  if (most < 2) return;
  for (const [line, count] of hits) if (count === most) scoreOf(scores, line).bonus += EVIDENCE.loopCount;
}

function sharpen(test: TestReport, scores: Map<number, LineScore>): void {
  if (test.error?.line != null && test.status === "runtime_error") scoreOf(scores, test.error.line).bonus += EVIDENCE.raised;
  const events = test.trace?.events ?? [];
  const last = events.findLast((event) => event.event === "line");
  if (last !== undefined) scoreOf(scores, last.line).bonus += EVIDENCE.endedAt;
  if (test.status === "wrong_answer" && events.length > 0) {
    returnEvidence(events, scores);
    loopEvidence(test, scores);
  }
}

/**
 * The program's lines, most suspicious first, each scored 0..1. `report`
 * comes from a run traced on every test (trace mode `all`); `lineCount`
 * is the program's number of lines (uncovered lines come last).
 */
export function localize(report: ExecutionReport, lineCount: number): EditSite[] {
  const scores = new Map<number, LineScore>();
  const failingTests = report.tests.filter((test) => test.status !== "passed");
  for (const test of report.tests) {
    const failing = test.status !== "passed";
    for (const line of linesOf(test)) {
      const score = scoreOf(scores, line);
      if (failing) score.failing += 1;
      else score.passing += 1;
    }
    if (failing) sharpen(test, scores);
  }
  const raw = [...scores.entries()]
    .filter(([line]) => line >= 1 && line <= lineCount)
    .map(([line, score]) => {
      const ochiai = failingTests.length === 0 || score.failing === 0 ? 0 : score.failing / Math.sqrt(failingTests.length * (score.failing + score.passing));
      return { line, value: ochiai + score.bonus / Math.max(1, failingTests.length) };
    });
  const top = Math.max(1e-9, ...raw.map((entry) => entry.value));
  const sites: EditSite[] = raw.map(({ line, value }) => ({ line, suspiciousness: Math.max(UNCOVERED * 2, Math.min(1, value / top)) }));
  const covered = new Set(sites.map((site) => site.line));
  for (let line = 1; line <= lineCount; line++) if (!covered.has(line)) sites.push({ line, suspiciousness: UNCOVERED });
  return sites.sort((left, right) => right.suspiciousness - left.suspiciousness || left.line - right.line);
}

/** What failing runs' traces say of single lines: where one raised, where one ended. */
export function lineFacts(report: ExecutionReport): { readonly raised: ReadonlySet<number>; readonly ended: ReadonlySet<number> } {
  const raised = new Set<number>();
  const ended = new Set<number>();
  for (const test of report.tests) {
    if (test.status === "passed") continue;
    if (test.error?.line != null) raised.add(test.error.line);
    const last = test.trace?.events.findLast((event) => event.event === "line");
    if (last !== undefined) ended.add(last.line);
  }
  return { raised, ended };
}
