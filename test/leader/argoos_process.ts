/**
 * An `argoos serve` child process whose JSON log lines (stderr) are collected as they come.
 *
 * @module
 */

import { cliEnv, MAIN } from "../cli/run_cli.ts";

/**
 * A running `argoos` process.
 *
 * @example
 * ```ts ignore
 * import { ArgoosProcess } from "./argoos_process.ts";
 * const p = new ArgoosProcess(["serve", "--identity", "a"], { KUBECONFIG: path });
 * await p.terminate();
 * ```
 */
export class ArgoosProcess {
  readonly child: Deno.ChildProcess;
  /** Parsed log lines so far (non-JSON lines are kept as `{ text }`). */
  readonly records: Record<string, unknown>[] = [];
  readonly #reading: Promise<void>;

  constructor(args: string[], vars: Record<string, string>) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, ...args],
      env: cliEnv(vars),
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.#reading = this.#read();
  }

  /** Whether some log line has this message. */
  logged(msg: string): boolean {
    return this.records.some((r) => r.msg === msg);
  }

  /** Send SIGTERM (unless it has exited) and wait for the exit code and the last log line. */
  async terminate(): Promise<number> {
    try {
      this.child.kill("SIGTERM");
    } catch {
      // Already exited.
    }
    const { code } = await this.child.status;
    await this.#reading;
    return code;
  }

  async #read(): Promise<void> {
    let rest = "";
    for await (const chunk of this.child.stderr.pipeThrough(new TextDecoderStream())) {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop()!;
      for (const line of lines) this.#keep(line);
    }
    if (rest) this.#keep(rest);
  }

  #keep(line: string): void {
    try {
      this.records.push(JSON.parse(line));
    } catch {
      this.records.push({ text: line });
    }
  }
}
