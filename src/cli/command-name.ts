/** Which command a `trailproof` command line runs, found before the commands are loaded (main.ts loads only that one). */

/** Global options that take a value (in the next argument unless written `--name=value`). */
const GLOBAL_VALUE_OPTIONS = new Set(['--data-dir', '--database-url']);

/** The command named on the command line: its first argument that is neither an option nor an option's value. */
export function commandName(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('-')) return arg;
    if (GLOBAL_VALUE_OPTIONS.has(arg)) i += 1;
  }
  return undefined;
}
