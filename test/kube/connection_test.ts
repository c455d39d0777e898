import assert from "node:assert/strict";
import { type Connection, KubeClient } from "../../lib/kube/client.ts";
import {
  inClusterNamespace,
  NoClusterError,
  resolveConnection,
} from "../../lib/kube/connection.ts";
import { KubeconfigError } from "../../lib/kube/kubeconfig.ts";
import { DEPLOYMENTS } from "../../lib/kube/resource.ts";
import { serveStub } from "./stub_server.ts";
import { makeCerts, serveHttps } from "./test_certs.ts";

type Named = { metadata: { name: string } };

const envOf = (vars: Record<string, string>) => (name: string) => vars[name];

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A stub API server answering every GET with the Authorization header it received. */
function echoAuth(status = (_auth: string | null) => 200) {
  const seen: (string | null)[] = [];
  const stub = serveStub((req) => {
    const auth = req.headers.get("authorization");
    seen.push(auth);
    const code = status(auth);
    return code === 200
      ? Response.json({ metadata: { name: auth ?? "anonymous" } })
      : Response.json({ kind: "Status", code, reason: "Unauthorized" }, { status: code });
  });
  return { ...stub, seen };
}

const kubeconfigText = (server: string, user: string, extra = "") => `
clusters: [{ name: c, cluster: { server: "${server}" } }]
users: [{ name: u, user: ${user} }]
contexts: [{ name: main, context: { cluster: c, user: u } }]
current-context: main
${extra}`;

Deno.test("in-cluster: CA and service account token, re-read when the token rotates", async () => {
  const certs = await makeCerts();
  const seen: (string | null)[] = [];
  const server = serveHttps(certs, (req) => {
    seen.push(req.headers.get("authorization"));
    return Response.json({ metadata: { name: "x" } });
  });
  const sa = `${certs.dir}/sa`;
  try {
    await Deno.mkdir(sa);
    await Deno.writeTextFile(`${sa}/token`, "token-1\n");
    await Deno.writeTextFile(`${sa}/ca.crt`, certs.ca);
    await Deno.writeTextFile(`${sa}/namespace`, "argoos-system");
    const conn = await resolveConnection({
      serviceAccountDir: sa,
      env: envOf({
        KUBERNETES_SERVICE_HOST: "127.0.0.1",
        KUBERNETES_SERVICE_PORT: String(server.addr.port),
        HOME: "/nonexistent",
      }),
    });
    try {
      assert.equal(conn.server, `https://127.0.0.1:${server.addr.port}`);
      assert.match(conn.description, /^in-cluster service account/);
      const kube = new KubeClient(conn);
      await kube.get(DEPLOYMENTS, "a", "x");
      await kube.get(DEPLOYMENTS, "a", "x");
      // The kubelet swaps the projected token; the new file has a new mtime.
      await Deno.writeTextFile(`${sa}/token`, "token-2\n");
      await Deno.utime(`${sa}/token`, new Date(), new Date(Date.now() + 5_000));
      await kube.get(DEPLOYMENTS, "a", "x");
      assert.deepEqual(seen, ["Bearer token-1", "Bearer token-1", "Bearer token-2"]);
      assert.equal(await inClusterNamespace(sa), "argoos-system");
      assert.equal(await inClusterNamespace(`${certs.dir}/missing`), undefined);
    } finally {
      conn.close();
    }
  } finally {
    await server.shutdown();
    await certs.remove();
  }
});

Deno.test("in-cluster: IPv6 service host is bracketed, forced mode explains what is missing", () =>
  withDir(async (sa) => {
    await Deno.writeTextFile(`${sa}/token`, "t");
    await Deno.writeTextFile(`${sa}/ca.crt`, "");
    const conn = await resolveConnection({
      serviceAccountDir: sa,
      env: envOf({ KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "6443" }),
    });
    assert.equal(conn.server, "https://[fd00::1]:6443");
    conn.close();

    await assert.rejects(
      resolveConnection({ inCluster: true, serviceAccountDir: sa, env: envOf({}) }),
      (e: Error) =>
        e instanceof NoClusterError && /KUBERNETES_SERVICE_HOST is not set/.test(e.message),
    );
    await assert.rejects(
      resolveConnection({
        inCluster: true,
        serviceAccountDir: `${sa}/none`,
        env: envOf({ KUBERNETES_SERVICE_HOST: "10.0.0.1" }),
      }),
      /in-cluster forced but .*\/none\/token does not exist/,
    );
  }));

