/**
 * How near a failing program's answers come to the expected ones: the
 * repair search's tie-break between programs the ETA order cannot tell
 * apart (same tests passed, same failure, same steps). A stdio program that
 * prints three of four lines right is a better base for the next edit than
 * one that prints one; the ETA order alone sees two wrong answers.
 */
import type { ExecutionReport, TestReport } from "../../shared/schema/execution.ts";

/** Pieces compared per answer, and characters read of it: a long output is judged by its head (the cost stays bounded). */
const MAX_PIECES = 2_000;
const MAX_CHARS = 64 * 1024;

/** How an answer is cut into pieces: lines when the expected one prints several, else words and punctuation (a value's repr, a one-line output). */
type PieceMode = "lines" | "words";

function modeOf(expected: string): PieceMode {
  let lines = 0;
  for (const line of expected.slice(0, MAX_CHARS).split("\n")) if (line.trim() !== "" && ++lines > 1) return "lines";
  return "words";
}

function piecesOf(text: string, mode: PieceMode): string[] {
  const head = text.slice(0, MAX_CHARS);
  const pieces = mode === "lines" ? head.split("\n").map((line) => line.trimEnd()).filter((line) => line !== "") : (head.match(/\w+|[^\s\w]/g) ?? []);
  return pieces.slice(0, MAX_PIECES);
}

/** Dice's coefficient of two multisets of pieces: 1 when they are the same, 0 when they share none. */
function dice(left: readonly string[], right: readonly string[]): number {
  if (left.length === 0 && right.length === 0) return 1;
  const counts = new Map<string, number>();
  for (const piece of left) counts.set(piece, (counts.get(piece) ?? 0) + 1);
  let shared = 0;
  for (const piece of right) {
    const count = counts.get(piece) ?? 0;
    if (count > 0) {
      shared += 1;
      counts.set(piece, count - 1);
    }
  }
  return (2 * shared) / (left.length + right.length);
}

function testCloseness(test: TestReport): number {
  if (test.status === "passed") return 1;
  if (test.status !== "wrong_answer" || test.expected === null || test.actual === null) return 0;
  const mode = modeOf(test.expected);
  return dice(piecesOf(test.expected, mode), piecesOf(test.actual, mode));
}

/** Reports are not changed once made: each one's closeness is worked out once, however many rounds rank it. */
const computed = new WeakMap<ExecutionReport, number>();

/** The mean over the report's tests, 0..1 (a passing test counts 1, a failure other than a wrong answer 0). */
export function answerCloseness(report: ExecutionReport): number {
  const known = computed.get(report);
  if (known !== undefined) return known;
  const closeness = report.tests.length === 0 ? 0 : report.tests.reduce((sum, test) => sum + testCloseness(test), 0) / report.tests.length;
  computed.set(report, closeness);
  return closeness;
}
