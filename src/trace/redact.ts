/**
 * Secrets never reach an LLM or a client: values that look like credentials
 * are masked in raw traces, reports and renderings.
 *
 * Masked:
 *  - API keys and tokens by their shape (OpenAI/Stripe-style `sk-…`, GitHub,
 *    Slack, AWS access key ids, Google API keys, JWTs, `Bearer …` headers);
 *  - values of variables, keys and environment-style names that say they
 *    hold a secret (`password`, `secret`, `token`, `api_key`, `OPENAI_API_KEY`, …);
 *  - e-mail addresses.
 * Not masked: hashes and other long hex strings (tests compare md5 digests).
 */
import type { ExecutionReport, RawTrace, TestReport, TraceEvent } from "../shared/schema/execution.ts";

export const REDACTED = "[REDACTED]";
export const REDACTED_EMAIL = "[EMAIL]";

// Names are compared word by word (snake_case, kebab-case, camelCase):
// `db_password`, `apiKey`, `GITHUB_TOKEN` hold secrets; `tokens` (a lexer's
// list) and a plain `key` (a dict key) do not. A plain `token` is a lexer's
// token as often as a credential: its value goes only when it looks like one.
const SECRET_WORDS = new Set(["password", "passwd", "pwd", "passphrase", "secret", "secrets", "apikey", "credential", "credentials"]);
const SECRET_PAIRS = new Set([
  "api key",
  "access key",
  "private key",
  "secret key",
  "client secret",
  "auth token",
  "access token",
  "refresh token",
  "bearer token",
  "session token",
]);
const MAYBE_SECRET_WORDS = new Set(["token"]);

/** A value shaped like a credential: one long unbroken run of token characters. */
function looksLikeCredential(value: string): boolean {
  const bare = value.replace(/^['"]|['"]$/g, "");
  return bare.length >= 12 && /^[A-Za-z0-9._~+/=-]+$/.test(bare);
}

function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

const KEY_SHAPES: readonly RegExp[] = [
  /\b(?:sk|pk|rk)[-_](?:live|test|proj|ant)?[-_]?[A-Za-z0-9_-]{6,}/g,
  /\bgh[pousr]_[A-Za-z0-9]{10,}/g,
  /\bgithub_pat_[A-Za-z0-9_]{10,}/g,
  /\bxox[abprs]-[A-Za-z0-9-]{8,}/g,
  /\bA(?:KIA|SIA)[0-9A-Z]{12,}/g,
  /\bAIza[0-9A-Za-z_-]{20,}/g,
  /\beyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*/g,
  /\bBearer\s+[A-Za-z0-9._~+/-]{8,}=*/g,
];

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;

// `password = 'x'`, `'api_key': "x"`, `TOKEN=x` inside reprs and text: a
// name, then `=` or `:`, then a value. The value goes when the name says secret.
const NAMED_VALUE = /(['"]?)([A-Za-z_][A-Za-z0-9_-]*)\1(\s*[:=]\s*)(?!\[REDACTED\])('[^']*'|"[^"]*"|[^\s,})\]]+)/g;

const QUICK_CHECK = /[@]|sk|pk|rk|gh|github|xox|AKIA|ASIA|AIza|eyJ|Bearer|pass|pwd|secret|token|key|credential/i;

/** Masks secrets in free text. */
export function redactText(text: string): string {
  if (!QUICK_CHECK.test(text)) return text;
  let result = text;
  for (const shape of KEY_SHAPES) result = result.replace(shape, REDACTED);
  result = result.replace(NAMED_VALUE, (match: string, quote: string, name: string, separator: string, value: string) =>
    isSecretValue(name, value) ? `${quote}${name}${quote}${separator}${REDACTED}` : match,
  );
  result = result.replace(EMAIL, REDACTED_EMAIL);
  return result;
}

/** True for a variable or key name that says its value is a secret. */
type SecretName = "always" | "if-credential" | false;

function secretName(name: string): SecretName {
  const words = nameWords(name);
  let maybe = false;
  for (let index = 0; index < words.length; index++) {
    const word = words[index] as string;
    if (SECRET_WORDS.has(word)) return "always";
    if (index > 0 && SECRET_PAIRS.has(`${words[index - 1]} ${word}`)) return "always";
    if (MAYBE_SECRET_WORDS.has(word)) maybe = true;
  }
  return maybe ? "if-credential" : false;
}

/** True for a variable or key name that says its value is a secret (whatever the value). */
export function isSecretName(name: string): boolean {
  return secretName(name) === "always";
}

/** Whether a value held under `name` must be masked. */
export function isSecretValue(name: string, value: string): boolean {
  const kind = secretName(name);
  return kind === "always" || (kind === "if-credential" && looksLikeCredential(value));
}

function redactLocals(locals: Record<string, string>): Record<string, string> {
  let changed = false;
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(locals)) {
    const masked = isSecretValue(name, value) ? REDACTED : redactText(value);
    if (masked !== value) changed = true;
    result[name] = masked;
  }
  return changed ? result : locals;
}

function redactEvent(event: TraceEvent): TraceEvent {
  const locals = event.locals === undefined ? undefined : redactLocals(event.locals);
  const value = event.value === undefined ? undefined : redactText(event.value);
  if (locals === event.locals && value === event.value) return event;
  return {
    ...event,
    ...(locals === undefined ? {} : { locals }),
    ...(value === undefined ? {} : { value }),
  };
}

type ProbeValue = NonNullable<RawTrace["probe"]>["first"][number];

function redactProbeValue(entry: ProbeValue): ProbeValue {
  return {
    ...entry,
    ...(entry.value === undefined ? {} : { value: redactText(entry.value) }),
    ...(entry.error === undefined ? {} : { error: redactText(entry.error) }),
  };
}

export function redactTrace(trace: RawTrace): RawTrace {
  const probe = trace.probe;
  return {
    ...trace,
    events: trace.events.map(redactEvent),
    ...(probe === undefined ? {} : { probe: { ...probe, first: probe.first.map(redactProbeValue), last: probe.last.map(redactProbeValue) } }),
  };
}

function redactNullable(text: string | null): string | null {
  return text === null ? null : redactText(text);
}

export function redactTestReport(test: TestReport): TestReport {
  const redacted: TestReport = {
    ...test,
    expected: redactNullable(test.expected),
    actual: redactNullable(test.actual),
    stdout: redactText(test.stdout),
    stderr: redactText(test.stderr),
    error:
      test.error === null
        ? null
        : {
            ...test.error,
            message: redactText(test.error.message),
            ...(test.error.traceback === undefined ? {} : { traceback: redactText(test.error.traceback) }),
            ...(test.error.assertion === undefined
              ? {}
              : {
                  assertion: {
                    ...test.error.assertion,
                    left: redactText(test.error.assertion.left),
                    right: redactNullable(test.error.assertion.right),
                    source: redactText(test.error.assertion.source),
                  },
                }),
          },
  };
  if (test.trace !== undefined) redacted.trace = redactTrace(test.trace);
  if (test.rendering !== undefined) redacted.rendering = redactText(test.rendering);
  return redacted;
}

export function redactReport(report: ExecutionReport): ExecutionReport {
  return { ...report, tests: report.tests.map(redactTestReport) };
}
