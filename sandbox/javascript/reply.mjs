/*
 * Bounds on what a run sends back, applied in the worker before anything is
 * serialised (verdicts are decided before, on the full data). Per test: at
 * most PER_STREAM_BYTES of stdout and of stderr are shown (the head), error
 * texts are cut, a trace is cut to its share by encoded size (keeping its
 * head and tail around one gap). Per run: RUN_REPLY_BYTES in all, handed out
 * in shares that shrink as it is spent, so later tests get less and no
 * number of tests can pass it by more than their small minimum shares.
 * What was cut is counted in the test's `omitted`. The frame channel
 * (channel.mjs) refuses anything larger still, as a last line.
 */
export const PER_STREAM_BYTES = 1 << 20;
export const PER_TRACE_BYTES = 4 << 20;
export const RUN_REPLY_BYTES = 16 << 20;
const MIN_OUTPUT_SHARE = 1 << 10;
const MIN_TRACE_SHARE = 16 << 10;
const ERROR_LIMITS = { type: 200, message: 4_000, traceback: 8_000, left: 2_000, right: 2_000, source: 2_000 };
const SHOWN_VALUE_LIMIT = 8_000;

export class ReplyBudget {
  constructor(total = RUN_REPLY_BYTES) {
    this.total = total;
    this.used = 0;
  }

  left() {
    return Math.max(0, this.total - this.used);
  }

  /** Bytes one output stream of the next test may show. */
  outputShare() {
    return Math.max(MIN_OUTPUT_SHARE, Math.min(PER_STREAM_BYTES, Math.floor(this.left() / 8)));
  }

  /** Bytes the next trace may take. */
  traceShare() {
    return Math.max(MIN_TRACE_SHARE, Math.min(PER_TRACE_BYTES, Math.floor(this.left() / 2)));
  }

  spend(bytes) {
    this.used += bytes;
  }
}

/** The head of `text` within `maxBytes` of UTF-8 (never splitting a character), and how many bytes were left out. */
export function cutUtf8(text, maxBytes) {
  if (text.length * 3 <= maxBytes) return { text, omitted: 0, bytes: Buffer.byteLength(text) };
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= maxBytes) return { text, omitted: 0, bytes: bytes.length };
  let end = maxBytes;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end -= 1;
  return { text: bytes.subarray(0, end).toString("utf8"), omitted: bytes.length - end, bytes: end };
}

function cutChars(text, limit) {
  return typeof text === "string" && text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

/** The error's texts within their limits (a program chooses its error names and messages). */
export function boundError(error) {
  if (error === null || error === undefined) return error;
  const bounded = { ...error, type: cutChars(String(error.type), ERROR_LIMITS.type), message: cutChars(String(error.message), ERROR_LIMITS.message) };
  if (typeof error.traceback === "string") bounded.traceback = cutChars(error.traceback, ERROR_LIMITS.traceback);
  if (error.assertion !== undefined && error.assertion !== null) {
    const assertion = error.assertion;
    bounded.assertion = {
      operator: cutChars(String(assertion.operator), ERROR_LIMITS.type),
      left: cutChars(String(assertion.left), ERROR_LIMITS.left),
      right: assertion.right === null ? null : cutChars(String(assertion.right), ERROR_LIMITS.right),
      source: cutChars(String(assertion.source), ERROR_LIMITS.source),
    };
  }
  return bounded;
}

function textBytes(value) {
  return typeof value === "string" ? Buffer.byteLength(value) : 0;
}

/**
 * Bounds one test's report in place: its output (`stdout`, `stderr` are the
 * full streams, already judged), the shown expected/actual values, the error.
 */
export function boundResult(result, stdout, stderr, budget) {
  const share = budget.outputShare();
  const shownOut = cutUtf8(stdout, share);
  const shownErr = cutUtf8(stderr, share);
  result.stdout = shownOut.text;
  result.stderr = shownErr.text;
  const omitted = {};
  if (shownOut.omitted > 0) omitted.stdout_bytes = shownOut.omitted;
  if (shownErr.omitted > 0) omitted.stderr_bytes = shownErr.omitted;
  if (Object.keys(omitted).length > 0) result.omitted = omitted;
  // A stdio test's `actual` is its stdout as shown; its `expected` (the request's) gets the same share.
  if (result.kind === "stdio" && result.actual !== null) result.actual = result.stdout;
  if (typeof result.expected === "string") result.expected = result.kind === "stdio" ? cutUtf8(result.expected, share).text : cutChars(result.expected, SHOWN_VALUE_LIMIT);
  if (result.kind !== "stdio" && typeof result.actual === "string") result.actual = cutChars(result.actual, SHOWN_VALUE_LIMIT);
  result.error = boundError(result.error);
  const errorBytes = result.error === null ? 0 : Buffer.byteLength(JSON.stringify(result.error));
  budget.spend(shownOut.bytes + shownErr.bytes + textBytes(result.expected) + (result.kind === "stdio" ? shownOut.bytes : textBytes(result.actual)) + errorBytes);
  return result;
}

/**
 * Cuts `events` to `maxBytes` of JSON, keeping a head and a tail around one
 * gap: at `gapAt` when the trace already has one (its head/tail boundary),
 * else in the middle. Returns the kept events, the new gap position (-1
 * when nothing was cut and there was none) and how many events were left out.
 */
export function boundEvents(events, gapAt, maxBytes) {
  const sizes = events.map((event) => Buffer.byteLength(JSON.stringify(event)) + 1);
  const total = sizes.reduce((sum, size) => sum + size, 0);
  if (total <= maxBytes) return { events, gapAt, omitted: 0, bytes: total };
  // The removed events must be one run: [prefix, suffix) around the boundary.
  const boundary = gapAt >= 0 ? gapAt : 0;
  const headBytes = sizes.slice(0, boundary).reduce((sum, size) => sum + size, 0);
  let suffix = events.length;
  let used = 0;
  const tailRoom = gapAt >= 0 ? Math.max(maxBytes / 2, maxBytes - headBytes) : maxBytes / 2;
  while (suffix > boundary && used + sizes[suffix - 1] <= tailRoom) used += sizes[--suffix];
  let prefix = 0;
  const headEnd = gapAt >= 0 ? gapAt : suffix;
  while (prefix < headEnd && used + sizes[prefix] <= maxBytes) used += sizes[prefix++];
  return { events: [...events.slice(0, prefix), ...events.slice(suffix)], gapAt: prefix, omitted: suffix - prefix, bytes: used };
}
