/** `--name value` options of the command-line tools. */
export function option(name: string, fallback: string): string;
export function option(name: string, fallback?: undefined): string | undefined;
export function option(name: string, fallback?: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] !== undefined ? (process.argv[index + 1] as string) : fallback;
}