Deno.test("NoClusterError lists everything that was tried, on one line", async () => {
  const table: [string, Record<string, string>, RegExp][] = [
    [
      "nothing at all",
      {},
      /^no Kubernetes cluster found: no KUBE_MASTER_URL; not in-cluster \(KUBERNETES_SERVICE_HOST unset\); no kubeconfig \(KUBECONFIG and HOME unset\)$/,
    ],
    [
      "HOME without a kubeconfig",
      { HOME: "/nonexistent" },
      /; no kubeconfig at \/nonexistent\/.kube\/config$/,
    ],
    [
      "KUBECONFIG list without files, service host without token",
      { KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBECONFIG: "/no/a:/no/b", HOME: "/h" },
      /: no KUBE_MASTER_URL; no kubeconfig at \/no\/a:\/no\/b; not in-cluster \(no token at \/no-sa\/token\)$/,
    ],
  ];
  for (const [name, vars, want] of table) {
    await assert.rejects(
      resolveConnection({ env: envOf(vars), serviceAccountDir: "/no-sa" }),
      (e: Error) => {
        assert.ok(e instanceof NoClusterError, name);
        assert.match(e.message, want, name);
        assert.ok(!e.message.includes("\n"), name);
        return true;
      },
    );
  }
});

Deno.test("masterUrl: plain http, no credentials", async () => {
  const stub = echoAuth();
  try {
    const conn = await resolveConnection({ masterUrl: stub.url, env: envOf({}) });
    const got = await new KubeClient(conn).get<Named>(DEPLOYMENTS, "a", "b");
    assert.equal(got.metadata.name, "anonymous");
    assert.equal(conn.description, `explicit server ${stub.url}`);
    assert.equal(conn.origin, "--master");
    conn.close();
    const fromEnv = await resolveConnection({
      masterUrl: stub.url,
      env: envOf({ KUBE_MASTER_URL: stub.url }),
    });
    assert.equal(fromEnv.origin, "KUBE_MASTER_URL");
    fromEnv.close();
  } finally {
    await stub.close();
  }
});

Deno.test("kubeconfig users: token, tokenFile, basic auth, anonymous", () =>
  withDir(async (dir) => {
    const stub = echoAuth();
    try {
      await Deno.writeTextFile(`${dir}/tok`, "from-file\n");
      const table: [string, string, string][] = [
        ["token", "{ token: static }", "Bearer static"],
        ["tokenFile relative to the kubeconfig", "{ tokenFile: tok }", "Bearer from-file"],
        ["basic", "{ username: admin, password: pw }", `Basic ${btoa("admin:pw")}`],
        ["token beats basic", "{ token: t, username: a, password: b }", "Bearer t"],
        ["tokenFile beats token", "{ token: static, tokenFile: tok }", "Bearer from-file"],
        [
          "token while tokenFile is unreadable",
          "{ token: static, tokenFile: gone }",
          "Bearer static",
        ],
        ["anonymous", "{}", "anonymous"],
      ];
      for (const [name, user, want] of table) {
        await Deno.writeTextFile(`${dir}/config`, kubeconfigText(stub.url, user));
        const conn = await resolveConnection({ env: envOf({ KUBECONFIG: `${dir}/config` }) });
        try {
          const got = await new KubeClient(conn).get<Named>(DEPLOYMENTS, "a", "b");
          assert.equal(got.metadata.name, want, name);
          assert.equal(conn.description, `kubeconfig ${dir}/config context main`, name);
        } finally {
          conn.close();
        }
      }
    } finally {
      await stub.close();
    }
  }));

