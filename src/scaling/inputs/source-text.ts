/** Reading bits of source text in a prompt: a call's parenthesised arguments, a list split at its top-level commas. */

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
