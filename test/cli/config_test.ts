/**
 * `readInvocation`: flags over environment over defaults, Go-style flags, files read
 * for secrets and credentials, value parsing, usage errors; and the help text.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  helpText,
  type Invocation,
  type ReadFile,
  readInvocation,
  UsageError,
} from "../../cli/config.ts";
import { OPTIONS } from "../../cli/options.ts";

type Env = Record<string, string>;
/** The environment `vars`, serving without a token unless they say otherwise. */
const envOf = (vars: Env) => (name: string): string | undefined =>
  name in vars ? vars[name] : name === "INSECURE_NO_TOKEN" ? "true" : undefined;
const noFiles: ReadFile = (path) => Promise.reject(new Error(`no such file ${path}`));
const read = (argv: string[], env: Env = {}, readFile = noFiles) =>
  readInvocation(argv, envOf(env), readFile);
const usageError = (argv: string[], env: Env = {}, readFile = noFiles) =>
  assert.rejects(read(argv, env, readFile), UsageError, JSON.stringify({ argv, env }));

interface Precedence {
  name: string;
  env: string;
  /** Flag arguments, env value, and what each of flag / env / nothing yields. */
  flag: string[];
  envValue: string;
  fromFlag: unknown;
  fromEnv: unknown;
  fallback: unknown;
  get: (inv: Invocation) => unknown;
}

const HOST_ID = `${Deno.hostname()}-${Deno.pid}`;

