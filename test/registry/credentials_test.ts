import assert from "node:assert/strict";
import {
  credentialFor,
  credentialsFor,
  mergeCredentials,
  normalizeRegistryHost,
  parseDockerConfig,
  type RegistryCredential,
} from "../../lib/registry/credentials.ts";

const b64 = (s: string) => btoa(String.fromCharCode(...new TextEncoder().encode(s)));

const hosts: [string, string][] = [
  ["docker.io", "docker.io"],
  ["index.docker.io", "docker.io"],
  ["registry-1.docker.io", "docker.io"],
  ["https://index.docker.io/v1/", "docker.io"],
  ["https://registry-1.docker.io/v2/", "docker.io"],
  ["http://host:5000", "host:5000"],
  ["https://Reg.Example.com/v2/", "reg.example.com"],
  ["localhost:5000", "localhost:5000"],
  ["  ghcr.io  ", "ghcr.io"],
  ["gcr.io/my-project", "gcr.io"],
];

for (const [key, want] of hosts) {
  Deno.test(`normalizeRegistryHost: ${key} -> ${want}`, () => {
    assert.equal(normalizeRegistryHost(key), want);
  });
}

const parsed: [string, unknown, [string, RegistryCredential][]][] = [
  ["auth field", { auths: { "localhost:5000": { auth: b64("testuser:testpass") } } }, [
    ["localhost:5000", { username: "testuser", password: "testpass" }],
  ]],
  ["password containing colons", { auths: { "r.io": { auth: b64("u:p:a:ss") } } }, [
    ["r.io", { username: "u", password: "p:a:ss" }],
  ]],
  ["utf-8 in auth", { auths: { "r.io": { auth: b64("jörg:pässword") } } }, [
    ["r.io", { username: "jörg", password: "pässword" }],
  ]],
  ["username/password fields", { auths: { "r.io": { username: "u", password: "p" } } }, [
    ["r.io", { username: "u", password: "p" }],
  ]],
  ["auth wins over fields", {
    auths: { "r.io": { auth: b64("a:b"), username: "u", password: "p" } },
  }, [["r.io", { username: "a", password: "b" }]]],
  ["identity token", {
    auths: { "https://index.docker.io/v1/": { auth: b64("<token>:"), identitytoken: "idt" } },
  }, [["docker.io", { username: "<token>", token: "idt" }]]],
  ["identity token alone", { auths: { "r.io": { identitytoken: "idt" } } }, [
    ["r.io", { token: "idt" }],
  ]],
  ["registry token", { auths: { "r.io": { registrytoken: "rt" } } }, [["r.io", { token: "rt" }]]],
  ["docker hub URL key", {
    auths: { "https://index.docker.io/v1/": { auth: b64("u:p") } },
  }, [["docker.io", { username: "u", password: "p" }]]],
  ["http URL key with port", { auths: { "http://host:5000": { auth: b64("u:p") } } }, [
    ["host:5000", { username: "u", password: "p" }],
  ]],
  ["paths and wildcards are kept in the key", {
    auths: {
      "ghcr.io/org-a": { auth: b64("alice:1") },
      "https://ghcr.io/org-b/": { auth: b64("bob:2") },
      "*.azurecr.io": { auth: b64("az:3") },
    },
  }, [
    ["ghcr.io/org-a", { username: "alice", password: "1" }],
    ["ghcr.io/org-b", { username: "bob", password: "2" }],
    ["*.azurecr.io", { username: "az", password: "3" }],
  ]],
  ["first duplicate wins", {
    auths: {
      "https://index.docker.io/v1/": { auth: b64("a:1") },
      "docker.io": { auth: b64("b:2") },
    },
  }, [["docker.io", { username: "a", password: "1" }]]],
  ["empty entry skipped (creds store)", {
    auths: { "docker.io": {}, "r.io": { auth: "" } },
    credsStore: "desktop",
  }, []],
  ["empty auths", { auths: {} }, []],
  ["extra config keys ignored", {
    auths: { "r.io": { auth: b64("u:p"), email: "x@y" } },
    HttpHeaders: { "User-Agent": "x" },
    credHelpers: { "gcr.io": "gcloud" },
  }, [["r.io", { username: "u", password: "p" }]]],
  ["legacy .dockercfg", {
    "https://index.docker.io/v1/": { auth: b64("u:p"), email: "u@example.com" },
    "quay.io": { auth: b64("q:w") },
  }, [["docker.io", { username: "u", password: "p" }], ["quay.io", {
    username: "q",
    password: "w",
  }]]],
  ["legacy skips non-credential keys", {
    credsStore: "desktop",
    credHelpers: { "gcr.io": "gcloud" },
    "r.io": { auth: b64("u:p") },
  }, [["r.io", { username: "u", password: "p" }]]],
];

for (const [name, doc, want] of parsed) {
  Deno.test(`parseDockerConfig: ${name}`, () => {
    assert.deepEqual([...parseDockerConfig(JSON.stringify(doc))], want);
  });
}

const malformed: [string, string, RegExp][] = [
  ["not JSON", "{auths:", /not valid JSON/],
  ["array", "[]", /JSON object/],
  ["null", "null", /JSON object/],
  ["auths not object", '{"auths": []}', /"auths" must be an object/],
  ["entry not object", '{"auths": {"r.io": "x"}}', /"r.io" must be an object/],
  ["auth not base64", '{"auths": {"r.io": {"auth": "***"}}}', /"r.io".auth is not valid base64/],
  ["auth without colon", `{"auths": {"r.io": {"auth": "${btoa("user")}"}}}`, /"user:password"/],
  ["auth not a string", '{"auths": {"r.io": {"auth": 5}}}', /"r.io".auth must be a string/],
];

