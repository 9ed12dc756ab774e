/**
 * The LLM policy: round 1 samples `k` programs from the generation prompt;
 * later rounds send the revision prompt with the chain's attempts and their
 * feedback (prompts/). The program is extracted from each reply; an
 * unfenced reply counts only when it compiles (checked in the sandbox).
 */
import type { Prompts } from "../shared/prompts.ts";
import { entryPointInstruction, testsText } from "../trace/index.ts";
import { extractCode } from "./extract.ts";
import type { ChatMessage, Completion, LanguageModel } from "./model.ts";
import type { Attempt, Policy, Proposal, ProposeRequest, ProposeResult } from "./policy.ts";

export class LlmPolicy implements Policy {
  readonly name = "llm";
  readonly description: string;

  constructor(
    private readonly model: LanguageModel,
    private readonly prompts: Prompts,
  ) {
    this.description = model.description;
  }

  async propose(request: ProposeRequest): Promise<ProposeResult> {
    const result = await this.model.generate({
      messages: this.messages(request),
      n: request.k,
      temperature: request.sampling.temperature,
      maxTokens: request.sampling.maxTokens,
      model: request.sampling.model,
      signal: request.signal,
    });
    const proposals = await Promise.all(result.completions.map((completion) => this.proposalFrom(completion, request)));
    return { proposals, usage: result.usage };
  }

  private messages(request: ProposeRequest): ChatMessage[] {
    const language = request.problem.language;
    const user = request.history.length === 0 ? this.prompts.generate.render(this.problemValues(request)) : this.revisePrompt(request);
    return [
      { role: "system", content: this.prompts.system.render({ language }) },
      { role: "user", content: user },
    ];
  }

  private problemValues(request: ProposeRequest): Record<string, string> {
    const problem = request.problem;
    return {
      language: problem.language,
      problem: problem.prompt.trim(),
      entry_point_instruction: entryPointInstruction({ entry_point: problem.entryPoint, tests: problem.tests }),
      tests: testsText(problem.tests, problem.entryPoint, problem.language),
    };
  }

  private attemptText(attempt: Attempt, label: string, request: ProposeRequest): string {
    return this.prompts.reviseRound.render({
      label,
      language: request.problem.language,
      code: (attempt.code ?? "(no code)").replace(/\n$/, ""),
      feedback: attempt.feedback,
    });
  }

  /** The chain's attempts, then (context "all") the other chains' latest ones. */
  private revisePrompt(request: ProposeRequest): string {
    const blocks = request.history.map((attempt) => this.attemptText(attempt, `Round ${attempt.round}`, request));
    for (const other of request.others) blocks.push(this.attemptText(other, `Round ${other.round}, another attempt`, request));
    return this.prompts.revise.render({ ...this.problemValues(request), history: blocks.join("\n\n") });
  }

  private async proposalFrom(completion: Completion, request: ProposeRequest): Promise<Proposal> {
    const extracted = extractCode(completion.text, request.problem.language);
    let code = extracted.code ?? null;
    if (extracted.source === "whole" && code !== null) {
      // An unfenced reply is a program only if it compiles.
      const check = await request.executor.checkSyntax(request.problem.language, code, { signal: request.signal });
      if (!check.ok) code = null;
    }
    const thinking = [completion.reasoning, extracted.reasoning].filter((part): part is string => part !== undefined && part !== "").join("\n\n");
    return {
      code,
      source: "llm",
      // The attempt revised: the previous round's, or (mixed) this round's edit.
      description: request.history.length === 0 ? "sampled from the model" : `revised by the model after round ${request.history.at(-1)?.round ?? request.round - 1}`,
      reasoning: code === null && extracted.source === "whole" ? completion.text : thinking,
      parent: request.history.at(-1)?.code ?? null,
      ...(completion.finishReason === undefined ? {} : { finishReason: completion.finishReason }),
    };
  }
}
