/**
 * `argoos plan`: read workloads from the cluster or from manifest files, ask
 * the registries, print what each policy would choose. Changes nothing.
 *
 * @module
 */

import { parseAllDocuments } from "yaml";
import { KubeClient } from "../lib/kube/client.ts";
import { resolveConnection } from "../lib/kube/connection.ts";
import { formatPlan, planWorkloads } from "../lib/plan/plan.ts";
import { POLICY_LABEL } from "../lib/policy/policy.ts";
import { PullSecrets } from "../lib/poll/pull_secrets.ts";
import { RegistryClient } from "../lib/registry/client.ts";
import { type CredentialMap, parseDockerConfig } from "../lib/registry/credentials.ts";
import { kindNamed } from "../lib/workloads/kinds.ts";
import { type KubeObject, readWorkload, type Workload } from "../lib/workloads/workload.ts";
import type { Invocation } from "./config.ts";

/** Labelled workloads found in YAML manifest texts (multi-document). */
export function workloadsFromManifests(texts: readonly string[]): Workload[] {
  const found: Workload[] = [];
  for (const text of texts) {
    for (const doc of parseAllDocuments(text)) {
      const obj = doc.toJS() as KubeObject & { kind?: string } | null;
      const kind = obj?.kind ? kindNamed(obj.kind) : undefined;
      if (!obj || !kind || obj.metadata?.labels?.[POLICY_LABEL] === undefined) continue;
      const w = readWorkload(kind, obj);
      found.push({ ...w, namespace: w.namespace || "default" });
    }
  }
  return found;
}

/** Run `argoos plan`; returns the exit code. */
export async function runPlan({ config, files }: Invocation): Promise<number> {
  const dockerCreds: CredentialMap = config.registry.dockerConfig
    ? parseDockerConfig(config.registry.dockerConfig)
    : new Map();
  const registry = new RegistryClient({
    insecureHosts: config.registry.insecureHosts,
    caCert: config.registry.caCert,
  });
  let client: KubeClient | undefined;
  try {
    let workloads: Workload[];
    let credentialsOf = (_w: Workload) => Promise.resolve(dockerCreds);
    if (files.length) {
      workloads = workloadsFromManifests(await Promise.all(files.map((f) => Deno.readTextFile(f))));
    } else {
      client = new KubeClient(await resolveConnection(config.kube));
      const secrets = new PullSecrets(client, dockerCreds);
      credentialsOf = (w) => secrets.forWorkload(w);
      const scopes = config.namespaces.length ? config.namespaces : [undefined];
      const lists = await Promise.all(
        config.kinds.flatMap((kind) =>
          scopes.map(async (namespace) =>
            (await client!.listAll<KubeObject>(kind.type, {
              namespace,
              labelSelector: POLICY_LABEL,
            }))
              .items.map((obj) => readWorkload(kind, obj))
          )
        ),
      );
      workloads = lists.flat();
    }
    const rows = await planWorkloads(workloads, registry, credentialsOf);
    console.log(formatPlan(rows).trimEnd());
    return 0;
  } finally {
    registry.close();
    client?.connection.close();
  }
}
