/** A line diff (longest common subsequence), for showing what a revision or an edit changed. */

export interface DiffLine {
  readonly kind: "same" | "del" | "ins";
  readonly text: string;
  /** 1-based line in the program it was made from (absent for an inserted line). */
  readonly oldLine?: number;
  /** 1-based line in the new program (absent for a deleted line). */
  readonly newLine?: number;
}

/** Beyond this many cells the table is not built: the middle is shown as replaced whole. */
const MAX_TABLE_CELLS = 4_000_000;

function splitLines(code: string): string[] {
  const lines = code.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** Every line of `code` as unchanged (a program shown on its own). */
export function plainLines(code: string): DiffLine[] {
  return splitLines(code).map((text, index) => ({ kind: "same", text, oldLine: index + 1, newLine: index + 1 }));
}

/** The middle of a diff, between the common head and tail: LCS over lines. */
function middleDiff(before: readonly string[], after: readonly string[], oldStart: number, newStart: number): DiffLine[] {
  const rows = before.length;
  const columns = after.length;
  if (rows * columns > MAX_TABLE_CELLS) {
    return [
      ...before.map((text, index): DiffLine => ({ kind: "del", text, oldLine: oldStart + index })),
      ...after.map((text, index): DiffLine => ({ kind: "ins", text, newLine: newStart + index })),
    ];
  }
  // common[i][j]: the LCS length of before[i..] and after[j..].
  const common = new Uint32Array((rows + 1) * (columns + 1));
  const at = (row: number, column: number): number => common[row * (columns + 1) + column] ?? 0;
  for (let row = rows - 1; row >= 0; row -= 1) {
    for (let column = columns - 1; column >= 0; column -= 1) {
      common[row * (columns + 1) + column] = before[row] === after[column] ? at(row + 1, column + 1) + 1 : Math.max(at(row + 1, column), at(row, column + 1));
    }
  }
  const lines: DiffLine[] = [];
  let row = 0;
  let column = 0;
  while (row < rows || column < columns) {
    if (row < rows && column < columns && before[row] === after[column]) {
      lines.push({ kind: "same", text: before[row] ?? "", oldLine: oldStart + row, newLine: newStart + column });
      row += 1;
      column += 1;
    } else if (row < rows && (column === columns || at(row + 1, column) >= at(row, column + 1))) {
      // A replaced line reads as the old one out, then the new one in.
      lines.push({ kind: "del", text: before[row] ?? "", oldLine: oldStart + row });
      row += 1;
    } else {
      lines.push({ kind: "ins", text: after[column] ?? "", newLine: newStart + column });
      column += 1;
    }
  }
  return lines;
}

/** What changed from `before` to `after`, line by line, unchanged lines included. */
export function lineDiff(before: string, after: string): DiffLine[] {
  const old = splitLines(before);
  const next = splitLines(after);
  let head = 0;
  while (head < old.length && head < next.length && old[head] === next[head]) head += 1;
  let tail = 0;
  while (tail < old.length - head && tail < next.length - head && old[old.length - 1 - tail] === next[next.length - 1 - tail]) tail += 1;
  const same = (text: string, oldIndex: number, newIndex: number): DiffLine => ({ kind: "same", text, oldLine: oldIndex + 1, newLine: newIndex + 1 });
  return [
    ...old.slice(0, head).map((text, index) => same(text, index, index)),
    ...middleDiff(old.slice(head, old.length - tail), next.slice(head, next.length - tail), head + 1, head + 1),
    ...old.slice(old.length - tail).map((text, index) => same(text, old.length - tail + index, next.length - tail + index)),
  ];
}

/** The changed lines with `context` unchanged lines around each change (all of it when nothing changed). */
export function compactDiff(lines: readonly DiffLine[], context = 2): DiffLine[] {
  const changed = lines.map((line, index) => (line.kind === "same" ? -1 : index)).filter((index) => index >= 0);
  if (changed.length === 0) return [...lines];
  return lines.filter((_line, index) => changed.some((change) => Math.abs(change - index) <= context));
}
