/** A minimal Server-Sent Events reader for tests: the real wire format, parsed. */
import { RunEvent } from "../../src/shared/schema/events.ts";

export interface SseMessage {
  readonly id: string | undefined;
  readonly event: string | undefined;
  readonly data: string;
}

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
    let boundary = buffer.indexOf("\n\n");
    while (boundary >= 0) {
      const block = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      boundary = buffer.indexOf("\n\n");
      let id: string | undefined;
      let event: string | undefined;
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) comments += 1;
        else if (line.startsWith("id:")) id = line.slice(3).trim();
        else if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length === 0) continue;
      const message = { id, event, data: data.join("\n") };
      messages.push(message);
      if (stop(message)) {
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
