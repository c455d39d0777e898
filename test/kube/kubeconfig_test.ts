import assert from "node:assert/strict";
import {
  KubeconfigError,
  loadKubeconfig,
  mergeKubeconfigs,
  parseKubeconfig,
  selectContext,
} from "../../lib/kube/kubeconfig.ts";

const b64 = (s: string) => btoa(s);
const utf8b64 = (s: string) => new TextEncoder().encode(s).toBase64();
const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

/** A one-context kubeconfig with the given cluster and user bodies (YAML flow mappings). */
const single = (cluster: string, user: string) => `
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: ${cluster}
users:
- name: u
  user: ${user}
contexts:
- name: ctx
  context: { cluster: c, user: u, namespace: team }
current-context: ctx
`;

Deno.test("parseKubeconfig: cluster and user fields, paths resolved against the file", async () => {
  const table: [string, string, string, Record<string, unknown>][] = [
    [
      "token",
      `{ server: "https://k:6443" }`,
      `{ token: abc }`,
      { server: "https://k:6443", token: "abc" },
    ],
    [
      "relative tokenFile",
      `{ server: "https://k" }`,
      `{ tokenFile: secrets/token }`,
      { tokenFile: "/home/me/.kube/secrets/token" },
    ],
    [
      "absolute tokenFile",
      `{ server: "https://k" }`,
      `{ tokenFile: /run/token }`,
      { tokenFile: "/run/token" },
    ],
    [
      "CA and client cert as data",
      `{ server: "https://k", certificate-authority-data: ${b64(PEM)} }`,
      `{ client-certificate-data: ${b64("CERT")}, client-key-data: ${b64("KEY")} }`,
      { certificateAuthorityData: PEM, clientCertificateData: "CERT", clientKeyData: "KEY" },
    ],
    [
      "CA data with UTF-8 text, decoded as a PEM file would be",
      `{ server: "https://k", certificate-authority-data: ${utf8b64(`# Főtanúsítvány\n${PEM}`)} }`,
      `{}`,
      { certificateAuthorityData: `# Főtanúsítvány\n${PEM}` },
    ],
    [
      "CA and client cert as relative files",
      `{ server: "https://k", certificate-authority: ca.crt }`,
      `{ client-certificate: ../pki/me.crt, client-key: /abs/me.key }`,
      {
        certificateAuthority: "/home/me/.kube/ca.crt",
        clientCertificate: "/home/me/pki/me.crt",
        clientKey: "/abs/me.key",
      },
    ],
    [
      "insecure-skip-tls-verify",
      `{ server: "https://k", insecure-skip-tls-verify: true }`,
      `{}`,
      { insecureSkipTlsVerify: true },
    ],
    [
      "basic auth",
      `{ server: "http://k" }`,
      `{ username: admin, password: "s3cret" }`,
      { username: "admin", password: "s3cret" },
    ],
    [
      "auth-provider kept by name only",
      `{ server: "https://k" }`,
      `{ auth-provider: { name: gcp, config: { access-token: x } } }`,
      { authProvider: "gcp" },
    ],
  ];
  for (const [name, cluster, user, want] of table) {
    const cfg = await parseKubeconfig(single(cluster, user), "/home/me/.kube/config");
    const got = { ...cfg.clusters.c, ...cfg.users.u };
    for (const [k, v] of Object.entries(want)) {
      assert.deepEqual((got as Record<string, unknown>)[k], v, `${name}: ${k}`);
    }
    assert.deepEqual(cfg.contexts.ctx, { cluster: "c", user: "u", namespace: "team" }, name);
    assert.equal(cfg.currentContext, "ctx", name);
  }
});

Deno.test("parseKubeconfig: exec section, relative command with a slash only", async () => {
  const exec = async (command: string) =>
    (await parseKubeconfig(
      single(
        `{ server: "https://k" }`,
        `{ exec: { apiVersion: client.authentication.k8s.io/v1, command: "${command}", args: [a, b], env: [{ name: X, value: "1" }], interactiveMode: Never, provideClusterInfo: true, installHint: "install it" } }`,
      ),
      "/home/me/.kube/config",
    )).users.u.exec;
  assert.deepEqual(await exec("aws"), {
    command: "aws",
    args: ["a", "b"],
    env: [{ name: "X", value: "1" }],
    apiVersion: "client.authentication.k8s.io/v1",
    interactiveMode: "Never",
    provideClusterInfo: true,
    installHint: "install it",
  });
  assert.equal((await exec("./bin/plugin"))?.command, "/home/me/.kube/bin/plugin");
  assert.equal((await exec("/usr/bin/plugin"))?.command, "/usr/bin/plugin");
});

