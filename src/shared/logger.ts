/** A minimal structured logger: one line per event, JSON when LOG_FORMAT=json. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

function write(level: string, message: string, fields: Record<string, unknown> | undefined): void {
  if (process.env["LOG_FORMAT"] === "json") {
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
    return;
  }
  const extra = fields === undefined ? "" : ` ${JSON.stringify(fields)}`;
  process.stderr.write(`[tracefix] ${level}: ${message}${extra}\n`);
}

export const consoleLogger: Logger = {
  info: (message, fields) => write("info", message, fields),
  warn: (message, fields) => write("warn", message, fields),
  error: (message, fields) => write("error", message, fields),
};

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
