/**
 * The program in a model's reply: the last fenced block of the language
 * (```python), else the last unlabelled block, else — when the reply has no
 * fence at all — the whole reply, if it compiles (the caller checks that).
 * Everything else (prose, <think> blocks, reasoning_content) is the
 * reasoning, kept apart.
 */
export interface ExtractedCode {
  /** undefined: the reply holds no program. */
  readonly code: string | undefined;
  readonly reasoning: string;
  /** "fenced": taken from a code block; "whole": the whole reply, still to be compiled. */
  readonly source: "fenced" | "whole" | "none";
}

const LANGUAGE_TAGS: Record<string, readonly string[]> = {
  python: ["python", "python3", "py"],
  javascript: ["javascript", "js", "node", "nodejs", "mjs", "cjs"],
};

const FENCE = /^(```+|~~~+)[ \t]*([^\n`]*)\n([\s\S]*?)\n?\1[ \t]*$/gm;
const THINKING = /<think(?:ing)?>([\s\S]*?)<\/think(?:ing)?>/gi;

export function extractCode(reply: string, language: string): ExtractedCode {
  const thoughts: string[] = [];
  const answer = reply.replace(THINKING, (_match, inner: string) => {
    thoughts.push(inner.trim());
    return "";
  });
  const tags = LANGUAGE_TAGS[language] ?? [language];
  let tagged: RegExpExecArray | undefined;
  let untagged: RegExpExecArray | undefined;
  let fences = 0;
  for (const match of answer.matchAll(FENCE)) {
    fences += 1;
    const tag = (match[2] ?? "").trim().toLowerCase().split(/\s+/)[0] ?? "";
    if (tags.includes(tag)) tagged = match;
    else if (tag === "") untagged = match;
  }
  const chosen = tagged ?? untagged;
  if (chosen !== undefined) {
    const code = (chosen[3] ?? "").replace(/\s+$/, "") + "\n";
    const prose = (answer.slice(0, chosen.index) + answer.slice(chosen.index + chosen[0].length)).trim();
    return { code, reasoning: [...thoughts, prose].filter(Boolean).join("\n\n"), source: "fenced" };
  }
  const trimmed = answer.trim();
  if (fences === 0 && trimmed !== "") {
    return { code: `${trimmed}\n`, reasoning: thoughts.join("\n\n"), source: "whole" };
  }
  return { code: undefined, reasoning: [...thoughts, trimmed].filter(Boolean).join("\n\n"), source: "none" };
}
