/**
 * `argoos hold KIND/NAME` and `argoos release KIND/NAME`: set or remove `argoos.io/hold` (and
 * `argoos.io/hold-reason`) with one merge patch, as the user's kubeconfig allows: their RBAC
 * decides, not Argoos's.
 *
 * @module
 */

import { KubeClient } from "../lib/kube/client.ts";
import { resolveConnection } from "../lib/kube/connection.ts";
import { KubeApiError } from "../lib/kube/errors.ts";
import { HOLD_ANNOTATION, holdAnnotations } from "../lib/policy/hold.ts";
import type { KubeObject } from "../lib/workloads/workload.ts";
import type { Invocation } from "./config.ts";

/**
 * Run `argoos hold` or `argoos release`; prints one line, resolves to the exit code (1 when
 * the API server refused, e.g. not found or forbidden).
 *
 * @example
 * ```ts ignore
 * import { readInvocation } from "./config.ts";
 * import { runHold } from "./hold.ts";
 * const inv = await readInvocation(["hold", "deployment/web", "-n", "team", "--for", "24h"], Deno.env.get);
 * Deno.exit(await runHold(inv));
 * ```
 */
export async function runHold(
  { command, config, target }: Invocation,
  now: () => number = Date.now,
): Promise<number> {
  const { kind, name } = target!;
  const client = new KubeClient(await resolveConnection(config.kube));
  const namespace = target!.namespace ?? client.connection.namespace ?? "default";
  const what = `${kind.type.resource}.${kind.type.group}/${name} in ${namespace}`;
  try {
    const annotations = holdAnnotations(command === "hold" ? target : undefined, now());
    const written = await client.patch<KubeObject>(
      kind.type,
      namespace,
      name,
      { metadata: { annotations } },
      "merge",
    );
    const value = written.metadata?.annotations?.[HOLD_ANNOTATION];
    console.log(
      command === "release"
        ? `${what} released: Argoos reconciles it now`
        : `${what} held ${value === "true" ? "until released" : `until ${value}`}` +
          (target!.reason ? ` (${target!.reason})` : ""),
    );
    return 0;
  } catch (err) {
    if (!(err instanceof KubeApiError)) throw err;
    console.error(`argoos: ${command} ${what}: ${err.message}`);
    return 1;
  } finally {
    client.connection.close();
  }
}
