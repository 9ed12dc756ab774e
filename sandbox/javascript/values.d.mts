/** Types of values.mjs, for the tests that call it directly. */
export const DEFAULT_RELATIVE_TOLERANCE: number;
export const DEFAULT_ABSOLUTE_TOLERANCE: number;
export function canonicalEqual(expected: unknown, actual: unknown, relative?: number, absolute?: number): boolean;
export function canonicalFromJson(value: unknown): unknown;
export function normalizeOutput(text: string): string;
export function reprJson(value: unknown, limit: number): string;