Deno.test("parseKubeconfig: malformed files fail with the file named", async () => {
  const table: [string, string, RegExp][] = [
    ["bad YAML", "clusters: [", /\/k\/config: invalid YAML/],
    ["not a mapping", "- a\n- b", /not a YAML mapping/],
    ["clusters not a list", "clusters: {}", /clusters is not a list/],
    ["entry without name", "users: [{ user: {} }]", /users entry without name/],
    ["bad base64", single(`{ server: x, certificate-authority-data: "%%%" }`, "{}"), /base64/],
    [
      "exec without apiVersion",
      single(`{ server: x }`, `{ exec: { command: x } }`),
      /exec needs command and apiVersion/,
    ],
  ];
  for (const [name, text, want] of table) {
    await assert.rejects(() => parseKubeconfig(text, "/k/config"), (e: Error) => {
      assert.ok(e instanceof KubeconfigError, name);
      assert.match(e.message, want, name);
      return true;
    });
  }
  assert.deepEqual(
    (await parseKubeconfig("", "/k/empty")).clusters,
    {},
    "empty file is an empty config",
  );
});

Deno.test("selectContext: current-context, override, and clear errors", async () => {
  const cfg = await parseKubeconfig(
    `
clusters:
- { name: c1, cluster: { server: "https://one" } }
- { name: nosrv, cluster: {} }
users:
- { name: u1, user: { token: t } }
contexts:
- { name: one, context: { cluster: c1, user: u1 } }
- { name: anon, context: { cluster: c1 } }
- { name: ghost-cluster, context: { cluster: nope, user: u1 } }
- { name: ghost-user, context: { cluster: c1, user: nope } }
- { name: no-server, context: { cluster: nosrv, user: u1 } }
current-context: one
`,
    "/k/config",
  );
  assert.equal(selectContext(cfg).name, "one");
  assert.equal(selectContext(cfg).user.token, "t");
  assert.deepEqual(selectContext(cfg, "anon").user, {});
  const table: [string | undefined, RegExp][] = [
    ["missing", /context "missing" not found \(known: one, anon, ghost-cluster/],
    ["ghost-cluster", /unknown cluster "nope"/],
    ["ghost-user", /unknown user "nope"/],
    ["no-server", /cluster "nosrv" has no server/],
  ];
  for (const [name, want] of table) {
    assert.throws(() => selectContext(cfg, name), (e: Error) => {
      assert.ok(e instanceof KubeconfigError);
      assert.match(e.message, /^kubeconfig \/k\/config: /);
      assert.match(e.message, want);
      return true;
    });
  }
  const noCurrent = await parseKubeconfig("contexts: []", "/k/other");
  assert.throws(() => selectContext(noCurrent), /no current-context set/);
});

Deno.test("mergeKubeconfigs: the first file to define a name or current-context wins", async () => {
  const a = await parseKubeconfig(
    `clusters: [{ name: shared, cluster: { server: "https://a" } }]\ncontexts: [{ name: a, context: { cluster: shared } }]`,
    "/a",
  );
  const b = await parseKubeconfig(
    `clusters: [{ name: shared, cluster: { server: "https://b" } }, { name: onlyb, cluster: { server: "https://ob" } }]\ncurrent-context: b`,
    "/b",
  );
  const merged = mergeKubeconfigs([a, b]);
  assert.equal(merged.clusters.shared.server, "https://a");
  assert.equal(merged.clusters.onlyb.server, "https://ob");
  assert.equal(merged.currentContext, "b");
  assert.deepEqual(merged.files, ["/a", "/b"]);
});

Deno.test("loadKubeconfig: skips missing files, undefined when none exist", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/one`, "current-context: one");
    const cfg = await loadKubeconfig([`${dir}/missing`, `${dir}/one`, ""]);
    assert.equal(cfg?.currentContext, "one");
    assert.deepEqual(cfg?.files, [`${dir}/one`]);
    assert.equal(await loadKubeconfig([`${dir}/missing`]), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
