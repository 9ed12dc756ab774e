/**
 * Edits of a program on its syntax tree: what the repair search asks the
 * sandbox for (Python: Python's own `ast`, parsed in a sandboxed child;
 * JavaScript: acorn) and what it gets back. One edit is one small change
 * at one place, with the whole edited program (architecture/repair.md).
 */
import { z } from "zod";

/** The kinds of edit, one per operator family. The policy model's features name them: append, never reorder. */
export const EDIT_OPERATORS = [
  "binary_operator", // a + b → a - b
  "comparison", // i < n → i <= n
  "boolean_operator", // a and b → a or b; c → c or not v; v.x is None → v is None or v.x is None
  "augmented_operator", // x += 1 → x -= 1
  "constant", // 1 → 0, ±1, negation, True/False/None, "" / []; while True → while v
  "off_by_one", // range(n) → range(n + 1), a[i] → a[i - 1], slices
  "variable", // a name replaced by another in scope; v.a → v.b (an attribute the program reads); f(x) → v
  "call", // a call replaced by a sibling: min/max, any/all, append/extend, sorted/reversed …
  "argument_order", // f(a, b) → f(b, a); a - b → b - a; d[j, k] → d[k, j]
  "negate_condition", // if c → if not c; not inserted or removed
  "wrap", // e → abs(e), len(e), int(e), str(e), list(e), sorted(e), [e]; a → a[1:], a[k:]; x = e → x = max(x, e), min(x, e), max(0, e); JavaScript: e.toLowerCase(), s.split(…).filter(Boolean), k % a.length, x = [e] → x = [...(x ?? []), e]
  "unwrap", // abs(e) → e; f(e) → e
  "delete_statement",
  "duplicate_statement",
  "move_statement", // swapped with its neighbour; JavaScript: a = b; b = a % b → [a, b] = [b, a % b]; two else-if branches swapped
  "copy_statement", // a statement from elsewhere in the program inserted here (as it is, or with one name changed; also after a block's last statement); a = b; JavaScript: a zero-divisor guard that throws
  "return_value", // return e → return another expression in scope
  "insert_break",
  "insert_continue",
] as const;
export const EditOperator = z.enum(EDIT_OPERATORS);
export type EditOperator = z.infer<typeof EditOperator>;

/** Where to edit first: a line and how suspicious it is (fault localisation, 0..1). */
export const EditSite = z.object({
  line: z.int().min(1),
  suspiciousness: z.number().min(0).max(1),
});
export type EditSite = z.infer<typeof EditSite>;

export const EditRequest = z.object({
  code: z.string(),
  /** Most suspicious first; edits are made at these lines only (statement edits may reach one line around). */
  sites: z.array(EditSite).max(500),
  /** At most this many edits come back, those of the first sites first. */
  limit: z.int().min(1).max(5_000),
});
export type EditRequest = z.infer<typeof EditRequest>;

export const Edit = z.object({
  /** 1-based line of the edited node (of the first statement, for moves). */
  line: z.int().min(1),
  operator: EditOperator,
  /** The syntax node edited, in the parser's own names (Python `Compare`, acorn `BinaryExpression`). */
  node: z.string(),
  /** The source text replaced and its replacement (a statement's first line for statement edits). */
  before: z.string(),
  after: z.string(),
  /** The whole edited program; it parses. */
  code: z.string(),
  /** How much changed: tokens of the replaced text plus tokens of the replacement. */
  size: z.int().min(0),
});
export type Edit = z.infer<typeof Edit>;

/** The one-line diff an edit is shown as: line 7: `i < n` → `i <= n`. */
export function describeEdit(edit: Pick<Edit, "line" | "before" | "after">): string {
  const shown = (text: string): string => (text === "" ? "(nothing)" : `\`${text.length > 80 ? `${text.slice(0, 77)}...` : text}\``);
  return `line ${edit.line}: ${shown(edit.before)} → ${shown(edit.after)}`;
}
