/** Reading bits of source text in a prompt: a call's parenthesised arguments, a list split at its top-level commas, a function's parameters. */

/** The argument text of `name(...)` starting at `open` (the parenthesis), and where it ends. */
export function callArguments(text: string, open: number): { inner: string; end: number } | undefined {
  let depth = 0;
  let quote: string | undefined;
  for (let index = open; index < text.length; index++) {
    const character = text[index] as string;
    if (quote !== undefined) {
      if (character === "\\") index++;
      else if (character === quote) quote = undefined;
      continue;
    }
    if (character === "'" || character === '"') quote = character;
    else if (character === "(" || character === "[" || character === "{") depth++;
    else if (character === ")" || character === "]" || character === "}") {
      depth--;
      if (depth === 0) return { inner: text.slice(open + 1, index), end: index + 1 };
    }
  }
  return undefined;
}

/** `text` split at commas outside brackets and quotes. */
export function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let index = 0; index < text.length; index++) {
    const character = text[index] as string;
    if (quote !== undefined) {
      if (character === "\\") index++;
      else if (character === quote) quote = undefined;
    } else if (character === "'" || character === '"') quote = character;
    else if ("([{".includes(character)) depth++;
    else if (")]}".includes(character)) depth--;
    else if (character === "," && depth === 0) {
      parts.push(text.slice(start, index));
      start = index + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((part) => part.trim());
}

/** A parameter of the entry point as written: its name, and its annotation when it has one. */
export interface Parameter {
  readonly name: string;
  readonly annotation: string | undefined;
}

/** The entry point's parameters (Python `def`, or a JavaScript function), without `self`, `*args` or `**kwargs`; undefined when it is not found. */
export function parametersOf(prompt: string, entryPoint: string): Parameter[] | undefined {
  const escaped = entryPoint.replace(/[$]/g, "\\$");
  const start = new RegExp(`(?:\\bdef\\s+${escaped}|\\bfunction\\s+${escaped}|\\b${escaped}\\s*=\\s*(?:async\\s*)?(?:function\\s*)?)\\s*\\(`).exec(prompt);
  if (start === null) return undefined;
  const found = callArguments(prompt, start.index + start[0].length - 1);
  if (found === undefined) return undefined;
  return splitTopLevel(found.inner)
    .filter((part) => part !== "" && !part.startsWith("*") && part !== "/" && !/^self\b/.test(part))
    .map((part) => {
      const [head = ""] = part.split("=");
      const colon = head.indexOf(":");
      return colon < 0 ? { name: head.trim(), annotation: undefined } : { name: head.slice(0, colon).trim(), annotation: head.slice(colon + 1).trim() };
    });
}