const PRECEDENCE: Precedence[] = [
  {
    name: "notify",
    env: "NOTIFY",
    flag: ["--notify", "a=https://a.example/", "--notify", "b=slack+https://b.example/x"],
    envValue: "c=teams+https://c.example/,d=http://d.example/",
    fromFlag: ["a:cloudevents", "b:slack"],
    fromEnv: ["c:teams", "d:cloudevents"],
    fallback: [],
    get: (i) => i.config.notify?.sinks.map((s) => `${s.name}:${s.format}`),
  },
  {
    name: "status-token",
    env: "STATUS_TOKEN",
    flag: ["--status-token", "from-flag"],
    envValue: "from-env",
    fromFlag: "from-flag",
    fromEnv: "from-env",
    fallback: undefined,
    get: (i) => i.config.status?.token,
  },
  {
    name: "listen",
    env: "LISTEN",
    flag: ["--listen", "127.0.0.1:4000"],
    envValue: "127.0.0.1:5000",
    fromFlag: { hostname: "127.0.0.1", port: 4000 },
    fromEnv: { hostname: "127.0.0.1", port: 5000 },
    fallback: { hostname: "::", port: 3000 },
    get: (i) => i.config.listen,
  },
  {
    name: "token",
    env: "TOKEN",
    flag: ["--token", "from-flag"],
    envValue: "from-env",
    fromFlag: "from-flag",
    fromEnv: "from-env",
    fallback: undefined,
    get: (i) => i.config.token,
  },
  {
    name: "registry-mirror",
    env: "REGISTRY_MIRRORS",
    flag: ["--registry-mirror", "docker.io=flag.lan:5000", "--registry-mirror", "quay.io=q:1"],
    envValue: "docker.io=env.lan:5000",
    fromFlag: new Map([["docker.io", "flag.lan:5000"], ["quay.io", "q:1"]]),
    fromEnv: new Map([["docker.io", "env.lan:5000"]]),
    fallback: new Map(),
    get: (i) => i.config.registry.mirrors,
  },
  ...([
    ["kubeconfig", "KUBECONFIG", "kubeconfig"],
    ["context", "KUBE_CONTEXT", "context"],
    ["master", "KUBE_MASTER_URL", "masterUrl"],
    ["ca-file", "CA_FILE", "caFile"],
    ["cert-file", "CERT_FILE", "certFile"],
    ["key-file", "KEY_FILE", "keyFile"],
  ] as const).map(([name, env, key]): Precedence => ({
    name,
    env,
    flag: [`--${name}`, "/from/flag"],
    envValue: "/from/env",
    fromFlag: "/from/flag",
    fromEnv: "/from/env",
    fallback: undefined,
    get: (i) => i.config.kube[key],
  })),
  {
    name: "namespace",
    env: "NAMESPACES",
    flag: ["--namespace", "a"],
    envValue: "b,c",
    fromFlag: ["a"],
    fromEnv: ["b", "c"],
    fallback: [],
    get: (i) => i.config.namespaces,
  },
  {
    name: "registry-aliases",
    env: "REGISTRY_ALIASES",
    flag: ["--registry-aliases", "127.0.0.1:5000=reg.example.com"],
    envValue: "10.0.0.1:5000=other.example.com",
    fromFlag: [["127.0.0.1:5000", "reg.example.com"]],
    fromEnv: [["10.0.0.1:5000", "other.example.com"]],
    fallback: [],
    get: (i) => [...i.config.aliases],
  },
  {
    name: "delivery-timeout",
    env: "DELIVERY_TIMEOUT",
    flag: ["--delivery-timeout", "2500ms"],
    envValue: "3s",
    fromFlag: 2_500,
    fromEnv: 3_000,
    fallback: 4_000,
    get: (i) => i.config.deliveryDeadlineMs,
  },
  {
    name: "poll-interval",
    env: "POLL_INTERVAL",
    flag: ["--poll-interval", "30s"],
    envValue: "1m",
    fromFlag: 30_000,
    fromEnv: 60_000,
    fallback: 300_000,
    get: (i) => i.config.pollIntervalMs,
  },
  {
    name: "health-recheck",
    env: "HEALTH_RECHECK",
    flag: ["--health-recheck", "2s"],
    envValue: "1m",
    fromFlag: 2_000,
    fromEnv: 60_000,
    fallback: 120_000,
    get: (i) => i.config.healthRecheckMs,
  },
  {
    name: "update-window",
    env: "UPDATE_WINDOW",
    flag: ["--update-window", "0 2 * * 6 4h"],
    envValue: "30 22 * * 1-5 90m",
    fromFlag: [{ cron: "0 2 * * 6", durationMs: 4 * 3_600_000 }],
    fromEnv: [{ cron: "30 22 * * 1-5", durationMs: 90 * 60_000 }],
    fallback: undefined,
    get: (i) => i.config.gates?.windows,
  },
  {
    name: "update-window-timezone",
    env: "UPDATE_WINDOW_TIMEZONE",
    flag: ["--update-window-timezone", "Europe/Paris"],
    envValue: "America/New_York",
    fromFlag: "Europe/Paris",
    fromEnv: "America/New_York",
    fallback: undefined,
    get: (i) => i.config.gates?.timeZone,
  },
  {
    name: "min-age",
    env: "MIN_AGE",
    flag: ["--min-age", "72h"],
    envValue: "30m",
    fromFlag: 72 * 3_600_000,
    fromEnv: 30 * 60_000,
    fallback: undefined,
    get: (i) => i.config.gates?.minAgeMs,
  },
  {
    name: "observe",
    env: "OBSERVE",
    flag: ["--observe"],
    envValue: "true",
    fromFlag: true,
    fromEnv: true,
    fallback: undefined,
    get: (i) => i.config.gates?.observe,
  },
  {
    name: "registry-insecure",
    env: "REGISTRY_INSECURE",
    flag: ["--registry-insecure", "reg.lan:5000"],
    envValue: "a.lan:5000, b.lan",
    fromFlag: ["reg.lan:5000"],
    fromEnv: ["a.lan:5000", "b.lan"],
    fallback: [],
    get: (i) => i.config.registry.insecureHosts,
  },
  {
    name: "registry-allow",
    env: "REGISTRY_ALLOW",
    flag: ["--registry-allow", "*.example.com"],
    envValue: "ghcr.io, *.corp.lan",
    fromFlag: ["*.example.com"],
    fromEnv: ["ghcr.io", "*.corp.lan"],
    fallback: [],
    get: (i) => i.config.registry.allow,
  },
  {
    name: "lease-namespace",
    env: "POD_NAMESPACE",
    flag: ["--lease-namespace", "ops"],
    envValue: "argoos",
    fromFlag: "ops",
    fromEnv: "argoos",
    fallback: "default",
    get: (i) => i.config.leader.namespace,
  },
  {
    name: "lease-name",
    env: "LEASE_NAME",
    flag: ["--lease-name", "mine"],
    envValue: "theirs",
    fromFlag: "mine",
    fromEnv: "theirs",
    fallback: "argoos-poller",
    get: (i) => i.config.leader.name,
  },
  {
    name: "lease-duration",
    env: "LEASE_DURATION",
    flag: ["--lease-duration", "2s"],
    envValue: "30s",
    fromFlag: 2_000,
    fromEnv: 30_000,
    fallback: 15_000,
    get: (i) => i.config.leader.leaseDurationMs,
  },
  {
    name: "identity",
    env: "POD_NAME",
    flag: ["--identity", "pod-a"],
    envValue: "argoos-7d9f-x2",
    fromFlag: "pod-a",
    fromEnv: "argoos-7d9f-x2",
    fallback: HOST_ID,
    get: (i) => i.config.leader.identity,
  },
  // Booleans: the flag (or its --no- form) beats the variable, which beats the default.
  ...([
    ["in-cluster", "INCLUSTER", false, (i: Invocation) => i.config.kube.inCluster],
    ["poll-only", "POLL_ONLY", false, (i: Invocation) => !i.config.webhook],
    ["dry-run", "DRY_RUN", false, (i: Invocation) => i.config.dryRun],
    ["events", "EVENTS", true, (i: Invocation) => i.config.events],
    ["revert", "REVERT", true, (i: Invocation) => i.config.revert],
    ["leader-elect", "LEADER_ELECT", true, (i: Invocation) => i.config.leader.enabled],
    ["verbose", "VERBOSE", false, (i: Invocation) => i.config.verbose],
  ] as const).map(([name, env, fallback, get]): Precedence => ({
    name,
    env,
    flag: [fallback ? `--no-${name}` : `--${name}`],
    envValue: fallback ? "true" : "false",
    fromFlag: !fallback,
    fromEnv: fallback,
    fallback,
    get,
  })),
];