for (const [name, text, want] of malformed) {
  Deno.test(`parseDockerConfig throws: ${name}`, () => {
    assert.throws(() => parseDockerConfig(text), want);
  });
}

Deno.test("credentialFor matches any spelling of the host", () => {
  const creds = parseDockerConfig(JSON.stringify({ auths: { "docker.io": { auth: b64("u:p") } } }));
  for (const host of ["docker.io", "index.docker.io", "registry-1.docker.io", "DOCKER.IO"]) {
    assert.deepEqual(credentialFor(creds, host), { username: "u", password: "p" });
  }
  assert.equal(credentialFor(creds, "quay.io"), undefined);
});

Deno.test("mergeCredentials: earlier maps win, others fill in", () => {
  const secret = new Map([["docker.io", { username: "a" }]]);
  const global = new Map([["docker.io", { username: "b" }], ["quay.io", { username: "q" }]]);
  assert.deepEqual([...mergeCredentials(secret, global)], [
    ["docker.io", { username: "a" }],
    ["quay.io", { username: "q" }],
  ]);
  assert.deepEqual([...mergeCredentials()], []);
});

/** The reviewer's dockerconfigjson: two orgs on one host, a wildcard, Docker Hub, a port. */
const reviewed = parseDockerConfig(JSON.stringify({
  auths: {
    "ghcr.io/org-a": { auth: b64("alice:pa:ss") },
    "ghcr.io/org-b": { auth: b64("bob:pw") },
    "*.azurecr.io": { auth: b64("az:pw") },
    "https://index.docker.io/v1/": { auth: b64("hub:pw") },
    "http://Reg.Local:5000/": { username: "r", password: "p" },
  },
}));
const user = (host: string, path?: string) => credentialFor(reviewed, host, path)?.username;

Deno.test("credentialFor: two orgs on one host keep their own credentials", () => {
  assert.equal(user("ghcr.io", "org-a/app"), "alice");
  assert.equal(user("ghcr.io", "org-b/app"), "bob");
  assert.equal(user("ghcr.io", "org-c/app"), undefined);
  assert.equal(user("ghcr.io"), undefined, "no path: host-wide keys only");
});

Deno.test("credentialFor: *.azurecr.io covers one label, not the bare domain", () => {
  assert.equal(user("myreg.azurecr.io", "team/app"), "az");
  assert.equal(user("myreg.azurecr.io"), "az");
  assert.equal(user("azurecr.io", "team/app"), undefined);
  assert.equal(user("a.b.azurecr.io", "team/app"), undefined);
});

Deno.test("credentialFor: Docker Hub spellings and host:port", () => {
  for (const host of ["docker.io", "index.docker.io", "registry-1.docker.io"]) {
    assert.equal(user(host, "library/nginx"), "hub");
  }
  assert.equal(user("reg.local:5000", "team/app"), "r");
  assert.equal(user("reg.local", "team/app"), undefined);
});

Deno.test("credentialsFor: all matches, most specific first, precedence among equals", () => {
  const creds = mergeCredentials(
    new Map([["ghcr.io", { username: "secret-host" }], ["*.azurecr.io", { username: "wild" }]]),
    new Map([
      ["ghcr.io", { username: "config-host" }],
      ["ghcr.io/org-b", { username: "config-org" }],
      ["ghcr.io/org-b/app", { username: "config-repo" }],
      ["https://x.azurecr.io/v1/", { username: "exact" }],
    ]),
  );
  const users = (host: string, path?: string) =>
    credentialsFor(creds, host, path).map((c) => c.username);
  assert.deepEqual(users("ghcr.io", "org-b/app"), ["config-repo", "config-org", "secret-host"]);
  assert.deepEqual(users("ghcr.io", "org-b/app2"), ["config-org", "secret-host"]);
  assert.deepEqual(users("ghcr.io"), ["secret-host"]);
  assert.deepEqual(users("x.azurecr.io", "app"), ["exact", "wild"]);
  assert.deepEqual(users("y.azurecr.io", "app"), ["wild"]);
  assert.deepEqual(users("quay.io", "app"), []);
});

Deno.test("credentialsFor: the same credential under two keys is listed once", () => {
  const cred = { username: "u", password: "p" };
  const creds = new Map([["ghcr.io/org", cred], ["ghcr.io", { ...cred }], ["*.io", cred]]);
  assert.deepEqual(credentialsFor(creds, "ghcr.io", "org/app"), [cred]);
});

Deno.test("credentialsFor: hand-built maps with unnormalized keys still match", () => {
  const creds = new Map([["https://index.docker.io/v1/", { username: "hub" }]]);
  assert.deepEqual(credentialsFor(creds, "docker.io", "library/nginx"), [{ username: "hub" }]);
});

Deno.test("mergeCredentials: keys are compared normalized", () => {
  const merged = mergeCredentials(
    new Map([["https://index.docker.io/v1/", { username: "a" }]]),
    new Map([["docker.io", { username: "b" }], ["ghcr.io/org-b/", { username: "c" }]]),
  );
  assert.deepEqual([...merged], [
    ["docker.io", { username: "a" }],
    ["ghcr.io/org-b", { username: "c" }],
  ]);
});
