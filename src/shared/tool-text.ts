/**
 * An agent's tool call in one line, as the CLI and the playground print it:
 * `inspect(code (9 lines), test 3, line 9, expression "result")`. A program
 * is shown by its length; the other arguments as the model sent them.
 */
export function toolCallText(tool: string, args: Readonly<Record<string, unknown>>): string {
  const parts = Object.entries(args).map(([name, value]) => (name === "code" && typeof value === "string" ? `code (${value.replace(/\n$/, "").split("\n").length} lines)` : `${name} ${JSON.stringify(value)}`));
  return `${tool}(${parts.join(", ")})`;
}