Deno.test("every option: flag beats environment beats default", async () => {
  for (const p of PRECEDENCE) {
    const env = { [p.env]: p.envValue };
    assert.deepEqual(p.get(await read(p.flag, env)), p.fromFlag, `${p.name}: flag over env`);
    assert.deepEqual(p.get(await read([], env)), p.fromEnv, `${p.name}: env`);
    assert.deepEqual(p.get(await read([])), p.fallback, `${p.name}: default`);
    // An empty variable counts as unset, except an empty token: refused (see below).
    if (p.env === "TOKEN" || p.env === "STATUS_TOKEN") continue;
    assert.deepEqual(p.get(await read([], { [p.env]: "" })), p.fallback, `${p.name}: empty env`);
  }
  const covered = new Set(PRECEDENCE.map((p) => p.name));
  const rest = OPTIONS.filter((o) => o.env && !covered.has(o.name)).map((o) => o.name);
  // Those read files, or decide whether serving starts; they have their own tests below.
  assert.deepEqual(rest.sort(), [
    "cluster-name",
    "docker-config",
    "image-credential-provider-bin-dir",
    "image-credential-provider-config",
    "insecure-no-token",
    "insecure-status",
    "registry-ca-file",
    "server-cert",
    "server-key",
    "status-token-file",
    "token-file",
  ]);
});

Deno.test("boolean variables accept the usual spellings and nothing else", async () => {
  const table: [string, boolean | "error"][] = [
    ["1", true],
    ["true", true],
    ["TRUE", true],
    ["yes", true],
    ["on", true],
    ["0", false],
    ["false", false],
    ["no", false],
    ["off", false],
    ["maybe", "error"],
    ["2", "error"],
  ];
  for (const [value, want] of table) {
    if (want === "error") await usageError([], { DRY_RUN: value });
    else assert.equal((await read([], { DRY_RUN: value })).config.dryRun, want, value);
  }
});

