/*
 * The worker's replies to the pool, as length-prefixed frames on their own
 * pipe (fd 4): a 4-byte big-endian length, then the message as UTF-8 JSON
 * (src/sandbox/javascript/frames.ts reads them and says why not IPC). Each
 * frame is written synchronously, so the pool hears a test's verdict before
 * the next test starts (and can pin a crash on the test that caused it).
 * Replies are bounded before they get here (reply.mjs); a message over
 * FRAME_LIMIT_BYTES all the same is replaced by a failure, never sent.
 */
import { writeSync } from "node:fs";

const REPLY_FD = 4;
export const FRAME_LIMIT_BYTES = 32 << 20;

function writeAll(buffer) {
  let offset = 0;
  while (offset < buffer.length) {
    try {
      offset += writeSync(REPLY_FD, buffer, offset);
    } catch (error) {
      // A non-blocking pipe that is full: wait a moment for the pool to read.
      if (error?.code !== "EAGAIN") throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

function encode(text, length) {
  const buffer = Buffer.allocUnsafe(4 + length);
  buffer.writeUInt32BE(length, 0);
  buffer.write(text, 4, "utf8");
  return buffer;
}

export function sendFrame(message) {
  let text = JSON.stringify(message);
  let length = Buffer.byteLength(text);
  if (length > FRAME_LIMIT_BYTES) {
    process.stderr.write(`a reply of ${length} bytes (${message.t}) was over the frame bound and was not sent\n`);
    text = JSON.stringify({ id: message.id, t: "failed", error: { code: "reply_too_large", message: "the reply was over its size bound" } });
    length = Buffer.byteLength(text);
  }
  writeAll(encode(text, length));
}
