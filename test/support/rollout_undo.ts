/**
 * `kubectl rollout undo deployment/<name>` as kubectl performs it, through the API: read the
 * Deployment's ReplicaSets (by owner reference), take the pod template of the revision before
 * the current one (`deployment.kubernetes.io/revision`), drop its `pod-template-hash` label, and
 * PATCH it into the Deployment's `spec.template`, guarded by the resourceVersion read.
 *
 * @module
 */

import type { KubeClient } from "../../lib/kube/client.ts";
import { DEPLOYMENTS, REPLICASETS } from "../../lib/kube/resource.ts";

// deno-lint-ignore no-explicit-any
type Obj = any;

const REVISION = "deployment.kubernetes.io/revision";

/**
 * Roll a Deployment back to its previous revision; resolves to the image of each container
 * written (`name=image`). Throws when there is no previous revision, as kubectl does.
 *
 * @example
 * ```ts ignore
 * import { rolloutUndo } from "./rollout_undo.ts";
 * await rolloutUndo(client, "default", "web"); // ["app=registry/app:1.0.0"]
 * ```
 */
export async function rolloutUndo(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<string[]> {
  const d = await client.get<Obj>(DEPLOYMENTS, namespace, name);
  const sets = (await client.listAll<Obj>(REPLICASETS, { namespace })).items
    .filter((rs) => rs.metadata?.ownerReferences?.some((o: Obj) => o.uid === d.metadata.uid))
    .sort((a, b) =>
      Number(b.metadata.annotations?.[REVISION] ?? 0) -
      Number(a.metadata.annotations?.[REVISION] ?? 0)
    );
  const previous = sets[1];
  if (!previous) throw new Error(`no rollout history found for deployment "${name}"`);
  const template = structuredClone(previous.spec.template);
  delete template.metadata?.labels?.["pod-template-hash"];
  await client.patch(DEPLOYMENTS, namespace, name, [
    { op: "test", path: "/metadata/resourceVersion", value: d.metadata.resourceVersion },
    { op: "replace", path: "/spec/template", value: template },
  ], "json");
  return template.spec.containers.map((c: Obj) => `${c.name}=${c.image}`);
}
