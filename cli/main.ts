/**
 * The `argoos` command: `serve` (default), `poll`, `plan`, `hold`, `release`, `approve` and
 * `reject`.
 *
 * @module
 */

import { KubeClient } from "../lib/kube/client.ts";
import { NoClusterError, resolveConnection } from "../lib/kube/connection.ts";
import { ExecCredentialError } from "../lib/kube/exec_credential.ts";
import { KubeconfigError } from "../lib/kube/kubeconfig.ts";
import { probeApiServer } from "../lib/kube/probe.ts";
import { flushLog } from "../lib/log/logger.ts";
import { type Argoos, ListenError, startArgoos } from "../lib/service/argoos.ts";
import { helpText, readInvocation, UsageError } from "./config.ts";
import { runApproval } from "./approve.ts";
import { runHold } from "./hold.ts";

/** A usage error, said as one line plus the pointer to --help; exit code 2. */
function usage(err: UsageError, context = ""): number {
  console.error(`argoos: ${context}${err.message}\nTry 'argoos --help'.`);
  return 2;
}

async function main(args: string[]): Promise<number> {
  let invocation;
  try {
    invocation = await readInvocation(args, (name) => Deno.env.get(name));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return usage(err);
  }
  if (invocation.help) {
    console.log(helpText());
    return 0;
  }
  try {
    // Loaded only for plan: it reads YAML manifests, whose parser costs every start.
    if (invocation.command === "plan") return await (await import("./plan.ts")).runPlan(invocation);
    if (invocation.command === "hold" || invocation.command === "release") {
      return await runHold(invocation);
    }
    if (invocation.command === "approve" || invocation.command === "reject") {
      return await runApproval(invocation);
    }
    // Resolved and probed here, so an unreachable cluster ends start-up with one line
    // instead of a service that retries its list and watch forever.
    const connection = await resolveConnection(invocation.config.kube);
    let argoos: Argoos;
    try {
      await probeApiServer(connection);
      argoos = await startArgoos(invocation.config, { client: new KubeClient(connection) });
    } catch (err) {
      connection.close();
      throw err;
    }
    const stopped = Promise.withResolvers<void>();
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      Deno.addSignalListener(signal, () => argoos.stop().then(stopped.resolve));
    }
    await stopped.promise;
    connection.close();
    return 0;
  } catch (err) {
    // Found past the flags, e.g. a `plan -f` file that cannot be read or parsed.
    if (err instanceof UsageError) return usage(err, `${invocation.command}: `);
    if (
      err instanceof NoClusterError || err instanceof KubeconfigError ||
      err instanceof ExecCredentialError || err instanceof ListenError
    ) {
      console.error(`argoos: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

if (import.meta.main) {
  // Log lines still waiting are written first: Deno.exit runs no pending timer.
  const code = await main(Deno.args).finally(flushLog);
  Deno.exit(code);
}
