/**
 * `argoos approve KIND/NAME -n NAMESPACE` and `argoos reject KIND/NAME -n NAMESPACE`: approve or
 * reject the updates a workload's gates hold (`argoos.io/pending`), with the user's own
 * kubeconfig, so whoever may patch the workload may decide and the API server's audit log
 * records who did.
 *
 * @module
 */

import { APPROVE_ANNOTATION, readPending } from "../lib/gates/pending.ts";
import { decodeRejected, encodeRejected, REJECTED_ANNOTATION } from "../lib/health/record.ts";
import { parseReference, referenceRepository } from "../lib/image/reference.ts";
import { KubeClient } from "../lib/kube/client.ts";
import { resolveConnection } from "../lib/kube/connection.ts";
import { KubeApiError } from "../lib/kube/errors.ts";
import type { WorkloadKind } from "../lib/workloads/kinds.ts";
import { type KubeObject, readWorkload } from "../lib/workloads/workload.ts";
import type { Invocation } from "./config.ts";

/** What {@linkcode runApproval} may be given instead of the defaults (tests). */
export interface ApprovalDeps {
  /** A client to use instead of one from the kubeconfig. */
  client?: KubeClient;
  /** Where the one-line answer goes; default `console.log`. */
  print?: (line: string) => void;
  now?: () => number;
}

/**
 * Run `argoos approve` or `argoos reject`, read by `readInvocation` as `hold` and `release` are
 * (kubectl's `kind/name`, `-n`, else the kubeconfig context's namespace, else `default`).
 * Approving writes `argoos.io/approve` with the digests `argoos.io/pending` names; rejecting
 * adds them to `argoos.io/rejected` (reason `rejected`), so Argoos never writes them. The write
 * carries the resourceVersion it read: what was approved is what was pending. Resolves to the
 * exit code (1 when nothing waits or the cluster refuses).
 *
 * @example
 * ```ts ignore
 * import { readInvocation } from "./config.ts";
 * import { runApproval } from "./approve.ts";
 * const inv = await readInvocation(["approve", "deployment/web", "-n", "team"], Deno.env.get);
 * Deno.exit(await runApproval(inv));
 * ```
 */
export async function runApproval(
  { command, config, target }: Invocation,
  deps: ApprovalDeps = {},
): Promise<number> {
  const { kind, name } = target!;
  const client = deps.client ?? new KubeClient(await resolveConnection(config.kube));
  const namespace = target!.namespace ?? client.connection.namespace ?? "default";
  try {
    return await decide(
      command === "approve",
      client,
      kind,
      namespace,
      name,
      deps.print ?? console.log,
      deps.now ?? Date.now,
    );
  } catch (err) {
    if (!(err instanceof KubeApiError)) throw err;
    console.error(`argoos: ${command}: ${err.message}`);
    return 1;
  } finally {
    if (!deps.client) client.connection.close();
  }
}

async function decide(
  approve: boolean,
  client: KubeClient,
  kind: WorkloadKind,
  namespace: string,
  name: string,
  print: (line: string) => void,
  now: () => number,
): Promise<number> {
  const obj = await client.get<KubeObject>(kind.type, namespace, name);
  const w = readWorkload(kind, obj);
  const what = `${kind.type.kind.toLowerCase()}/${name} in ${namespace}`;
  const pending = Object.entries(readPending(w.annotations));
  if (pending.length === 0) {
    console.error(`argoos: no update waits on ${what}`);
    return 1;
  }
  let annotations: Record<string, string>;
  if (approve) {
    annotations = {
      [APPROVE_ANNOTATION]: [...new Set(pending.map(([, p]) => p.digest))].join(","),
    };
  } else {
    let text = w.annotations[REJECTED_ANNOTATION];
    for (const [, p] of pending) {
      const ref = parseReference(p.image);
      text = encodeRejected(decodeRejected(text).value, {
        repository: referenceRepository(ref),
        digest: p.digest,
        ...(ref.tag ? { tag: ref.tag } : {}),
        at: now(),
        reason: "rejected",
      });
    }
    annotations = { [REJECTED_ANNOTATION]: text! };
  }
  // The resourceVersion read: a newer candidate written since is not decided unseen (409).
  await client.patch(kind.type, namespace, name, {
    metadata: { resourceVersion: w.resourceVersion, annotations },
  }, "merge");
  for (const [container, p] of pending) {
    print(
      `${approve ? "approved" : "rejected"} ${p.image} (${p.digest}) for ${container} of ${what}`,
    );
  }
  return 0;
}
