/**
 * Execution agreement: candidates that give the same outputs (return
 * values, or exception types) on every input — public and synthesized —
 * form a cluster. Clusters rank by public tests passed, then by size: many
 * independent samples agreeing is evidence of being right. No model needed.
 */
import type { TestReport } from "../shared/schema/execution.ts";

/** One candidate's behaviour: public results and one output per synthesized input. */
export interface OutputVector {
  readonly candidate: number;
  readonly publicPassed: number;
  readonly publicTotal: number;
  /** What it did on each input, comparable across candidates. */
  readonly outputs: readonly string[];
}

export interface Cluster {
  /** Rank of the cluster, 0 = best. */
  readonly id: number;
  readonly members: readonly number[];
  readonly publicPassed: number;
  readonly publicTotal: number;
}

/** A test's outcome as a comparable key: the value returned or printed, or how it failed. */
export function outputKey(test: TestReport): string {
  switch (test.status) {
    case "passed":
    case "wrong_answer":
      return test.kind === "stdio" ? `stdout:${test.stdout.trimEnd()}` : `value:${test.actual ?? ""}`;
    case "runtime_error":
      return `raised:${test.error?.type ?? "?"}`;
    default:
      return `failed:${test.status}`;
  }
}

/** Clusters of identical output vectors, best first. */
export function clusterByOutputs(vectors: readonly OutputVector[]): Cluster[] {
  const groups = new Map<string, OutputVector[]>();
  for (const vector of vectors) {
    // The public results are part of the key: same outputs, same passes.
    const key = JSON.stringify([vector.publicPassed, vector.outputs]);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [vector]);
    else group.push(vector);
  }
  return [...groups.values()]
    .map((members) => ({
      members: members.map((member) => member.candidate),
      publicPassed: (members[0] as OutputVector).publicPassed,
      publicTotal: (members[0] as OutputVector).publicTotal,
    }))
    .sort(
      (left, right) =>
        right.publicPassed - left.publicPassed ||
        right.members.length - left.members.length ||
        Math.min(...left.members) - Math.min(...right.members),
    )
    .map((cluster, id) => ({ id, ...cluster }));
}

/** Inputs on which the candidates do not all agree (the ones worth showing a judge). */
export function disagreements(vectors: readonly OutputVector[]): number[] {
  const first = vectors[0];
  if (first === undefined) return [];
  const indices: number[] = [];
  for (let input = 0; input < first.outputs.length; input++) {
    const seen = new Set(vectors.map((vector) => vector.outputs[input]));
    if (seen.size > 1) indices.push(input);
  }
  return indices;
}

/** A candidate's agreement score in [0, 1]: its cluster's share of the candidates, if it passes the most public tests. */
/**
 * The reward model's `agreement` feature: per candidate, the share of the
 * *other* candidates whose outputs match its own. The training data and the
 * server both compute it here, so the model sees the same numbers in both.
 */
export function agreementShares(clusters: readonly Cluster[], candidates: number): Map<number, number> {
  const others = Math.max(1, candidates - 1);
  const shares = new Map<number, number>();
  for (const cluster of clusters) for (const member of cluster.members) shares.set(member, (cluster.members.length - 1) / others);
  return shares;
}

export function agreementScores(clusters: readonly Cluster[], candidates: number): Map<number, number> {
  const scores = new Map<number, number>();
  const best = clusters[0]?.publicPassed ?? 0;
  for (const cluster of clusters) {
    // A cluster that passes fewer public tests than the best can not outrank it.
    const share = cluster.members.length / Math.max(1, candidates);
    const score = cluster.publicPassed < best ? share * 0.5 * (cluster.publicPassed / Math.max(1, best)) : 0.5 + share * 0.5;
    for (const member of cluster.members) scores.set(member, score);
  }
  return scores;
}
