/**
 * `argoos plan`: read workloads from the cluster or from manifest files, ask
 * the registries, print what each policy would choose. Changes nothing.
 *
 * @module
 */

import { parseAllDocuments } from "yaml";
import { KubeClient } from "../lib/kube/client.ts";
import { resolveConnection } from "../lib/kube/connection.ts";
import { formatHealth, formatPlan, planWorkloads } from "../lib/plan/plan.ts";
import { POLICY_LABEL } from "../lib/policy/policy.ts";
import type { RegistryClient } from "../lib/registry/client.ts";
import { registryAccess } from "../lib/service/credentials.ts";
import { silentLogger } from "../lib/log/logger.ts";
import { kindNamed } from "../lib/workloads/kinds.ts";
import { type KubeObject, readWorkload, type Workload } from "../lib/workloads/workload.ts";
import { type Invocation, UsageError } from "./config.ts";

/**
 * Labelled workloads found in YAML manifest texts (multi-document, `kind: List` unpacked, as
 * `kubectl get -o yaml` prints them); objects without the policy label, or of kinds Argoos does
 * not manage, are left out. Invalid YAML is a {@linkcode UsageError} naming `names[i]`.
 *
 * @example
 * ```ts
 * import { workloadsFromManifests } from "./plan.ts";
 * const yaml = `apiVersion: apps/v1
 * kind: Deployment
 * metadata: { name: web, labels: { argoos.io/policy: minor } }
 * spec: { template: { spec: { containers: [{ name: web, image: nginx:1.25.0 }] } } }
 * `;
 * workloadsFromManifests([yaml], ["app.yaml"])[0].namespace; // "default"
 * ```
 */
export function workloadsFromManifests(
  texts: readonly string[],
  names: readonly string[] = [],
): Workload[] {
  const found: Workload[] = [];
  texts.forEach((text, i) => {
    for (const doc of parseAllDocuments(text)) {
      const [error] = doc.errors;
      if (error) {
        // The message goes on with a code frame; its first line already has line and column.
        const where = names[i] ?? `manifest ${i + 1}`;
        throw new UsageError(`${where}: ${error.message.split("\n")[0].replace(/:$/, "")}`);
      }
      for (const obj of unpackLists(doc.toJS())) {
        const kind = obj.kind ? kindNamed(obj.kind) : undefined;
        if (!kind || obj.metadata?.labels?.[POLICY_LABEL] === undefined) continue;
        const w = readWorkload(kind, obj);
        found.push({ ...w, namespace: w.namespace || "default" });
      }
    }
  });
  return found;
}

type Manifest = KubeObject & { kind?: string; items?: unknown };

/** The objects of one document: itself, or the items of a `List` (each with its own kind). */
function unpackLists(value: unknown): Manifest[] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return [];
  const obj = value as Manifest;
  if (obj.kind !== "List") return [obj];
  return Array.isArray(obj.items) ? obj.items.flatMap(unpackLists) : [];
}

/** The texts of the `-f` files; one that cannot be read is a {@linkcode UsageError}. */
function readManifests(files: readonly string[]): Promise<string[]> {
  return Promise.all(files.map((f) =>
    Deno.readTextFile(f).catch((err: Error) => {
      throw new UsageError(`-f ${f}: ${err.message}`);
    })
  ));
}

/**
 * Run `argoos plan`: read the workloads (from `-f` files, else the cluster), ask their
 * registries what they offer, print what each policy would choose; changes nothing.
 * Resolves to the process exit code.
 *
 * @example
 * ```ts ignore
 * import { readInvocation } from "./config.ts";
 * import { runPlan } from "./plan.ts";
 * const inv = await readInvocation(["plan", "-f", "app.yaml"], (name) => Deno.env.get(name));
 * Deno.exit(await runPlan(inv));
 * ```
 */
export async function runPlan({ config, files }: Invocation): Promise<number> {
  let client: KubeClient | undefined;
  let registry: RegistryClient | undefined;
  try {
    let workloads: Workload[];
    if (files.length) {
      workloads = workloadsFromManifests(await readManifests(files), files);
    } else {
      client = new KubeClient(await resolveConnection(config.kube));
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
    // As the service reaches registries: pull secrets, plugins, helpers, mirrors.
    const access = registryAccess(config.registry, { client, logger: silentLogger });
    registry = access.registry;
    const rows = await planWorkloads(workloads, registry, access.credentialsOf, {
      gates: config.gates,
    });
    console.log(formatPlan(rows).trimEnd());
    const health = formatHealth(workloads);
    if (health) console.log(`\n${health.trimEnd()}`);
    return 0;
  } finally {
    registry?.close();
    client?.connection.close();
  }
}
