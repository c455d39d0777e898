/**
 * Guards the shipped deploy manifests: every YAML parses, RBAC grants exactly what Argoos needs,
 * the Deployment is hardened and wired to the token Secret, and the example registry config
 * notifies Argoos.
 *
 * @module
 */

import assert from "node:assert/strict";
import { parse, parseAllDocuments } from "yaml";
import type { Deployment } from "kubernetes-types/apps/v1.d.ts";
import type { Service } from "kubernetes-types/core/v1.d.ts";
import type { PolicyRule } from "kubernetes-types/rbac/v1.d.ts";
import { resourcePath } from "../../lib/kube/resource.ts";
import { startFakeApiServer } from "../fake_apiserver/mod.ts";
import { findByKind } from "../fake_apiserver/resources.ts";

const DEPLOY = new URL("../../deploy/", import.meta.url);

/** Paths (relative to deploy/) of every YAML file, sorted. */
async function yamlFiles(dir = ""): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(new URL(dir || ".", DEPLOY))) {
    const path = `${dir}${entry.name}`;
    if (entry.isDirectory) found.push(...await yamlFiles(`${path}/`));
    else if (/\.ya?ml$/.test(entry.name)) found.push(path);
  }
  return found.sort();
}

/** All documents of one file; fails on any YAML error or empty document. */
async function load(path: string): Promise<Record<string, unknown>[]> {
  const docs = parseAllDocuments(await Deno.readTextFile(new URL(path, DEPLOY)));
  assert.ok(Array.isArray(docs), `${path}: no documents`);
  return docs.map((doc, i) => {
    assert.deepEqual(doc.errors, [], `${path} doc ${i}`);
    const value = doc.toJS();
    assert.equal(typeof value, "object", `${path} doc ${i} is not a mapping`);
    return value;
  });
}

const isKubernetesObject = (path: string) =>
  !path.endsWith("kustomization.yaml") && !path.startsWith("registry/");

/** Kubernetes objects of a file, typed by the caller. */
async function objects<T>(path: string): Promise<T[]> {
  return (await load(path)) as T[];
}

/** `apiGroup/resource -> sorted verbs`, so rule order and grouping do not matter. */
function grants(rules: PolicyRule[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const rule of rules) {
    assert.equal(rule.resourceNames, undefined);
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        out[`${group}/${resource}`] = [...rule.verbs].sort();
      }
    }
  }
  return out;
}

const WORKLOAD_VERBS = ["get", "list", "patch", "watch"];
const EXPECTED_GRANTS: Record<string, string[]> = {
  "apps/deployments": WORKLOAD_VERBS,
  "apps/statefulsets": WORKLOAD_VERBS,
  "apps/daemonsets": WORKLOAD_VERBS,
  "batch/cronjobs": WORKLOAD_VERBS,
  "/secrets": ["get"],
  "/serviceaccounts": ["get"],
  // runningDigests (lib/workloads/running.ts) lists pods by owner, never watches or reads one.
  "/pods": ["list"],
  "apps/replicasets": ["list"],
  "batch/jobs": ["list"],
  // The recorder only ever creates Events (lib/events/recorder.ts); no patch.
  "/events": ["create"],
  "coordination.k8s.io/leases": ["create", "get", "update"],
};

Deno.test("deploy: every YAML file parses and every object is named", async () => {
  const files = await yamlFiles();
  assert.ok(files.includes("base/kustomization.yaml"), files.join(", "));
  for (const path of files.filter(isKubernetesObject)) {
    for (const obj of await load(path)) {
      const meta = obj.metadata as { name?: unknown } | undefined;
      assert.equal(typeof obj.apiVersion, "string", `${path}: apiVersion`);
      assert.equal(typeof obj.kind, "string", `${path}: kind`);
      assert.equal(typeof meta?.name, "string", `${path}: metadata.name`);
    }
  }
});

Deno.test("deploy: kustomizations reference files that exist", async () => {
  const kustomizations = (await yamlFiles()).filter((p) => p.endsWith("kustomization.yaml"));
  assert.deepEqual(kustomizations, ["base/kustomization.yaml", "namespaced/kustomization.yaml"]);
  for (const path of kustomizations) {
    const [k] = await load(path);
    assert.equal(k.kind, "Kustomization");
    for (const resource of k.resources as string[]) {
      await Deno.stat(new URL(resource, new URL(path, DEPLOY)));
    }
  }
});

Deno.test("deploy: the ClusterRole grants exactly what Argoos uses", async () => {
  const [role] = await objects<{ kind: string; rules: PolicyRule[] }>("base/clusterrole.yaml");
  assert.equal(role.kind, "ClusterRole");
  assert.deepEqual(grants(role.rules), EXPECTED_GRANTS);
});