Deno.test("Go-style single-dash flags, as the original Argoos took them", async () => {
  const inv = await read([
    "-token",
    "x",
    "-listen",
    ":4000",
    "-poll-interval=30s",
    "-no-events",
    "-namespace",
    "a",
    "-v",
  ]);
  assert.equal(inv.config.token, "x");
  assert.deepEqual(inv.config.listen, { hostname: "::", port: 4000 });
  assert.equal(inv.config.pollIntervalMs, 30_000);
  assert.equal(inv.config.events, false);
  assert.deepEqual(inv.config.namespaces, ["a"]);
  assert.equal(inv.config.verbose, true);
  assert.deepEqual((await read(["plan", "-f", "a.yaml", "-f", "b.yaml"])).files, [
    "a.yaml",
    "b.yaml",
  ]);
  assert.equal((await read(["-h"])).help, true);
  await usageError(["-frobnicate", "x"]);
});

const usage = (pattern: RegExp) => (err: unknown) =>
  err instanceof UsageError && pattern.test(err.message);

Deno.test("--token-file is checked at start and kept as a path; --token wins over it", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(path, "  s3cret\n");
    assert.equal((await readInvocation(["--token-file", path], envOf({}))).config.tokenFile, path);
    assert.equal((await readInvocation([], envOf({ TOKEN_FILE: path }))).config.tokenFile, path);
    const both = await readInvocation(["--token", "flag", "--token-file", path], envOf({}));
    assert.equal(both.config.token, "flag");
    assert.equal(both.config.tokenFile, undefined);
    await Deno.writeTextFile(path, " \n\t");
    await assert.rejects(readInvocation(["--token-file", path], envOf({})), usage(/blank/));
  } finally {
    await Deno.remove(path);
  }
  await assert.rejects(readInvocation(["--token-file", path], envOf({})), UsageError);
});

Deno.test("serving without a token, or with a blank one, is refused at start", async () => {
  const refused = async (argv: string[], env: Env, pattern: RegExp) =>
    await assert.rejects(read(argv, { INSECURE_NO_TOKEN: "false", ...env }), usage(pattern));
  await refused([], { INSECURE_NO_TOKEN: "" }, /no token: POST \/event would accept anyone/);
  await refused(["serve", "--token", ""], {}, /--token is blank/);
  await refused(["serve", "--token", "   "], {}, /--token is blank/);
  await refused([], { TOKEN: "" }, /TOKEN is blank/);
  await refused([], { TOKEN: " \t" }, /TOKEN is blank/);
  const blankFile: ReadFile = () => Promise.resolve("\n  \n");
  await assert.rejects(
    read(["--token-file", "/t"], { INSECURE_NO_TOKEN: "" }, blankFile),
    usage(/blank/),
  );
  // Meant: said so explicitly, by flag or variable.
  assert.equal((await read(["--insecure-no-token"])).config.insecureNoToken, true);
  assert.equal((await read([], { INSECURE_NO_TOKEN: "true" })).config.insecureNoToken, true);
  // No webhook, no token needed.
  assert.equal((await read(["poll"])).config.token, undefined);
  assert.equal((await read(["serve", "--poll-only"])).config.webhook, false);
});

Deno.test("--server-cert and --server-key go together; --registry-ca-file is read", async () => {
  const files: Record<string, string> = { "/c.pem": "CERT", "/k.pem": "KEY", "/ca.pem": "CA" };
  const readFile = (p: string) =>
    p in files ? Promise.resolve(files[p]) : Promise.reject(new Error("missing"));
  const inv = await read(
    ["--server-cert", "/c.pem", "--server-key", "/k.pem", "--registry-ca-file", "/ca.pem"],
    {},
    readFile,
  );
  assert.deepEqual(inv.config.serverTls, { cert: "CERT", key: "KEY" });
  assert.equal(inv.config.registry.caCert, "CA");
  assert.equal((await read([], {}, readFile)).config.serverTls, undefined);
  await usageError(["--server-cert", "/c.pem"], {}, readFile);
  await usageError([], { SERVER_KEY: "/k.pem" }, readFile);
  await usageError(["--registry-ca-file", "/nope.pem"], {}, readFile);
});

