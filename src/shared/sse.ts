/** Server-Sent Events as a client reads them: blocks split on a blank line, `id:`, `event:`, `data:` and `:` comments. */

export interface SseMessage {
  readonly id: string | undefined;
  readonly event: string | undefined;
  readonly data: string;
}

/** One block's message (undefined when it has no data) and how many comment lines (heartbeats) it held. */
export function parseSseBlock(block: string): { message: SseMessage | undefined; comments: number } {
  let id: string | undefined;
  let event: string | undefined;
  let comments = 0;
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) comments += 1;
    else if (line.startsWith("id:")) id = line.slice(3).trim();
    else if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  return { message: data.length === 0 ? undefined : { id, event, data: data.join("\n") }, comments };
}

/** The complete blocks in `buffer`, and what is left of it (a block still arriving). */
export function takeSseBlocks(buffer: string): { blocks: string[]; rest: string } {
  const blocks = buffer.split("\n\n");
  const rest = blocks.pop() ?? "";
  return { blocks, rest };
}

/**
 * A streamed body cut at `separator` as it arrives (SSE blocks at a blank
 * line, JSON Lines at a newline). The text after the last separator comes
 * last with `keepLast` (a JSON line need not end in a newline); an SSE
 * event is complete only at its blank line, so SSE drops it. Read through a reader (not `for await` over the stream, which older
 * browsers lack); stopping early cancels the body.
 */
export async function* bodyPieces(body: ReadableStream<Uint8Array>, separator: string, keepLast = true): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      const pieces = buffer.split(separator);
      buffer = pieces.pop() ?? "";
      yield* pieces;
    }
    if (keepLast && buffer !== "") yield buffer;
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** The messages of an SSE body as they arrive. */
export async function* sseMessages(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  for await (const block of bodyPieces(body, "\n\n", false)) {
    const { message } = parseSseBlock(block);
    if (message !== undefined) yield message;
  }
}