Deno.test("kubeconfig exec: token cached across requests, plugin re-run once on 401", () =>
  withDir(async (dir) => {
    let accept = "Bearer exec-1";
    const stub = echoAuth((auth) => auth === accept ? 200 : 401);
    try {
      await Deno.writeTextFile(
        `${dir}/plugin.sh`,
        `#!/bin/sh
N=$(( $(cat "${dir}/runs" 2>/dev/null || echo 0) + 1 ))
echo $N > "${dir}/runs"
echo '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"exec-'$N'"}}'
`,
      );
      await Deno.chmod(`${dir}/plugin.sh`, 0o755);
      await Deno.writeTextFile(
        `${dir}/config`,
        kubeconfigText(
          stub.url,
          "{ exec: { apiVersion: client.authentication.k8s.io/v1beta1, command: ./plugin.sh } }",
        ),
      );
      const conn = await resolveConnection({ kubeconfig: `${dir}/config`, env: envOf({}) });
      try {
        const kube = new KubeClient(conn);
        await kube.get(DEPLOYMENTS, "a", "b");
        await kube.get(DEPLOYMENTS, "a", "b");
        accept = "Bearer exec-2"; // the server revoked the first token
        const got = await kube.get<Named>(DEPLOYMENTS, "a", "b");
        assert.equal(got.metadata.name, "Bearer exec-2");
        assert.deepEqual(stub.seen, [
          "Bearer exec-1",
          "Bearer exec-1",
          "Bearer exec-1",
          "Bearer exec-2",
        ]);
        assert.equal((await Deno.readTextFile(`${dir}/runs`)).trim(), "2");
      } finally {
        conn.close();
      }
    } finally {
      await stub.close();
    }
  }));

Deno.test("kubeconfig: KUBECONFIG list merge and --context override", () =>
  withDir(async (dir) => {
    const stub = echoAuth();
    try {
      await Deno.writeTextFile(`${dir}/a`, kubeconfigText(stub.url, "{ token: from-a }"));
      await Deno.writeTextFile(
        `${dir}/b`,
        `
users: [{ name: other, user: { token: from-b } }]
contexts: [{ name: second, context: { cluster: c, user: other } }]
current-context: second
`,
      );
      const env = envOf({ KUBECONFIG: `${dir}/a:${dir}/missing:${dir}/b` });
      const first = await resolveConnection({ env });
      const second = await resolveConnection({ env, context: "second" });
      try {
        assert.equal(
          (await new KubeClient(first).get<Named>(DEPLOYMENTS, "a", "b")).metadata.name,
          "Bearer from-a",
        );
        assert.equal(
          (await new KubeClient(second).get<Named>(DEPLOYMENTS, "a", "b")).metadata.name,
          "Bearer from-b",
        );
        assert.equal(second.description, `kubeconfig ${dir}/a:${dir}/b context second`);
      } finally {
        first.close();
        second.close();
      }
      // An explicit kubeconfig beats $KUBECONFIG.
      const explicit = await resolveConnection({ env, kubeconfig: `${dir}/b`, context: "second" })
        .catch((e) => e);
      assert.ok(explicit instanceof KubeconfigError);
      assert.match(explicit.message, /unknown cluster "c"/);
    } finally {
      await stub.close();
    }
  }));

Deno.test("kubeconfig: unsupported or broken settings fail clearly", () =>
  withDir(async (dir) => {
    const table: [string, string, RegExp][] = [
      [
        "auth-provider",
        kubeconfigText("https://k", "{ auth-provider: { name: gcp } }"),
        /auth-provider "gcp" is not supported; use an exec plugin/,
      ],
      [
        "insecure-skip-tls-verify",
        `clusters: [{ name: c, cluster: { server: "https://k", insecure-skip-tls-verify: true } }]
contexts: [{ name: x, context: { cluster: c } }]
current-context: x`,
        /insecure-skip-tls-verify is not supported/,
      ],
      [
        "missing CA file",
        kubeconfigText("https://k", "{}").replace(
          `server: "https://k"`,
          `server: "https://k", certificate-authority: nope.crt`,
        ),
        /certificate-authority .*\/nope\.crt/,
      ],
      [
        "cert without key",
        kubeconfigText("https://k", `{ client-certificate-data: ${btoa("C")} }`),
        /must be given together/,
      ],
      ["not a URL", kubeconfigText("k8s.local", "{}"), /server "k8s.local" is not a URL/],
      [
        "missing context",
        kubeconfigText("https://k", "{}").replace("current-context: main", "current-context: gone"),
        /context "gone" not found/,
      ],
    ];
    for (const [name, text, want] of table) {
      await Deno.writeTextFile(`${dir}/config`, text);
      await assert.rejects(
        resolveConnection({ kubeconfig: `${dir}/config`, env: envOf({}) }),
        (e: Error) => {
          assert.ok(e instanceof KubeconfigError, `${name}: ${e}`);
          assert.match(e.message, want, name);
          return true;
        },
      );
    }
    await assert.rejects(
      resolveConnection({ masterUrl: "http://x", certFile: "/c", env: envOf({}) }),
      /CERT_FILE and KEY_FILE must be given together/,
    );
  }));

