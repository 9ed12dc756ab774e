/**
 * The LLM judge. It sees each candidate's code, its outputs on the inputs
 * where candidates disagree, and a trace rendering.
 *
 * - pairwise: every pair is asked twice, in both orders; a candidate wins a
 *   comparison only when both orders name it (position bias cancels out);
 * - listwise: all candidates at once, in a rotated order per vote; Borda
 *   points from each ranking.
 * `votes` repeats every judgement. A reply that does not parse is asked once
 * more and then counts as an abstention; a model error counts as a failure.
 * The judge never throws for that: when nothing could be judged its scores
 * are undefined and the caller lets execution agreement decide.
 */
import { AbortedError } from "../shared/errors.ts";
import type { Prompts } from "../shared/prompts.ts";
import type { LanguageModel, TokenUsage } from "../policy/index.ts";
import { addUsage, NO_USAGE, usageOfFailure } from "../policy/index.ts";

export interface JudgedCandidate {
  /** The candidate's index in the caller's list. */
  readonly index: number;
  readonly code: string;
  /** Its outputs where candidates disagree, already written out. */
  readonly outputs: string;
  /** A trace rendering, or "". */
  readonly trace: string;
}

export interface JudgeProblem {
  readonly language: string;
  readonly problem: string;
  readonly tests: string;
}

export interface LlmJudgeSettings {
  readonly mode: "pairwise" | "listwise";
  readonly votes: number;
  readonly maxPairs: number;
  readonly temperature: number;
  readonly maxTokens: number;
  readonly model?: string | undefined;
}

export interface Verdict {
  /** Candidate indices as first and second shown (pairwise), or the order shown (listwise). */
  readonly shown: readonly number[];
  readonly vote: number;
  /** The candidate named best, "tie", or "abstain" (unparsable twice, or the model failed). */
  readonly answer: number | "tie" | "abstain";
  /** Listwise: the full ranking given. */
  readonly ranking?: readonly number[];
}

export interface LlmJudgeOutcome {
  /** Score in [0, 1] per candidate index; undefined when nothing could be judged. */
  readonly scores: Map<number, number> | undefined;
  readonly verdicts: readonly Verdict[];
  readonly asked: number;
  readonly abstentions: number;
  readonly failures: number;
  readonly usage: TokenUsage;
  readonly error?: string;
}

const LABELS = ["A", "B"] as const;

function pairwiseAnswer(text: string): "A" | "B" | "tie" | undefined {
  const matches = [...text.matchAll(/answer\s*[:：]\s*\**\s*(A|B|tie)\b/gi)];
  const last = matches.at(-1)?.[1];
  if (last === undefined) return undefined;
  const normalized = last.toUpperCase();
  return normalized === "TIE" ? "tie" : (normalized as "A" | "B");
}

function listwiseAnswer(text: string, count: number): number[] | undefined {
  const line = [...text.matchAll(/ranking\s*[:：]\s*([0-9][0-9\s>,]*)/gi)].at(-1)?.[1];
  if (line === undefined) return undefined;
  const positions = line
    .split(/[\s>,]+/)
    .filter(Boolean)
    .map((part) => Number(part) - 1);
  const unique = new Set(positions);
  if (positions.length !== count || unique.size !== count || positions.some((position) => !(position >= 0 && position < count))) return undefined;
  return positions;
}

export class LlmJudge {
  private usage: TokenUsage = NO_USAGE;

  constructor(
    private readonly model: LanguageModel,
    private readonly prompts: Prompts,
    private readonly settings: LlmJudgeSettings,
  ) {}

  private candidateText(candidate: JudgedCandidate, label: string, language: string): string {
    return this.prompts.judgeCandidate.render({
      label,
      language,
      code: candidate.code.replace(/\n$/, ""),
      outputs: candidate.outputs || "(no disagreements)",
      trace: candidate.trace === "" ? "" : `Its trace:\n${candidate.trace}`,
    });
  }

  /** One question, asked again once if the reply does not parse. */
  private async ask<Answer>(prompt: string, parse: (text: string) => Answer | undefined, signal: AbortSignal | undefined): Promise<Answer | "abstain" | "failed"> {
    for (let attempt = 0; attempt < 2; attempt++) {
      let text: string;
      try {
        const result = await this.model.generate({
          messages: [{ role: "user", content: prompt }],
          n: 1,
          temperature: this.settings.temperature,
          maxTokens: this.settings.maxTokens,
          model: this.settings.model,
          signal,
        });
        this.usage = addUsage(this.usage, result.usage);
        text = result.completions[0]?.text ?? "";
      } catch (error) {
        this.usage = addUsage(this.usage, usageOfFailure(error));
        if (error instanceof AbortedError || signal?.aborted) throw error;
        return "failed";
      }
      const answer = parse(text);
      if (answer !== undefined) return answer;
    }
    return "abstain";
  }

  async judge(problem: JudgeProblem, candidates: readonly JudgedCandidate[], signal?: AbortSignal): Promise<LlmJudgeOutcome> {
    if (candidates.length < 2) {
      return { scores: new Map(candidates.map((candidate) => [candidate.index, 1])), verdicts: [], asked: 0, abstentions: 0, failures: 0, usage: NO_USAGE };
    }
    return this.settings.mode === "listwise" ? this.listwise(problem, candidates, signal) : this.pairwise(problem, candidates, signal);
  }