Deno.test("deploy: the namespaced Roles grant the same, split by namespace", async () => {
  const roles = await objects<
    { kind: string; metadata: { namespace: string }; rules: PolicyRule[] }
  >(
    "namespaced/role.yaml",
  );
  assert.deepEqual(roles.map((r) => [r.kind, r.metadata.namespace]), [
    ["Role", "apps"],
    ["Role", "argoos"],
  ]);
  assert.deepEqual(grants(roles.flatMap((r) => r.rules)), EXPECTED_GRANTS);
  const [k] = await load("namespaced/kustomization.yaml");
  const patches = (k.patches as { patch: string }[]).map((p) => parse(p.patch));
  const deleted = patches.filter((p) => p.$patch === "delete").map((p) => p.kind);
  assert.deepEqual(deleted, ["ClusterRole", "ClusterRoleBinding"]);
  assert.deepEqual(patches.filter(Array.isArray), [[
    { op: "add", path: "/spec/template/spec/containers/0/args/-", value: "--namespace=apps" },
  ]]);
});

Deno.test("deploy: the Deployment is hardened, probed and reads the token Secret", async () => {
  const [deployment] = await objects<Deployment>("base/deployment.yaml");
  const spec = deployment.spec!;
  const pod = spec.template.spec!;
  const [c] = pod.containers;
  assert.equal(spec.replicas, 2);
  assert.equal(pod.serviceAccountName, "argoos");
  assert.equal(c.image, "ghcr.io/argoos/argoos:0.1.0");
  assert.deepEqual(c.args, ["serve"]);
  assert.deepEqual(c.env, [
    { name: "TOKEN", valueFrom: { secretKeyRef: { name: "argoos-token", key: "token" } } },
    { name: "LISTEN", value: ":3000" },
    // The leader Lease lives in the pod's namespace, held under the pod's name.
    { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
  ]);
  assert.deepEqual(c.ports, [{ name: "http", containerPort: 3000, protocol: "TCP" }]);
  assert.deepEqual(c.livenessProbe?.httpGet, { path: "/healthz", port: "http" });
  assert.deepEqual(c.readinessProbe?.httpGet, { path: "/readyz", port: "http" });
  assert.deepEqual(c.resources, {
    requests: { cpu: "50m", memory: "64Mi" },
    limits: { memory: "256Mi" },
  });
  assert.deepEqual(c.securityContext, {
    runAsNonRoot: true,
    runAsUser: 65532,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  });
  assert.deepEqual(spec.selector.matchLabels, deployment.spec?.template.metadata?.labels);
  // A read-only root filesystem, but the compiled binary writes its code cache to the temp dir.
  assert.deepEqual(c.volumeMounts, [{ name: "tmp", mountPath: "/tmp" }]);
  assert.deepEqual(pod.volumes, [{ name: "tmp", emptyDir: {} }]);
});

Deno.test("deploy: the image builds from the committed lock and sizes its heap to its limit", async () => {
  const dockerfile = await Deno.readTextFile(new URL("../../Dockerfile", import.meta.url));
  const runtime = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
  assert.match(runtime, /^ENV DENO_USE_CGROUPS=1$/m);
  assert.match(dockerfile, /^COPY deno\.json deno\.lock \.\/$/m);
  const config = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  assert.deepEqual(config.lock, { frozen: true });
});

Deno.test("deploy: the Service sends port 80 to the http port", async () => {
  const [service] = await objects<Service>("base/service.yaml");
  assert.deepEqual(service.spec?.ports, [
    { name: "http", port: 80, targetPort: "http", protocol: "TCP" },
  ]);
});

Deno.test("deploy: the example registry config notifies Argoos", async () => {
  const [config] = await load("registry/config.yml");
  const notifications = config.notifications as { endpoints: Record<string, unknown>[] };
  assert.deepEqual(notifications.endpoints, [{
    name: "argoos",
    url: "http://argoos.argoos.svc/event",
    headers: { "X-Argoos-Token": ["REPLACE-WITH-A-RANDOM-TOKEN"] },
    timeout: "5s",
    threshold: 5,
    backoff: "10s",
    ignore: { mediatypes: ["application/octet-stream"], actions: ["pull"] },
  }]);
});

Deno.test("deploy: the API server accepts every object", async () => {
  type KubeObject = {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string };
  };
  const files = (await yamlFiles()).filter(isKubernetesObject);
  const shipped = (await Promise.all(files.map((f) => objects<KubeObject>(f)))).flat();
  // `apps` is the namespace the namespaced variant watches; users already have it.
  const watched: KubeObject = { apiVersion: "v1", kind: "Namespace", metadata: { name: "apps" } };
  const namespacesFirst = [watched, ...shipped].sort((a, b) =>
    Number(b.kind === "Namespace") - Number(a.kind === "Namespace")
  );
  const api = await startFakeApiServer();
  try {
    for (const obj of namespacesFirst) {
      const what = `${obj.kind} ${obj.metadata.namespace ?? ""}/${obj.metadata.name}`;
      const type = findByKind(obj.apiVersion, obj.kind);
      assert.ok(type, `${what}: not a served type`);
      const res = await fetch(new URL(resourcePath(type, obj.metadata.namespace), api.url), {
        method: "POST",
        headers: { Authorization: `Bearer ${api.token}`, "Content-Type": "application/json" },
        body: JSON.stringify(obj),
      });
      const body = await res.text();
      assert.equal(res.status, 201, `${what}: ${body}`);
      assert.ok(api.get(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name), what);
    }
  } finally {
    await api.stop();
  }
});
