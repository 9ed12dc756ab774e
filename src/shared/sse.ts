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
 * The messages of an SSE body as they arrive. Read through a reader (not
 * `for await` over the stream, which older browsers lack); stopping early
 * cancels the body.
 */
export async function* sseMessages(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      const { blocks, rest } = takeSseBlocks(buffer);
      buffer = rest;
      for (const block of blocks) {
        const { message } = parseSseBlock(block);
        if (message !== undefined) yield message;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
