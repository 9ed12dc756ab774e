/** Types of instrument.mjs, for the tests that call it directly. */
export class ProgramSyntaxError extends Error {
  readonly line: number | null;
  readonly column: number | null;
}
export class InstrumentLimitError extends Error {}
export interface SiteTable {
  readonly levels: readonly unknown[];
  readonly sites: readonly number[];
}
export function toScript(source: string): string;
export function instrument(source: string, prefix: string, limits?: { readonly deadline?: number; readonly maxChars?: number }): { code: string; sites: number; table: SiteTable };
