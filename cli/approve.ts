/**
 * `argoos approve KIND/NAME -n NAMESPACE` and `argoos reject KIND/NAME -n NAMESPACE`: approve or
 * reject the updates a workload's gates hold (`argoos.io/pending`), with the user's own
 * kubeconfig, so whoever may patch the workload may decide and the API server's audit log
 * records who did.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { APPROVE_ANNOTATION, readPending } from "../lib/gates/pending.ts";
import { decodeRejected, encodeRejected, REJECTED_ANNOTATION } from "../lib/health/record.ts";
import { parseReference, referenceRepository } from "../lib/image/reference.ts";
import { KubeClient } from "../lib/kube/client.ts";
import { NoClusterError, resolveConnection } from "../lib/kube/connection.ts";
import { KubeApiError } from "../lib/kube/errors.ts";
import { KubeconfigError, loadKubeconfig, selectContext } from "../lib/kube/kubeconfig.ts";
import { kindNamed, type WorkloadKind } from "../lib/workloads/kinds.ts";
import { type KubeObject, readWorkload } from "../lib/workloads/workload.ts";
import { UsageError } from "./config.ts";

/** kubectl's names for the kinds Argoos manages, singular, plural and short. */
const KIND_NAMES: Record<string, string> = {
  deployment: "Deployment",
  deployments: "Deployment",
  deploy: "Deployment",
  statefulset: "StatefulSet",
  statefulsets: "StatefulSet",
  sts: "StatefulSet",
  daemonset: "DaemonSet",
  daemonsets: "DaemonSet",
  ds: "DaemonSet",
  cronjob: "CronJob",
  cronjobs: "CronJob",
  cj: "CronJob",
};

/** What {@linkcode runApproval} may be given instead of the defaults (tests). */
export interface ApprovalDeps {
  env?: (name: string) => string | undefined;
  /** A client to use instead of one from the kubeconfig. */
  client?: KubeClient;
  /** Where the one-line answer goes; default `console.log`. */
  print?: (line: string) => void;
  now?: () => number;
}

/**
 * Run `argoos approve` or `argoos reject` (`args` from the verb on). Approving writes
 * `argoos.io/approve` with the digests `argoos.io/pending` names; rejecting adds them to
 * `argoos.io/rejected` (reason `rejected`), so Argoos never writes them. The write carries the
 * resourceVersion it read: what was approved is what was pending. Resolves to the exit code
 * (2 for a bad command line, 1 when nothing waits or the cluster refuses).
 *
 * @example
 * ```ts ignore
 * import { runApproval } from "./approve.ts";
 * await runApproval(["approve", "deployment/web", "-n", "team"]); // 0
 * ```
 */
export async function runApproval(args: string[], deps: ApprovalDeps = {}): Promise<number> {
  try {
    return await approval(args, deps);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`argoos: ${args[0]}: ${err.message}\nTry 'argoos --help'.`);
      return 2;
    }
    if (
      err instanceof KubeApiError || err instanceof NoClusterError || err instanceof KubeconfigError
    ) {
      console.error(`argoos: ${args[0]}: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

async function approval(args: string[], deps: ApprovalDeps): Promise<number> {
  const env = deps.env ?? ((name: string) => Deno.env.get(name));
  const print = deps.print ?? console.log;
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        namespace: { type: "string", short: "n" },
        kubeconfig: { type: "string" },
        context: { type: "string" },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const [verb, target, ...rest] = parsed.positionals;
  const slash = target?.indexOf("/") ?? -1;
  const kind = slash > 0
    ? kindNamed(KIND_NAMES[target.slice(0, slash).toLowerCase()] ?? "")
    : undefined;
  const name = target?.slice(slash + 1);
  if (!kind || !name || rest.length > 0) {
    throw new UsageError(
      `takes one KIND/NAME (deployment/web), got "${parsed.positionals.slice(1).join(" ")}"`,
    );
  }
  const { kubeconfig, context } = parsed.values;
  const namespace = parsed.values.namespace ??
    await contextNamespace(
      kubeconfig ?? env("KUBECONFIG") ?? `${env("HOME")}/.kube/config`,
      context,
    ) ?? "default";
  const client = deps.client ??
    new KubeClient(await resolveConnection({ kubeconfig, context, env }));
  try {
    return await decide(
      verb === "approve",
      client,
      kind,
      namespace,
      name,
      print,
      deps.now ?? Date.now,
    );
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

/** The namespace of the kubeconfig's context, as kubectl defaults `-n` to it. */
async function contextNamespace(paths: string, context?: string): Promise<string | undefined> {
  const cfg = await loadKubeconfig(paths.split(":").filter(Boolean)).catch(() => undefined);
  try {
    return cfg && selectContext(cfg, context).namespace;
  } catch {
    return undefined;
  }
}
