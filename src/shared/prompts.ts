/**
 * The prompt templates of prompts/, loaded once at start-up and checked:
 * a template may only use the variables its code provides, and must use the
 * ones it needs. Rendering a template without one of its values is an error,
 * not an empty string.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { TracefixError } from "./errors.ts";

export const PROMPTS_DIRECTORY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../prompts");

const TEMPLATES = {
  system: { file: "system.md", variables: ["language"], required: [] },
  generate: { file: "generate.md", variables: ["language", "problem", "entry_point_instruction", "tests"], required: ["problem"] },
  revise: {
    file: "revise.md",
    variables: ["language", "problem", "entry_point_instruction", "tests", "history"],
    required: ["problem", "history"],
  },
  reviseRound: { file: "revise-round.md", variables: ["label", "language", "code", "feedback"], required: ["code", "feedback"] },
  synthesizeInputs: {
    file: "synthesize-inputs.md",
    variables: ["language", "problem", "entry_point_instruction", "tests", "count", "format"],
    required: ["problem", "count"],
  },
  judgePairwise: {
    file: "judge-pairwise.md",
    variables: ["language", "problem", "tests", "first", "second"],
    required: ["problem", "first", "second"],
  },
  judgeListwise: { file: "judge-listwise.md", variables: ["language", "problem", "tests", "candidates", "count"], required: ["problem", "candidates"] },
  judgeCandidate: { file: "judge-candidate.md", variables: ["label", "language", "code", "outputs", "trace"], required: ["code"] },
  agentSystem: { file: "agent-system.md", variables: ["language", "budget"], required: [] },
  agentTask: { file: "agent-task.md", variables: ["language", "problem", "entry_point_instruction", "tests", "program"], required: ["problem", "tests"] },
  agentCorrective: { file: "agent-corrective.md", variables: ["language"], required: [] },
} as const;

export type TemplateName = keyof typeof TEMPLATES;

const PLACEHOLDER = /\{\{\s*([a-z_]+)\s*\}\}/g;

export class PromptTemplate {
  readonly name: TemplateName;
  readonly text: string;
  readonly variables: ReadonlySet<string>;

  constructor(name: TemplateName, text: string) {
    this.name = name;
    this.text = text;
    const used = new Set([...text.matchAll(PLACEHOLDER)].map((match) => match[1] as string));
    const spec = TEMPLATES[name];
    const allowed = new Set<string>(spec.variables);
    const unknown = [...used].filter((variable) => !allowed.has(variable));
    if (unknown.length > 0) {
      throw new TracefixError("prompt_invalid", "server", `prompts/${spec.file} uses unknown variables: ${unknown.join(", ")} (allowed: ${spec.variables.join(", ")})`);
    }
    const missing = spec.required.filter((variable) => !used.has(variable));
    if (missing.length > 0) {
      throw new TracefixError("prompt_invalid", "server", `prompts/${spec.file} must use: ${missing.join(", ")}`);
    }
    this.variables = used;
  }

  render(values: Readonly<Record<string, string>>): string {
    return this.text.replace(PLACEHOLDER, (_match, variable: string) => {
      const value = values[variable];
      if (value === undefined) throw new TracefixError("prompt_value_missing", "server", `prompts/${TEMPLATES[this.name].file} needs ${variable}`);
      return value;
    });
  }
}

export type Prompts = Readonly<Record<TemplateName, PromptTemplate>>;

export function loadPrompts(directory = PROMPTS_DIRECTORY): Prompts {
  const entries = Object.entries(TEMPLATES).map(([name, spec]) => {
    const text = readFileSync(path.join(directory, spec.file), "utf8").replace(/\n+$/, "");
    return [name, new PromptTemplate(name as TemplateName, text)] as const;
  });
  return Object.fromEntries(entries) as Record<TemplateName, PromptTemplate>;
}
