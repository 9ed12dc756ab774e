/**
 * What the policy model reads about a candidate edit: program-agnostic
 * features only — the operator, where the edit is relative to the fault
 * localisation, what the trace says about its line, its size, what it
 * builds on. Nothing names or fingerprints a particular program. The
 * trainer (models/trainer/train_policy.py) and the server share this list:
 * a model whose metadata names another list is refused.
 */
import { EDIT_OPERATORS } from "../../shared/schema/edits.ts";
import { handScore, type RankedEdit } from "./order.ts";

export const POLICY_FEATURE_VERSION = "edit-features-1";

export const POLICY_FEATURE_NAMES: readonly string[] = [
  ...EDIT_OPERATORS.map((operator) => `operator_${operator}`),
  "suspiciousness",
  "site_rank_log",
  "top_site",
  "distance_log",
  "line_raised",
  "line_ended_run",
  "size_log",
  "statement_edit",
  "parent_rank",
  "parent_pass_rate",
  "depth",
  "hand_score",
];
export const POLICY_FEATURE_COUNT = POLICY_FEATURE_NAMES.length;

const STATEMENT_OPERATORS = new Set(["delete_statement", "duplicate_statement", "move_statement", "copy_statement", "insert_break", "insert_continue"]);

/** One row of POLICY_FEATURE_COUNT floats. */
export function editFeatures(ranked: RankedEdit): Float32Array {
  const row = new Float32Array(POLICY_FEATURE_COUNT);
  row[EDIT_OPERATORS.indexOf(ranked.edit.operator)] = 1;
  const values = [
    ranked.site.suspiciousness,
    Math.log1p(ranked.siteRank),
    ranked.siteRank === 0 ? 1 : 0,
    Math.log1p(ranked.distance),
    ranked.lineRaised ? 1 : 0,
    ranked.lineEndedRun ? 1 : 0,
    Math.log1p(ranked.edit.size),
    STATEMENT_OPERATORS.has(ranked.edit.operator) ? 1 : 0,
    ranked.parentRank,
    ranked.parentPassRate,
    ranked.depth,
    handScore(ranked),
  ];
  row.set(values, EDIT_OPERATORS.length);
  return row;
}

/** Rows for a batch, concatenated. */
export function featureMatrix(edits: readonly RankedEdit[]): Float32Array {
  const matrix = new Float32Array(edits.length * POLICY_FEATURE_COUNT);
  edits.forEach((edit, row) => matrix.set(editFeatures(edit), row * POLICY_FEATURE_COUNT));
  return matrix;
}
