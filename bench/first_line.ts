/**
 * Reading where a benchmark's child process listens: the one line it prints first.
 *
 * @module
 */

/**
 * The first line a child process prints (where it listens), then its output is dropped: nothing
 * else is printed, and a full pipe must never block it.
 *
 * @example
 * ```ts ignore
 * import { firstLine } from "./first_line.ts";
 * const urls = JSON.parse(await firstLine(child, "the fake cluster process"));
 * ```
 */
export async function firstLine(
  child: Deno.ChildProcess,
  what: string,
): Promise<string> {
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) throw new Error(`${what} exited before it listened: ${text}`);
    text += value;
  }
  lines.releaseLock();
  child.stdout.cancel().catch(() => {});
  return text.slice(0, text.indexOf("\n"));
}