Deno.test("--docker-config takes a config.json or the folder holding one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const text = JSON.stringify({ auths: { "reg.lan:5000": { auth: btoa("u:p") } } });
    await Deno.writeTextFile(`${dir}/config.json`, text);
    const viaFile = await readInvocation(["--docker-config", `${dir}/config.json`], envOf({}));
    assert.equal(viaFile.config.registry.dockerConfig, text);
    const viaDir = await readInvocation([], envOf({ DOCKER_CONFIG: dir }));
    assert.equal(viaDir.config.registry.dockerConfig, text);
    assert.equal((await readInvocation([], envOf({}))).config.registry.dockerConfig, undefined);
    await assert.rejects(
      readInvocation(["--docker-config", `${dir}/missing.json`], envOf({})),
      UsageError,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LISTEN: host:port, :port and bracketed IPv6; anything else is a usage error", async () => {
  const table: [string, { hostname: string; port: number } | "error"][] = [
    [":3000", { hostname: "::", port: 3000 }],
    ["127.0.0.1:0", { hostname: "127.0.0.1", port: 0 }],
    ["[::1]:8080", { hostname: "::1", port: 8080 }],
    ["[::]:80", { hostname: "::", port: 80 }],
    ["localhost:65535", { hostname: "localhost", port: 65535 }],
    ["3000", "error"],
    ["localhost", "error"],
    [":", "error"],
    ["127.0.0.1:http", "error"],
    ["127.0.0.1:-1", "error"],
    ["127.0.0.1:65536", "error"],
  ];
  for (const [value, want] of table) {
    if (want === "error") await usageError([], { LISTEN: value });
    else assert.deepEqual((await read([], { LISTEN: value })).config.listen, want, value);
  }
});

Deno.test("POLL_INTERVAL: durations, 0 turns polling off, anything else is an error", async () => {
  const table: [string, number | "error"][] = [
    ["30s", 30_000],
    ["5m", 300_000],
    ["1h30m", 5_400_000],
    ["250ms", 250],
    ["1.5s", 1_500],
    ["0", 0],
    ["5", "error"],
    ["5 minutes", "error"],
    ["-1s", "error"],
    ["1d", "error"],
    ["s", "error"],
  ];
  for (const [value, want] of table) {
    if (want === "error") {
      await usageError([], { POLL_INTERVAL: value });
      await usageError(["--poll-interval", value]);
    } else {
      assert.equal((await read([], { POLL_INTERVAL: value })).config.pollIntervalMs, want, value);
    }
  }
});

Deno.test("--delivery-timeout must be a duration above 0", async () => {
  for (const value of ["0", "4", "soon"]) await usageError(["--delivery-timeout", value]);
});

Deno.test("--lease-duration must be a duration of at least a second", async () => {
  for (const value of ["0", "500ms", "soon"]) await usageError(["--lease-duration", value]);
  assert.equal((await read(["--lease-duration", "1s"])).config.leader.leaseDurationMs, 1_000);
});

Deno.test("poll-only: the poll command or --poll-only; it needs an interval above 0", async () => {
  const table: [string[], Env, { command: string; webhook: boolean } | "error"][] = [
    [[], {}, { command: "serve", webhook: true }],
    [["serve"], {}, { command: "serve", webhook: true }],
    [["poll"], {}, { command: "poll", webhook: false }],
    [["--poll-only"], {}, { command: "serve", webhook: false }],
    [[], { POLL_ONLY: "true" }, { command: "serve", webhook: false }],
    [["--poll-interval", "0"], {}, { command: "serve", webhook: true }],
    [["poll", "--poll-interval", "0"], {}, "error"],
    [["--poll-only"], { POLL_INTERVAL: "0" }, "error"],
  ];
  for (const [argv, env, want] of table) {
    if (want === "error") {
      await usageError(argv, env);
    } else {
      const inv = await read(argv, env);
      assert.deepEqual({ command: inv.command, webhook: inv.config.webhook }, want, argv.join(" "));
    }
  }
});

Deno.test("plan is always a dry run and takes -f files", async () => {
  const inv = await read(["plan", "-f", "a.yaml", "--file", "b.yaml"]);
  assert.equal(inv.command, "plan");
  assert.equal(inv.config.dryRun, true);
  assert.deepEqual(inv.files, ["a.yaml", "b.yaml"]);
});