  private async pairwise(problem: JudgeProblem, candidates: readonly JudgedCandidate[], signal: AbortSignal | undefined): Promise<LlmJudgeOutcome> {
    const pairs: [JudgedCandidate, JudgedCandidate][] = [];
    for (let left = 0; left < candidates.length && pairs.length < this.settings.maxPairs; left++) {
      for (let right = left + 1; right < candidates.length && pairs.length < this.settings.maxPairs; right++) {
        pairs.push([candidates[left] as JudgedCandidate, candidates[right] as JudgedCandidate]);
      }
    }
    const verdicts: Verdict[] = [];
    const wins = new Map<number, number>();
    const played = new Map<number, number>();
    let abstentions = 0;
    let failures = 0;
    const questions = pairs.flatMap(([first, second]) =>
      Array.from({ length: this.settings.votes }, (_, vote) => ({ first, second, vote })),
    );
    await Promise.all(
      questions.map(async ({ first, second, vote }) => {
        // Both orders: the same two programs, A and B swapped.
        const answers = await Promise.all(
          [
            [first, second],
            [second, first],
          ].map(async ([a, b]) => {
            const prompt = this.prompts.judgePairwise.render({
              language: problem.language,
              problem: problem.problem,
              tests: problem.tests,
              first: this.candidateText(a as JudgedCandidate, `Program ${LABELS[0]}`, problem.language),
              second: this.candidateText(b as JudgedCandidate, `Program ${LABELS[1]}`, problem.language),
            });
            const answer = await this.ask(prompt, pairwiseAnswer, signal);
            const named = answer === "A" ? (a as JudgedCandidate).index : answer === "B" ? (b as JudgedCandidate).index : answer;
            verdicts.push({
              shown: [(a as JudgedCandidate).index, (b as JudgedCandidate).index],
              vote,
              answer: named === "failed" ? "abstain" : named,
            });
            if (answer === "abstain") abstentions += 1;
            if (answer === "failed") failures += 1;
            return named;
          }),
        );
        played.set(first.index, (played.get(first.index) ?? 0) + 1);
        played.set(second.index, (played.get(second.index) ?? 0) + 1);
        const [forward, backward] = answers;
        // A win only when both orders name the same program.
        if (typeof forward === "number" && forward === backward) wins.set(forward, (wins.get(forward) ?? 0) + 1);
      }),
    );
    const asked = questions.length * 2;
    const usable = asked - abstentions - failures;
    if (usable === 0) {
      return { scores: undefined, verdicts, asked, abstentions, failures, usage: this.usage, error: failures > 0 ? "the judge model failed" : "no judge reply could be read" };
    }
    const scores = new Map<number, number>();
    for (const candidate of candidates) {
      const games = played.get(candidate.index) ?? 0;
      scores.set(candidate.index, games === 0 ? 0 : (wins.get(candidate.index) ?? 0) / games);
    }
    return { scores, verdicts, asked, abstentions, failures, usage: this.usage };
  }

  private async listwise(problem: JudgeProblem, candidates: readonly JudgedCandidate[], signal: AbortSignal | undefined): Promise<LlmJudgeOutcome> {
    const count = candidates.length;
    const verdicts: Verdict[] = [];
    const points = new Map<number, number>();
    let abstentions = 0;
    let failures = 0;
    let counted = 0;
    await Promise.all(
      Array.from({ length: this.settings.votes }, async (_, vote) => {
        // A different order each vote, so that no program is always first.
        const order = candidates.map((_, position) => candidates[(position + vote) % count] as JudgedCandidate);
        const prompt = this.prompts.judgeListwise.render({
          language: problem.language,
          problem: problem.problem,
          tests: problem.tests,
          count: String(count),
          candidates: order.map((candidate, position) => this.candidateText(candidate, `Program ${position + 1}`, problem.language)).join("\n\n"),
        });
        const answer = await this.ask(prompt, (text) => listwiseAnswer(text, count), signal);
        if (answer === "abstain" || answer === "failed") {
          if (answer === "abstain") abstentions += 1;
          else failures += 1;
          verdicts.push({ shown: order.map((candidate) => candidate.index), vote, answer: "abstain" });
          return;
        }
        const ranking = answer.map((position) => (order[position] as JudgedCandidate).index);
        ranking.forEach((index, place) => points.set(index, (points.get(index) ?? 0) + (count - 1 - place) / Math.max(1, count - 1)));
        counted += 1;
        verdicts.push({ shown: order.map((candidate) => candidate.index), vote, answer: ranking[0] as number, ranking });
      }),
    );
    if (counted === 0) {
      return { scores: undefined, verdicts, asked: this.settings.votes, abstentions, failures, usage: this.usage, error: failures > 0 ? "the judge model failed" : "no judge reply could be read" };
    }
    const scores = new Map(candidates.map((candidate) => [candidate.index, (points.get(candidate.index) ?? 0) / counted]));
    return { scores, verdicts, asked: this.settings.votes, abstentions, failures, usage: this.usage };
  }
}
