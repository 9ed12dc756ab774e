/**
 * The order in which candidate edits are tried. The hand order: the edited
 * line's suspiciousness times how often an operator's kind of edit is the
 * fix in small buggy functions, a little less for bigger edits. A learned
 * order (policy-model.ts) replaces the product with the policy model's
 * score; both see the same candidates.
 */
import type { Edit, EditOperator, EditSite } from "../../shared/schema/edits.ts";
import type { Language } from "../../shared/schema/execution.ts";

/** Priors per operator: the usual one-token bugs first, whole-statement surgery last. */
const OPERATOR_PRIOR: Readonly<Record<EditOperator, number>> = {
  comparison: 1,
  off_by_one: 0.95,
  constant: 0.9,
  binary_operator: 0.85,
  variable: 0.8,
  call: 0.8,
  negate_condition: 0.75,
  boolean_operator: 0.75,
  augmented_operator: 0.7,
  return_value: 0.7,
  argument_order: 0.6,
  wrap: 0.55,
  unwrap: 0.55,
  delete_statement: 0.5,
  insert_break: 0.45,
  insert_continue: 0.45,
  move_statement: 0.4,
  duplicate_statement: 0.35,
  copy_statement: 0.3,
};
const SIZE_PENALTY = 0.02;

/** A candidate edit with what the order needs to know about where it is. */
export interface RankedEdit {
  readonly edit: Edit;
  readonly site: EditSite;
  /** 0 for the most suspicious line. */
  readonly siteRank: number;
  /** Lines between the edit and the most suspicious line. */
  readonly distance: number;
  /** The run's program this edit is of (0: the best so far). */
  readonly parentRank: number;
  /** The parent's fraction of public tests passed. */
  readonly parentPassRate: number;
  /** Edits already on the way from the given program to the parent. */
  readonly depth: number;
  /** What the trace says about the edited line (a feature of the learned order). */
  readonly lineRaised: boolean;
  readonly lineEndedRun: boolean;
}

/** Orders edits: the higher the score, the sooner it is tried. */
export interface EditOrder {
  readonly name: string;
  /** The languages whose edits it learnt to order; absent: every language (the hand order). */
  readonly languages?: readonly Language[] | undefined;
  score(edits: readonly RankedEdit[]): Promise<readonly number[]>;
}

export function handScore(ranked: RankedEdit): number {
  const { edit, site } = ranked;
  return site.suspiciousness * OPERATOR_PRIOR[edit.operator] * (1 - Math.min(0.5, SIZE_PENALTY * edit.size));
}

export const HAND_ORDER: EditOrder = {
  name: "hand",
  score: (edits) => Promise.resolve(edits.map(handScore)),
};
