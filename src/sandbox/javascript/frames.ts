/**
 * The worker's replies arrive on a pipe of their own, as length-prefixed
 * frames (4-byte big-endian length, then that many bytes of UTF-8 JSON), not
 * over Node's IPC channel: the IPC reader in this process appends a message
 * to one string until its newline, and a message longer than V8's longest
 * string would throw inside Node's internals and take the server down. Here
 * the length is read first and a frame over `maxBytes` is refused before any
 * of it is kept, so no reply, however large, can cost more than that.
 */

export class FrameTooLargeError extends Error {
  readonly bytes: number;
  constructor(bytes: number, maxBytes: number) {
    super(`a reply frame of ${bytes} bytes is over the ${maxBytes}-byte bound`);
    this.bytes = bytes;
  }
}

const HEADER_BYTES = 4;

export class FrameReader {
  private readonly maxBytes: number;
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** Feeds bytes; returns the complete frames' texts. Throws FrameTooLargeError (the stream is then unusable). */
  push(chunk: Buffer): string[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: string[] = [];
    for (;;) {
      if (this.buffered < HEADER_BYTES) return frames;
      const head = this.take(HEADER_BYTES, false);
      const length = head.readUInt32BE(0);
      if (length > this.maxBytes) throw new FrameTooLargeError(length, this.maxBytes);
      if (this.buffered < HEADER_BYTES + length) return frames;
      this.take(HEADER_BYTES, true);
      frames.push(this.take(length, true).toString("utf8"));
    }
  }

  /** The first `bytes` buffered bytes, removed from the buffer when `consume`. */
  private take(bytes: number, consume: boolean): Buffer {
    const first = this.chunks[0] as Buffer;
    // Most frames arrive whole in one chunk: no copy then.
    let result: Buffer;
    if (first.length >= bytes) result = first.subarray(0, bytes);
    else {
      const joined = Buffer.concat(this.chunks);
      this.chunks = [joined];
      result = joined.subarray(0, bytes);
    }
    if (consume) {
      const rest = (this.chunks[0] as Buffer).subarray(bytes);
      if (rest.length > 0) this.chunks[0] = rest;
      else this.chunks.shift();
      this.buffered -= bytes;
    }
    return result;
  }
}
