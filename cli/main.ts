/**
 * The `argoos` command: `serve` (default), `poll` and `plan`.
 *
 * @module
 */

import { NoClusterError } from "../lib/kube/connection.ts";
import { KubeconfigError } from "../lib/kube/kubeconfig.ts";
import { startArgoos } from "../lib/service/argoos.ts";
import { helpText, readInvocation, UsageError } from "./config.ts";
import { runPlan } from "./plan.ts";

async function main(args: string[]): Promise<number> {
  let invocation;
  try {
    invocation = await readInvocation(args, (name) => Deno.env.get(name));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`argoos: ${err.message}\nTry 'argoos --help'.`);
    return 2;
  }
  if (invocation.help) {
    console.log(helpText());
    return 0;
  }
  try {
    if (invocation.command === "plan") return await runPlan(invocation);
    const argoos = await startArgoos(invocation.config);
    const stopped = Promise.withResolvers<void>();
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      Deno.addSignalListener(signal, () => argoos.stop().then(stopped.resolve));
    }
    await stopped.promise;
    return 0;
  } catch (err) {
    if (err instanceof NoClusterError || err instanceof KubeconfigError) {
      console.error(`argoos: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
