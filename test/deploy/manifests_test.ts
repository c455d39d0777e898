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

/**
 * `apiGroup/resource -> sorted verbs`, so rule order and grouping do not matter; a verb
 * limited by `resourceNames` is written `verb(name,…)`.
 */
function grants(rules: PolicyRule[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const rule of rules) {
    const names = rule.resourceNames ? `(${rule.resourceNames.join(",")})` : "";
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        const key = `${group}/${resource}`;
        out[key] = [...(out[key] ?? []), ...rule.verbs.map((v) => `${v}${names}`)].sort();
      }
    }
  }
  return out;
}

/** RBAC verb of each KubeClient method. */
const VERB_OF: Record<string, string> = {
  get: "get",
  create: "create",
  patch: "patch",
  replace: "update",
  listAll: "list",
  list: "list",
  watch: "watch",
  delete: "delete",
};

/**
 * What the code calls, read from lib/: `client.<method>(<RESOURCE CONSTANT>, …)` gives that
 * resource the method's verb; a call on a variable type (the workload cache, the rollout)
 * gives it to every workload kind Argoos handles, and to a constant handed with `client` to a
 * helper in the same file.
 */
async function grantsTheCodeNeeds(): Promise<Record<string, string[]>> {
  const resources = await import("../../lib/kube/resource.ts") as Record<string, unknown>;
  const { WORKLOAD_KINDS } = await import("../../lib/workloads/kinds.ts");
  const out: Record<string, Set<string>> = {};
  const add = (t: { group: string; resource: string }, verb: string) =>
    (out[`${t.group}/${t.resource}`] ??= new Set()).add(verb);
  const lib = new URL("../../lib/", import.meta.url);
  const walk = async function* (dir: URL): AsyncGenerator<URL> {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) yield* walk(new URL(`${e.name}/`, dir));
      else if (e.name.endsWith(".ts")) yield new URL(e.name, dir);
    }
  };
  const call = /client\.(\w+)\s*(?:<[^>(]*>)?\(\s*([\w.]+)/g;
  const helper = /\b\w+\s*(?:<[^>(]*>)?\(\s*client,\s*(\w+)\b/g;
  for await (const file of walk(lib)) {
    if (file.pathname.endsWith("/kube/client.ts")) continue;
    const code = (await Deno.readTextFile(file)).split("\n")
      .filter((l) => !/^\s*(\*|\/\/)/.test(l)).join("\n");
    const onVariable = new Set<string>();
    for (const [, method, arg] of code.matchAll(call)) {
      const verb = VERB_OF[method];
      if (!verb) continue;
      const constant = resources[arg] as { group: string; resource: string } | undefined;
      if (constant) add(constant, verb);
      else {
        onVariable.add(verb);
        for (const kind of WORKLOAD_KINDS) add(kind.type, verb);
      }
    }
    // A helper in the same file handed `client` and a resource constant (runningDigests'
    // paged list) calls on it what the file calls on a variable type.
    for (const [, arg] of code.matchAll(helper)) {
      // The argument, or the constants a local `const arg = … ? A : B` picks from.
      const picked = code.match(new RegExp(`const ${arg} = ([^;]*);`))?.[1] ?? arg;
      for (const [name] of picked.matchAll(/\b[A-Z][A-Z_]*\b/g)) {
        const constant = resources[name] as { group: string; resource: string } | undefined;
        if (constant) { for (const verb of onVariable) add(constant, verb); }
      }
    }
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, [...v].sort()]));
}

const NEEDED = await grantsTheCodeNeeds();
/** The needs, without the resources granted elsewhere (Leases, Secrets). */
const without = (...keys: string[]) =>
  Object.fromEntries(Object.entries(NEEDED).filter(([k]) => !keys.includes(k)));
const LEASE_NAME = "argoos-poller";

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
  assert.deepEqual(kustomizations, [
    "base/kustomization.yaml",
    "namespaced/kustomization.yaml",
    "private-registries/kustomization.yaml",
  ]);
  for (const path of kustomizations) {
    const [k] = await load(path);
    assert.equal(k.kind, "Kustomization");
    for (const resource of k.resources as string[]) {
      await Deno.stat(new URL(resource, new URL(path, DEPLOY)));
    }
  }
});

Deno.test("deploy: what the code calls is what the RBAC files grant, and no more", async () => {
  // Sanity of the scan itself: it sees the calls every Argoos has.
  assert.deepEqual(NEEDED["apps/deployments"], ["get", "list", "patch", "watch"]);
  assert.deepEqual(NEEDED["coordination.k8s.io/leases"], ["create", "get", "update"]);
  const [role] = await objects<{ kind: string; rules: PolicyRule[] }>("base/clusterrole.yaml");
  assert.equal(role.kind, "ClusterRole");
  // Cluster-wide: everything but the Lease (its own Role) and Secrets (an optional overlay).
  assert.deepEqual(grants(role.rules), without("coordination.k8s.io/leases", "/secrets"));
  const [leaseRole, leaseBinding] = await objects<
    { kind: string; metadata: { namespace: string }; rules: PolicyRule[]; roleRef: unknown }
  >("base/leader-election-role.yaml");
  assert.equal(leaseRole.kind, "Role");
  assert.equal(leaseRole.metadata.namespace, "argoos");
  // get and update name-scoped to the one Lease; create cannot be.
  assert.deepEqual(grants(leaseRole.rules), {
    "coordination.k8s.io/leases": NEEDED["coordination.k8s.io/leases"].map((v) =>
      v === "create" ? v : `${v}(${LEASE_NAME})`
    ).sort(),
  });
  assert.equal(leaseBinding.kind, "RoleBinding");
  const { OPTIONS } = await import("../../cli/options.ts");
  assert.equal(OPTIONS.find((o) => o.name === "lease-name")?.default, LEASE_NAME);
  // Secrets: only in the private-registries overlay, get only.
  const [secrets] = await objects<{ kind: string; rules: PolicyRule[] }>(
    "private-registries/secrets-role.yaml",
  );
  assert.deepEqual(grants(secrets.rules), { "/secrets": NEEDED["/secrets"] });
});