Deno.test("order: explicit kubeconfig beats the pod environment; INCLUSTER beats both", () =>
  withDir(async (dir) => {
    const stub = echoAuth();
    try {
      const sa = `${dir}/sa`;
      await Deno.mkdir(sa);
      await Deno.writeTextFile(`${sa}/token`, "sa-token");
      await Deno.writeTextFile(`${sa}/ca.crt`, "");
      await Deno.writeTextFile(`${dir}/config`, kubeconfigText(stub.url, "{ token: kc }"));
      await Deno.mkdir(`${dir}/home/.kube`, { recursive: true });
      await Deno.writeTextFile(`${dir}/home/.kube/config`, kubeconfigText(stub.url, "{}"));
      const pod = { KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "443" };
      const resolve = (
        vars: Record<string, string>,
        more: { kubeconfig?: string; inCluster?: boolean } = {},
      ) => resolveConnection({ serviceAccountDir: sa, env: envOf(vars), ...more });
      const table: [string, Promise<Connection>, string][] = [
        ["KUBECONFIG in a pod", resolve({ ...pod, KUBECONFIG: `${dir}/config` }), "kubeconfig"],
        ["--kubeconfig in a pod", resolve(pod, { kubeconfig: `${dir}/config` }), "kubeconfig"],
        [
          "INCLUSTER with a kubeconfig",
          resolve({ ...pod, KUBECONFIG: `${dir}/config` }, { inCluster: true }),
          "in-cluster",
        ],
        [
          "pod environment before ~/.kube/config",
          resolve({ ...pod, HOME: `${dir}/home` }),
          "in-cluster",
        ],
        [
          "a KUBECONFIG without files falls through to the pod",
          resolve({ ...pod, KUBECONFIG: `${dir}/none` }),
          "in-cluster",
        ],
        ["~/.kube/config outside a pod", resolve({ HOME: `${dir}/home` }), "kubeconfig"],
      ];
      for (const [name, pending, want] of table) {
        const conn = await pending;
        try {
          assert.ok(conn.description.startsWith(want), `${name}: ${conn.description}`);
        } finally {
          conn.close();
        }
      }
    } finally {
      await stub.close();
    }
  }));

Deno.test("kubeconfig: a refused exec section is a one-line KubeconfigError", () =>
  withDir(async (dir) => {
    const table: [string, string, RegExp][] = [
      [
        "v1alpha1",
        "{ exec: { command: aws, apiVersion: client.authentication.k8s.io/v1alpha1 } }",
        /context main: exec plugin aws: unsupported apiVersion "client.authentication.k8s.io\/v1alpha1"/,
      ],
      [
        "interactive",
        "{ exec: { command: login, apiVersion: client.authentication.k8s.io/v1, interactiveMode: Always } }",
        /context main: exec plugin login: interactiveMode Always needs a terminal/,
      ],
    ];
    for (const [name, user, want] of table) {
      await Deno.writeTextFile(`${dir}/config`, kubeconfigText("http://127.0.0.1:9", user));
      await assert.rejects(
        resolveConnection({ kubeconfig: `${dir}/config`, env: envOf({}) }),
        (e: Error) => {
          assert.ok(e instanceof KubeconfigError, `${name}: ${e}`);
          assert.match(e.message, want, name);
          assert.ok(!e.message.includes("\n"), name);
          return true;
        },
      );
    }
  }));
