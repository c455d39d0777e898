/**
 * Running a credential plugin or helper (kubelet credential providers, docker credential
 * helpers, kubeconfig exec plugins): one request on stdin, its answer on stdout, under a
 * deadline, with a minimal environment and a cap on what is read back.
 *
 * @module
 */

import { readCapped } from "./read_capped.ts";

/**
 * How to run a helper.
 *
 * @example
 * ```ts
 * import type { RunOptions } from "./run_plugin.ts";
 * const opts: RunOptions = { timeoutMs: 10_000, env: { AWS_PROFILE: "ci" } };
 * ```
 */
export interface RunOptions {
  /** Killed (SIGKILL) after this long. */
  timeoutMs: number;
  /** Set on top of the minimal environment (PATH and HOME of this process). */
  env?: Record<string, string>;
  /** stdout and stderr are each read up to this many bytes. Default 1 MiB. */
  maxOutputBytes?: number;
}

/**
 * What a helper answered.
 *
 * @example
 * ```ts
 * import type { RunResult } from "./run_plugin.ts";
 * const r: RunResult = { code: 0, stdout: "{}", stderr: "" };
 * ```
 */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a helper; injectable so tests and callers can stand in for processes.
 *
 * @example
 * ```ts
 * import type { RunHelper } from "./run_plugin.ts";
 * const fake: RunHelper = () => Promise.resolve({ code: 0, stdout: "{}", stderr: "" });
 * ```
 */
export type RunHelper = (
  command: string,
  args: readonly string[],
  stdin: string,
  opts: RunOptions,
) => Promise<RunResult>;

/** The helper could not be run, ran too long, or said too much. */
export class HelperError extends Error {
  override name = "HelperError";
}

const MIB = 1 << 20;

/** A child's output as text, refused once it passes `max` bytes. */
async function readOutput(
  stream: ReadableStream<Uint8Array>,
  max: number,
  signal: AbortSignal,
): Promise<string> {
  const tooLarge = () => new HelperError(`output exceeds ${max} bytes`);
  return new TextDecoder().decode(await readCapped(stream, max, tooLarge, signal));
}

/** PATH and HOME of this process: enough to find and run a helper, nothing else leaks. */
function minimalEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

/**
 * Run `command args…` with `stdin`, a cleared environment (PATH, HOME and `opts.env`) and a
 * deadline. Throws {@linkcode HelperError} when it cannot start, times out or overflows; a
 * non-zero exit is returned, for the caller to interpret.
 *
 * @example
 * ```ts
 * import { runHelper } from "./run_plugin.ts";
 * const r = await runHelper("cat", [], "hello", { timeoutMs: 5_000 });
 * r.stdout; // "hello"
 * ```
 */
export const runHelper: RunHelper = async (command, args, stdin, opts) => {
  const max = opts.maxOutputBytes ?? MIB;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command, {
      args: [...args],
      clearEnv: true,
      env: minimalEnv(opts.env),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (err) {
    throw new HelperError(`cannot run ${command}: ${(err as Error).message}`, { cause: err });
  }
  // At the deadline the helper is killed and its output no longer read: a child of its own may
  // still hold the pipes open.
  const deadline = new AbortController();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
    deadline.abort(new HelperError(`${command} timed out after ${opts.timeoutMs}ms`));
  }, opts.timeoutMs);
  try {
    const writer = child.stdin.getWriter();
    // A helper may exit without reading its stdin; that is its answer, not our failure.
    await writer.write(new TextEncoder().encode(stdin)).catch(() => {});
    await writer.close().catch(() => {});
    const [stdout, stderr, status] = await Promise.all([
      readOutput(child.stdout, max, deadline.signal),
      readOutput(child.stderr, max, deadline.signal),
      child.status,
    ]).catch(async (err) => {
      try {
        child.kill("SIGKILL");
      } catch { /* already exited */ }
      await child.status;
      throw err;
    });
    deadline.signal.throwIfAborted();
    return { code: status.code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
};