Deno.test("REGISTRY_ALIASES: from=to pairs, hosts lowercased; malformed pairs are errors", async () => {
  const table: [string, [string, string][] | "error"][] = [
    ["127.0.0.1:5000=registry.example.com", [["127.0.0.1:5000", "registry.example.com"]]],
    [" A:5000 = a.example.com , b:5000=b.example.com,", [
      ["a:5000", "a.example.com"],
      ["b:5000", "b.example.com"],
    ]],
    ["nohost", "error"],
    ["a=b=c", "error"],
    ["=b", "error"],
  ];
  for (const [value, want] of table) {
    if (want === "error") await usageError([], { REGISTRY_ALIASES: value });
    else assert.deepEqual([...(await read([], { REGISTRY_ALIASES: value })).config.aliases], want);
  }
});

Deno.test("NAMESPACES is a comma list; --namespace repeats and wins", async () => {
  const table: [string[], Env, string[]][] = [
    [[], { NAMESPACES: "a, b,,c " }, ["a", "b", "c"]],
    [["--namespace", "x", "--namespace", "y"], {}, ["x", "y"]],
    [["--namespace", "x,y"], {}, ["x", "y"]],
    [["--namespace", "x"], { NAMESPACES: "a,b" }, ["x"]],
    [[], {}, []],
  ];
  for (const [argv, env, want] of table) {
    assert.deepEqual((await read(argv, env)).config.namespaces, want, argv.join(" "));
  }
});

Deno.test("--no-events and --no-leader-elect turn those off", async () => {
  const inv = await read(["--no-events", "--no-leader-elect"], {
    EVENTS: "true",
    LEADER_ELECT: "true",
  });
  assert.equal(inv.config.events, false);
  assert.equal(inv.config.leader.enabled, false);
  const defaults = await read([]);
  assert.equal(defaults.config.events, true);
  assert.equal(defaults.config.leader.enabled, true);
});

Deno.test("the identity defaults to HOSTNAME-pid", async () => {
  const inv = await read([], { HOSTNAME: "argoos-0" });
  assert.equal(inv.config.leader.identity, `argoos-0-${Deno.pid}`);
});

Deno.test("unknown flags, commands and extra arguments are usage errors", async () => {
  const table: string[][] = [
    ["--frobnicate"],
    ["--listen"],
    ["deploy"],
    ["serve", "extra"],
    ["--dry-run=yes"],
  ];
  for (const argv of table) await usageError(argv);
});

Deno.test("the help text lists every option and its variable", () => {
  const help = helpText();
  for (const o of OPTIONS) {
    assert.ok(help.includes(`--${o.name}`), o.name);
    if (o.env) assert.ok(help.includes(`[env ${o.env}]`), o.env);
    if (o.short) assert.ok(help.includes(`-${o.short}, --${o.name}`), o.short);
    if (o.default) assert.ok(help.includes(`(default ${o.default})`), `${o.name} default`);
  }
  assert.match(help, /usage: argoos \[serve\|poll\|plan\]/);
});

Deno.test("--health-recheck must be a duration above 0", async () => {
  for (const value of ["0", "soon"]) await usageError(["--health-recheck", value]);
  assert.equal((await read(["--health-recheck", "250ms"])).config.healthRecheckMs, 250);
});

Deno.test("gate options take what their annotations take, else a usage error naming the flag", async () => {
  for (
    const argv of [
      ["--update-window", "0 2 * * 6"],
      ["--update-window-timezone", "Paris"],
      ["--min-age", "3 days"],
    ]
  ) {
    await assert.rejects(read(argv), (err: Error) => err.message.startsWith(`${argv[0]} "`));
  }
  await usageError([], { OBSERVE: "maybe" });
  assert.deepEqual((await read(["--update-window", "always"])).config.gates, { windows: [] });
  assert.deepEqual((await read([])).config.gates, {});
});

