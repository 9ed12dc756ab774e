/**
 * Execution agreement: candidates that give the same outputs (return
 * values, or exception types) on every input — public and synthesized —
 * form a cluster. Clusters rank by public tests passed; then those that
 * answer something on some input before those that only raise or return
 * None; then by votes: on each input, how many of the candidates passing
 * the most public tests gave the same answer (a value, not an exception or
 * None), summed over the inputs; then by size. Many independent samples
 * agreeing is evidence of being right, and counting agreement input by
 * input keeps correct programs that differ on one input outside the
 * problem's domain (what an empty list gives when the text says it is never
 * empty) from splitting their vote. No model needed.
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
  /** It returned or printed something other than None on at least one input (not only raised, timed out or returned None). */
  readonly answers: boolean;
  /** Per input, the candidates passing the most public tests that gave the same answer, summed over the inputs (its own members included). */
  readonly votes: number;
}

/** An output that says nothing about the problem: an exception, a limit, no value. */
function isNonAnswer(output: string): boolean {
  return output === "value:None" || output === "stdout:" || output.startsWith("raised:") || output.startsWith("failed:") || output === "missing";
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

/** Per input, the peers whose output there is the same answer as `outputs`, summed over the inputs. */
function votesFor(outputs: readonly string[], peers: readonly OutputVector[]): number {
  let votes = 0;
  outputs.forEach((output, input) => {
    if (isNonAnswer(output)) return;
    for (const peer of peers) if (peer.outputs[input] === output) votes += 1;
  });
  return votes;
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
  const bestPublic = Math.max(0, ...vectors.map((vector) => vector.publicPassed));
  // Only the candidates that pass the most public tests vote: one that fails an example is no witness.
  const peers = vectors.filter((vector) => vector.publicPassed === bestPublic);
  return [...groups.values()]
    .map((members) => {
      const first = members[0] as OutputVector;
      return {
        members: members.map((member) => member.candidate),
        publicPassed: first.publicPassed,
        publicTotal: first.publicTotal,
        answers: first.outputs.some((output) => !isNonAnswer(output)),
        votes: votesFor(first.outputs, peers),
      };
    })
    .sort(
      (left, right) =>
        right.publicPassed - left.publicPassed ||
        // Many programs that all raise (a missing helper) or all return None agree on nothing about the problem.
        Number(right.answers) - Number(left.answers) ||
        right.votes - left.votes ||
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

/**
 * A candidate's agreement score in [0, 1]. The clusters that pass the most
 * public tests and answer something (the top group) score 0.5 and up: 0.5 +
 * 0.5 × their votes relative to the most votes among them (their size,
 * where nothing answered), so the best scores 1 however many candidates
 * there are. The others score below 0.5: their share of the candidates,
 * times their share of the public tests passed (plus one, so that passing
 * none is not zero), halved when they answer nothing and the best does —
 * they can not outrank the top group.
 */
export function agreementScores(clusters: readonly Cluster[], candidates: number): Map<number, number> {
  const scores = new Map<number, number>();
  const best = clusters[0];
  if (best === undefined) return scores;
  const inTop = (cluster: Cluster): boolean => cluster.publicPassed === best.publicPassed && cluster.answers === best.answers;
  const weight = (cluster: Cluster): number => (best.votes > 0 ? cluster.votes : cluster.members.length);
  const most = Math.max(1, ...clusters.filter(inTop).map(weight));
  for (const cluster of clusters) {
    const score = inTop(cluster)
      ? 0.5 + 0.5 * (weight(cluster) / most)
      : 0.5 * (cluster.members.length / Math.max(1, candidates)) * ((cluster.publicPassed + 1) / (best.publicPassed + 1)) * (cluster.answers || !best.answers ? 1 : 0.5);
    for (const member of cluster.members) scores.set(member, score);
  }
  return scores;
}
