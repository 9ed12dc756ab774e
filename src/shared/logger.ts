/** A minimal structured logger: one line per event, JSON objects with LOG_FORMAT=json (chosen once, at start-up). */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

type Writer = (level: string, message: string, fields: Record<string, unknown> | undefined) => void;

const WRITERS: Readonly<Record<"text" | "json", Writer>> = {
  json: (level, message, fields) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`),
  text: (level, message, fields) => process.stderr.write(`[tracefix] ${level}: ${message}${fields === undefined ? "" : ` ${JSON.stringify(fields)}`}\n`),
};

export function createLogger(format: "text" | "json"): Logger {
  const write = WRITERS[format];
  return {
    info: (message, fields) => write("info", message, fields),
    warn: (message, fields) => write("warn", message, fields),
    error: (message, fields) => write("error", message, fields),
  };
}

/** Text lines on stderr: the logger of tools and of pools started without one. */
export const consoleLogger: Logger = createLogger("text");

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