Deno.test("credential provider options: config and bin dir together, config checked", async () => {
  const config = [
    "apiVersion: kubelet.config.k8s.io/v1",
    "kind: CredentialProviderConfig",
    "providers:",
    "  - name: ecr-credential-provider",
    '    matchImages: ["*.dkr.ecr.*.amazonaws.com"]',
    "    defaultCacheDuration: 12h",
    "    apiVersion: credentialprovider.kubelet.k8s.io/v1",
  ].join("\n");
  const files: Record<string, string> = { "/cp.yaml": config, "/bad.yaml": "kind: Nope" };
  const readFile = (p: string) =>
    p in files ? Promise.resolve(files[p]) : Promise.reject(new Error("missing"));
  const inv = await read([], {
    IMAGE_CREDENTIAL_PROVIDER_CONFIG: "/cp.yaml",
    IMAGE_CREDENTIAL_PROVIDER_BIN_DIR: "/plugins",
  }, readFile);
  assert.equal(inv.config.registry.credentialProviders?.binDir, "/plugins");
  assert.deepEqual(
    inv.config.registry.credentialProviders?.providers.map((p) => p.name),
    ["ecr-credential-provider"],
  );
  assert.equal((await read([], {}, readFile)).config.registry.credentialProviders, undefined);
  await usageError(["--image-credential-provider-config", "/cp.yaml"], {}, readFile);
  await usageError(["--image-credential-provider-bin-dir", "/plugins"], {}, readFile);
  await usageError(
    [
      "--image-credential-provider-config",
      "/bad.yaml",
      "--image-credential-provider-bin-dir",
      "/p",
    ],
    {},
    readFile,
  );
  await usageError(["--registry-mirror", "docker.io"]);
});

Deno.test("notification sinks: secrets from --notify-secret files or NOTIFY_SECRET_<NAME>, source", async () => {
  const files: Record<string, string> = { "/ops.secret": "whsec_aGVsbG8=\n" };
  const readFile = (p: string) =>
    p in files ? Promise.resolve(files[p]) : Promise.reject(new Error("missing"));
  const inv = await read(
    [
      "--notify",
      "ops=https://h.example/a,eu-ops=https://h.example/b",
      "--notify-secret",
      "ops=/ops.secret",
    ],
    { NOTIFY_SECRET_EU_OPS: "plain", CLUSTER_NAME: "prod" },
    readFile,
  );
  assert.deepEqual(inv.config.notify?.sinks.map((s) => [s.name, s.secret]), [
    ["ops", "whsec_aGVsbG8="],
    ["eu-ops", "plain"],
  ]);
  assert.equal(inv.config.notify?.source, "argoos/prod");
  assert.equal((await read([], { HOSTNAME: "node-1" })).config.notify?.source, "argoos/node-1");
  // Refused, each with a one-line reason that never shows the URL.
  for (
    const [argv, env] of [
      [["--notify", "ops"], {}],
      [["--notify", "Ops=https://h.example/"], {}],
      [["--notify", "ops=ftp://h.example/"], {}],
      [["--notify", "ops=https://u:p@h.example/"], {}],
      [["--notify", "ops=https://h.example/,ops=https://h.example/2"], {}],
      [["--notify-secret", "ops=/ops.secret"], {}],
      [["--notify", "ops=https://h.example/", "--notify-secret", "ops=/missing"], {}],
      [["--notify", "chat=slack+https://h.example/"], { NOTIFY_SECRET_CHAT: "x" }],
      [["--notify", "ops=https://h.example/"], { NOTIFY_SECRET_OPS: "whsec_not base64!" }],
      [["--notify", "ops=https://h.example/"], { NOTIFY_SECRET_OPS: " " }],
    ] as [string[], Env][]
  ) {
    const err = await read(argv, env, readFile).then(() => undefined, (e: Error) => e);
    assert.ok(err instanceof UsageError, JSON.stringify(argv));
    assert.doesNotMatch(err.message, /h\.example|not base64!|\n/, JSON.stringify(argv));
  }
});

Deno.test("status page: off by default; a token, a token file or --insecure-status turns it on", async () => {
  const readFile = (p: string) =>
    p === "/status.token" ? Promise.resolve("s3cret\n") : Promise.reject(new Error("missing"));
  assert.equal((await read([])).config.status, undefined);
  assert.deepEqual(
    (await read([], { STATUS_TOKEN_FILE: "/status.token" }, readFile)).config.status,
    {
      tokenFile: "/status.token",
    },
  );
  assert.deepEqual((await read(["--insecure-status"])).config.status, {});
  await usageError([], { STATUS_TOKEN: "" });
  await usageError(["--status-token-file", "/missing"]);
});