Deno.test("deploy: the namespaced Roles grant the same, split by namespace", async () => {
  const roles = await objects<
    { kind: string; metadata: { namespace: string }; rules: PolicyRule[] }
  >(
    "namespaced/role.yaml",
  );
  assert.deepEqual(roles.map((r) => [r.kind, r.metadata.namespace]), [["Role", "apps"]]);
  assert.deepEqual(
    grants(roles.flatMap((r) => r.rules)),
    without("coordination.k8s.io/leases", "/secrets"),
  );
  const [k] = await load("namespaced/kustomization.yaml");
  const patches = (k.patches as { patch: string }[]).map((p) => parse(p.patch));
  const deleted = patches.filter((p) => p.$patch === "delete").map((p) => p.kind);
  assert.deepEqual(deleted, ["ClusterRole", "ClusterRoleBinding"]);
  assert.deepEqual(patches.filter(Array.isArray), [[
    { op: "add", path: "/spec/template/spec/containers/0/args/-", value: "--namespace=apps" },
  ]]);
});

Deno.test("deploy: the Deployment is hardened, probed, spread and reads the token file", async () => {
  const [deployment] = await objects<Deployment>("base/deployment.yaml");
  const spec = deployment.spec!;
  const pod = spec.template.spec!;
  const [c] = pod.containers;
  assert.equal(spec.replicas, 2);
  assert.equal(pod.serviceAccountName, "argoos");
  assert.equal(c.image, "ghcr.io/argoos/argoos:0.1.0");
  assert.deepEqual(c.args, ["serve"]);
  assert.deepEqual(c.env, [
    // A mounted file, re-read when the Secret is rotated: no token in the environment.
    { name: "TOKEN_FILE", value: "/var/run/secrets/argoos/token" },
    { name: "LISTEN", value: ":3000" },
    // The leader Lease lives in the pod's namespace, held under the pod's name.
    { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
  ]);
  assert.deepEqual(c.ports, [{ name: "http", containerPort: 3000, protocol: "TCP" }]);
  assert.deepEqual(c.livenessProbe?.httpGet, { path: "/healthz", port: "http" });
  assert.deepEqual(c.readinessProbe?.httpGet, { path: "/readyz", port: "http" });
  assert.deepEqual(c.resources, {
    requests: { cpu: "50m", memory: "96Mi" },
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
  // A read-only root filesystem, but the compiled binary writes its code cache to the temp dir,
  // bounded; the token Secret mounted whole (a subPath would never see a rotation).
  assert.deepEqual(c.volumeMounts, [
    { name: "tmp", mountPath: "/tmp" },
    { name: "token", mountPath: "/var/run/secrets/argoos", readOnly: true },
  ]);
  assert.deepEqual(pod.volumes, [
    { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
    { name: "token", secret: { secretName: "argoos-token", defaultMode: 0o440 } },
  ]);
  assert.equal(pod.securityContext?.fsGroup, 65532, "the non-root user reads the token file");
  assert.deepEqual(
    pod.topologySpreadConstraints?.map((t) => [t.topologyKey, t.whenUnsatisfiable]),
    [["kubernetes.io/hostname", "ScheduleAnyway"], [
      "topology.kubernetes.io/zone",
      "ScheduleAnyway",
    ]],
  );
  const comment = await Deno.readTextFile(new URL("base/deployment.yaml", DEPLOY));
  assert.match(comment, /Every replica serves POST \/event/);
  assert.match(comment, /only the Lease holder polls/);
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

Deno.test("deploy: a PodDisruptionBudget keeps a replica; a NetworkPolicy opens only what is used", async () => {
  const [pdb] = await objects<
    { kind: string; spec: { minAvailable: number; selector: unknown } }
  >("base/poddisruptionbudget.yaml");
  assert.equal(pdb.kind, "PodDisruptionBudget");
  assert.equal(pdb.spec.minAvailable, 1);
  assert.deepEqual(pdb.spec.selector, { matchLabels: { "app.kubernetes.io/name": "argoos" } });
  type Port = { port: number; protocol: string };
  const [np] = await objects<{
    kind: string;
    spec: {
      policyTypes: string[];
      ingress: { ports: Port[] }[];
      egress: { ports: Port[]; to: { ipBlock?: { cidr: string; except?: string[] } }[] }[];
    };
  }>("base/networkpolicy.yaml");
  assert.equal(np.kind, "NetworkPolicy");
  assert.deepEqual(np.spec.policyTypes, ["Ingress", "Egress"]);
  assert.deepEqual(np.spec.ingress.flatMap((r) => r.ports), [{ port: 3000, protocol: "TCP" }]);
  const egressPorts = np.spec.egress.flatMap((r) => r.ports.map((p) => `${p.port}/${p.protocol}`));
  assert.deepEqual(egressPorts.sort(), ["443/TCP", "53/TCP", "53/UDP", "6443/TCP"]);
  const blocks = np.spec.egress.flatMap((r) => r.to.flatMap((t) => t.ipBlock ? [t.ipBlock] : []));
  assert.deepEqual(blocks.map((b) => b.except), [["169.254.0.0/16"], ["fe80::/10"]]);
});
