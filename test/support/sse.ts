/** A minimal Server-Sent Events reader for tests: the real wire format, parsed. */
import { parseSseBlock, takeSseBlocks, type SseMessage } from "../../src/shared/sse.ts";
import { RunEvent } from "../../src/shared/schema/events.ts";

export type { SseMessage };

/** Reads messages until the stream ends or `stop` says so; comments (heartbeats) are counted apart. */
export async function readSse(
  response: Response,
  stop: (message: SseMessage) => boolean = () => false,
): Promise<{ messages: SseMessage[]; comments: number; raw: string }> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const messages: SseMessage[] = [];
  let buffer = "";
  let raw = "";
  let comments = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const text = decoder.decode(value, { stream: true });
    raw += text;
    buffer += text;
    const { blocks, rest } = takeSseBlocks(buffer);
    buffer = rest;
    for (const block of blocks) {
      const parsed = parseSseBlock(block);
      comments += parsed.comments;
      if (parsed.message === undefined) continue;
      messages.push(parsed.message);
      if (stop(parsed.message)) {
        await reader.cancel();
        return { messages, comments, raw };
      }
    }
  }
  return { messages, comments, raw };
}

/** The messages as run events, each checked against the event schema. */
export function runEvents(messages: readonly SseMessage[]): RunEvent[] {
  return messages.map((message) => {
    const event = RunEvent.parse(JSON.parse(message.data));
    if (message.event !== event.type || message.id !== String(event.id)) {
      throw new Error(`SSE fields disagree with the data: ${JSON.stringify(message)}`);
    }
    return event;
  });
}
