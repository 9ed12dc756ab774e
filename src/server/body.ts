/**
 * Request bodies, read once for every route: bounded in bytes (counted as
 * they arrive, before anything is parsed), UTF-8, JSON read with exact
 * numbers and bounded nesting (shared/json.ts), then validated against the
 * route's schema. Every failure is a 400 naming the field.
 *
 * Test values (`args`, `kwargs`, `expected` of a test) keep the literals the
 * client wrote: a Python program gets 18446744073709551617, 1e400 (inf),
 * -0.0 and 1.0 as Python reads them. A JavaScript program gets JavaScript's
 * reading of the literal; one JavaScript would change (an integer past 2^53,
 * an overflow) is refused, since the program could never see it.
 */
import type { IncomingMessage } from "node:http";

import type { Context } from "hono";
import type { z } from "zod";

import { InvalidRequestError } from "../shared/errors.ts";
import { JsonSyntaxError, parseJsonExact, setAtPath, type JsonPath, type ParsedJson } from "../shared/json.ts";
import type { Language } from "../shared/schema/execution.ts";
import { parseRequest } from "./validation.ts";

export const MAX_JSON_DEPTH = 64;

export interface BodyOptions<Request> {
  readonly maxBytes: number;
  /** The language whose programs receive the test values (how exact numbers are handed over). */
  readonly languageOf: (request: Request) => Language;
}

function tooLarge(maxBytes: number): InvalidRequestError {
  return new InvalidRequestError("body", `body: larger than the ${maxBytes}-byte limit`);
}

/** The body's bytes, refused as soon as they pass `maxBytes` (a declared length is checked first). */
async function readBytes(context: Context, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(context.req.header("content-length") ?? Number.NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  // @hono/node-server hands us the Node request: reading it directly skips a web-stream copy.
  const incoming = (context.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const chunks: Uint8Array[] = [];
  let size = 0;
  const source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> = incoming ?? (context.req.raw.body as AsyncIterable<Uint8Array> | null) ?? [];
  for await (const chunk of source) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      incoming?.resume();
      throw tooLarge(maxBytes);
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks);
}

function fieldOf(path: JsonPath): string {
  return path.length === 0 ? "body" : path.map(String).join(".");
}

function parseBody(bytes: Uint8Array): ParsedJson {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new InvalidRequestError("body", "body: not valid UTF-8");
  }
  try {
    return parseJsonExact(text, MAX_JSON_DEPTH);
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    const field = fieldOf(error.path);
    const what = error.message.startsWith("nested") ? error.message : `not valid JSON: ${error.message}`;
    throw new InvalidRequestError(field, `${field}: ${what}`);
  }
}

/** `tests.3.args.0`, `problem.hidden_tests.1.expected.k`: a value a program receives or is compared with. */
export function isTestValuePath(path: JsonPath): boolean {
  for (let index = 0; index + 2 < path.length; index++) {
    const list = path[index];
    if ((list === "tests" || list === "hidden_tests") && typeof path[index + 1] === "number") {
      const field = path[index + 2];
      if (field === "args" || field === "kwargs" || field === "expected") return true;
    }
  }
  return false;
}

/**
 * How each language's programs receive a number literal: Python reads the
 * literal itself; JavaScript gets JavaScript's reading of it.
 */
const NUMBER_LITERALS: Readonly<Record<Language, "as-written" | "javascript">> = { python: "as-written", javascript: "javascript" };

/** Puts the exact literals back into the validated request's test values. */
function restoreExactNumbers<Request>(request: Request, parsed: ParsedJson, language: Language): void {
  for (const { path, number } of parsed.exact) {
    if (!isTestValuePath(path)) continue;
    if (NUMBER_LITERALS[language] === "javascript") {
      if (number.changesInJavaScript) {
        const field = fieldOf(path);
        throw new InvalidRequestError(
          field,
          `${field}: ${number.text} is not a JavaScript number (it would become ${String(Number(number.text))}); pass a string or a BigInt through \`input\`/\`output\``,
        );
      }
      continue;
    }
    setAtPath(request, path, number);
  }
}

/** Reads, parses and validates the body of `context` with `schema`. */
export async function readRequest<Schema extends z.ZodType>(
  context: Context,
  schema: Schema,
  options: BodyOptions<z.infer<Schema>>,
): Promise<z.infer<Schema>> {
  const parsed = parseBody(await readBytes(context, options.maxBytes));
  const request = parseRequest(schema, parsed.value);
  if (parsed.exact.length > 0) restoreExactNumbers(request, parsed, options.languageOf(request));
  return request;
}
