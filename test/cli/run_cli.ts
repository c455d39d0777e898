/**
 * Running `argoos` as a separate process, as an operator would: `deno run -A` on the
 * entry point (or on the bundle), with a controlled environment.
 *
 * @module
 */

import { LINEAR_ENGINE_FLAG } from "../../lib/policy/pattern.ts";
import { LOOPBACK_INSECURE } from "../support/loopback.ts";

/** The CLI entry point, as a path. */
export const MAIN = new URL("../../cli/main.ts", import.meta.url).pathname;

/**
 * A clean environment: only what Deno itself needs (PATH, HOME, its cache dirs, and the proxy
 * and CA settings it needs to fetch npm packages, e.g. esbuild for `deno bundle`), plus `vars`
 * (`INSECURE_NO_TOKEN` is true and `REGISTRY_INSECURE` lists loopback unless `vars` say otherwise),
 * so no KUBECONFIG, in-cluster variable or token of the developer's leaks into a test.
 *
 * @example
 * ```ts
 * import { cliEnv } from "./run_cli.ts";
 * cliEnv({ KUBECONFIG: "/nonexistent" }).KUBECONFIG; // "/nonexistent"
 * ```
 */
export function cliEnv(vars: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED_THROUGH) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  // Serving without a token is refused at start, and loopback registries get plain http only
  // when listed: tests about other things say both are meant.
  return {
    ...env,
    NO_COLOR: "1",
    INSECURE_NO_TOKEN: "true",
    REGISTRY_INSECURE: LOOPBACK_INSECURE.join(","),
    ...vars,
  };
}

const PASSED_THROUGH = [
  "PATH",
  "HOME",
  "DENO_DIR",
  "XDG_CACHE_HOME",
  "DENO_CERT",
  "DENO_TLS_CA_STORE",
  "NODE_EXTRA_CA_CERTS",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "NPM_CONFIG_REGISTRY",
];

/** What a finished run printed and returned. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run `deno run -A <script> ...args` to completion, in `cwd` (default this process's), with
 * V8's linear-time regexp engine as `deno task start` runs it (tag patterns need it), unless
 * `linearEngine` is false.
 *
 * @example
 * ```ts ignore
 * import { MAIN, runCli } from "./run_cli.ts";
 * const { code, stdout } = await runCli(MAIN, ["--help"]);
 * ```
 */
export async function runCli(
  script: string,
  args: string[],
  vars: Record<string, string> = {},
  cwd?: string,
  linearEngine = true,
): Promise<CliRun> {
  const v8 = linearEngine ? [`--v8-flags=${LINEAR_ENGINE_FLAG}`] : [];
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...v8, "-A", script, ...args],
    env: cliEnv(vars),
    clearEnv: true,
    cwd,
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}
