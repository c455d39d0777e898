import assert from "node:assert/strict";
import { splitRepository } from "../../lib/image/reference.ts";
import { fetchOffers, usersByRepository } from "../../lib/poll/offers.ts";
import { RegistryClient } from "../../lib/registry/client.ts";
import { type CredentialMap, parseDockerConfig } from "../../lib/registry/credentials.ts";
import { RegistryError } from "../../lib/registry/errors.ts";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { readWorkload, type Workload } from "../../lib/workloads/workload.ts";
import { startStubRegistry } from "../../bench/stub_registry.ts";
import { closedPort, startStub } from "../registry/stub_registry.ts";
import { deployment } from "../support/workload_object.ts";
import { PLAIN_LOOPBACK } from "../support/loopback.ts";

const NO_CREDENTIALS = () => Promise.resolve<CredentialMap>(new Map());

function workload(name: string, policy: string, images: string[], init: string[] = []): Workload {
  return readWorkload(
    kindNamed("Deployment")!,
    deployment({
      name,
      policy,
      containers: images.map((image, i) => ({ name: `c${i}`, image })),
      initContainers: init.map((image, i) => ({ name: `init${i}`, image })),
    }),
  );
}

const splits: [repository: string, host: string, path: string][] = [
  ["docker.io/library/nginx", "docker.io", "library/nginx"],
  ["localhost:5000/team/app", "localhost:5000", "team/app"],
  ["ghcr.io/org/group/app", "ghcr.io", "org/group/app"],
];

for (const [repository, host, path] of splits) {
  Deno.test(`splitRepository: ${repository}`, () => {
    assert.deepEqual(splitRepository(repository), [host, path]);
  });
}

Deno.test("usersByRepository: each workload once per repository, filter applied", () => {
  const a = workload("a", "minor", ["myapp:1.2.3", "envoyproxy/envoy:1.0.0"], ["myapp:1.0.0"]);
  const b = workload("b", "patch", ["myapp:1.2.3", "myapp:1.2.4"]);
  const bad = workload("bad", "sometimes", ["myapp:1.2.3"]);
  const unparsable = workload("broken", "minor", ["Not A Reference!"]);
  const users = usersByRepository([a, b, bad, unparsable], (w) => w.policyLabel !== "sometimes");
  const names = Object.fromEntries([...users].map(([repo, ws]) => [repo, ws.map((w) => w.name)]));
  assert.deepEqual(names, {
    "docker.io/library/myapp": ["a", "b"],
    "docker.io/envoyproxy/envoy": ["a"],
  });
});

Deno.test("fetchOffers: one listing per repository whatever the number of workloads", async () => {
  const stub = startStubRegistry();
  const registry = new RegistryClient(PLAIN_LOOPBACK);
  try {
    for (const tag of ["1.2.3", "1.2.4", "1.3.0"]) stub.push("team/app", tag);
    stub.push("team/other", "2.0.0");
    const workloads = Array.from(
      { length: 10 },
      (_, i) => workload(`w${i}`, "minor", [`${stub.host}/team/app:1.2.3`]),
    );
    workloads.push(workload("o", "major", [`${stub.host}/team/other:1.0.0`]));
    const result = await fetchOffers(usersByRepository(workloads), registry, NO_CREDENTIALS);
    assert.equal(result.listings, 2);
    assert.deepEqual(stub.counts(), { listings: 2, heads: 0, total: 2 });
    assert.deepEqual(result.offers.get(`${stub.host}/team/app`)?.tags, ["1.2.3", "1.2.4", "1.3.0"]);
    assert.deepEqual(result.offers.get(`${stub.host}/team/other`)?.tags, ["2.0.0"]);
    assert.equal(result.failures.size, 0);
  } finally {
    await stub.close();
  }
});

Deno.test("fetchOffers: listings only; digests are the reconcile's truth check", async () => {
  const stub = startStubRegistry();
  const registry = new RegistryClient(PLAIN_LOOPBACK);
  try {
    for (const tag of ["latest", "1.3.0", "1.2.3"]) stub.push("team/app", tag);
    const repo = `${stub.host}/team/app`;
    const workloads = [
      workload("minor", "minor", [`${repo}:1.2.3`]),
      workload("all", "all", [`${repo}:latest`], [`${repo}:latest`]),
    ];
    const result = await fetchOffers(usersByRepository(workloads), registry, NO_CREDENTIALS);
    assert.equal(result.listings, 1);
    assert.deepEqual(stub.requests.filter((r) => r.method === "HEAD"), []);
    assert.deepEqual([...result.offers.get(repo)!.tags].sort(), ["1.2.3", "1.3.0", "latest"]);
    assert.equal(result.failures.size, 0);
  } finally {
    await stub.close();
  }
});

Deno.test("fetchOffers: failures grouped per host, other hosts still served", async () => {
  const stub = startStubRegistry();
  const registry = new RegistryClient(PLAIN_LOOPBACK);
  const down = `127.0.0.1:${closedPort()}`;
  try {
    stub.push("team/app", "1.3.0");
    const workloads = [
      workload("up", "minor", [`${stub.host}/team/app:1.2.3`]),
      workload("d1", "minor", [`${down}/team/a:1.0.0`]),
      workload("d2", "minor", [`${down}/team/a:1.0.0`, `${down}/team/b:1.0.0`]),
      workload("d3", "minor", [`${down}/team/c:1.0.0`]),
    ];
    const result = await fetchOffers(usersByRepository(workloads), registry, NO_CREDENTIALS);
    assert.deepEqual([...result.offers.keys()], [`${stub.host}/team/app`]);
    assert.deepEqual([...result.failures.keys()], [down]);
    const failure = result.failures.get(down)!;
    assert.equal(failure.repositories, 3);
    assert.ok(failure.error instanceof RegistryError);
    assert.equal(failure.error.transient, true);
    assert.equal(result.listings, 4);
  } finally {
    await stub.close();
  }
});

Deno.test("fetchOffers: the workloads' credentials for the repository's host are asked", async () => {
  const stub = startStubRegistry();
  const registry = new RegistryClient(PLAIN_LOOPBACK);
  try {
    stub.push("team/app", "1.3.0");
    const workloads = [
      workload("a", "minor", [`${stub.host}/team/app:1.2.3`]),
      workload("b", "minor", [`${stub.host}/team/app:1.2.3`]),
    ];
    const asked: string[] = [];
    await fetchOffers(usersByRepository(workloads), registry, (w) => {
      asked.push(w.name);
      return Promise.resolve(new Map());
    });
    assert.deepEqual(asked.sort(), ["a", "b"]);
  } finally {
    await stub.close();
  }
});

Deno.test("fetchOffers: credentials matched by repository path, a refused one falls back to the next", async () => {
  const good = `Basic ${btoa("ci:right")}`;
  const stub = startStub((req) =>
    req.headers.get("authorization") === good
      ? Response.json({ name: "team/app", tags: ["1.3.0"] })
      : new Response(null, { status: 401, headers: { "www-authenticate": 'Basic realm="r"' } })
  );
  const registry = new RegistryClient(PLAIN_LOOPBACK);
  const config = (auths: Record<string, [string, string]>) =>
    parseDockerConfig(JSON.stringify({
      auths: Object.fromEntries(
        Object.entries(auths).map(([k, [u, p]]) => [k, { auth: btoa(`${u}:${p}`) }]),
      ),
    }));
  try {
    const a = workload("a", "minor", [`${stub.host}/team/app:1.2.3`]);
    const b = workload("b", "minor", [`${stub.host}/team/app:1.2.3`]);
    const creds = new Map<string, CredentialMap>([
      // a's secret: a stale password for the host, and a key for another path that must not match.
      ["a", config({ [stub.host]: ["ci", "stale"], [`${stub.host}/other`]: ["x", "y"] })],
      ["b", config({ [`${stub.host}/team`]: ["ci", "right"] })],
    ]);
    const result = await fetchOffers(
      usersByRepository([a, b]),
      registry,
      (w) => Promise.resolve(creds.get(w.name)!),
    );
    assert.deepEqual(result.offers.get(`${stub.host}/team/app`)?.tags, ["1.3.0"]);
    const sent = stub.requests.map((r) => r.headers.get("authorization"));
    assert.ok(!sent.includes(`Basic ${btoa("x:y")}`), "the other path's key is never sent");
    assert.equal(sent.at(-1), good);
    assert.equal(result.listings, 2);
  } finally {
    await stub.close();
  }
});

Deno.test("fetchOffers: one slow repository fails alone on a host that answers the others", async () => {
  const stub = startStub(async (req) => {
    const slow = req.target.startsWith("/v2/proxy/");
    await new Promise((r) => setTimeout(r, slow ? 1_500 : 50));
    return Response.json({ name: "x", tags: ["1.0.0", "1.1.0"] });
  });
  const registry = new RegistryClient({ ...PLAIN_LOOPBACK, timeoutMs: 500 });
  try {
    const workloads = [workload("p", "minor", [`${stub.host}/proxy/app:1.0.0`])];
    for (let i = 0; i < 12; i++) {
      workloads.push(workload(`l${i}`, "minor", [`${stub.host}/local/app${i}:1.0.0`]));
    }
    const result = await fetchOffers(usersByRepository(workloads), registry, NO_CREDENTIALS);
    assert.equal(result.offers.size, 12);
    assert.equal(result.failures.get(stub.host)?.repositories, 1);
    assert.match(String(result.failures.get(stub.host)?.error), /timed out/);
  } finally {
    await stub.close();
  }
});

Deno.test("fetchOffers: when every credential is refused, the refusal is what is reported", async () => {
  const stub = startStub(() =>
    new Response(null, { status: 401, headers: { "www-authenticate": 'Basic realm="r"' } })
  );
  const registry = new RegistryClient(PLAIN_LOOPBACK);
  try {
    const creds = parseDockerConfig(JSON.stringify({
      auths: { [stub.host]: { auth: btoa("ci:wrong") } },
    }));
    const result = await fetchOffers(
      usersByRepository([workload("a", "minor", [`${stub.host}/team/app:1.2.3`])]),
      registry,
      () => Promise.resolve(creds),
    );
    const error = result.failures.get(stub.host)?.error as RegistryError;
    assert.equal(error.status, 401);
    assert.doesNotMatch(error.message, /none given/);
  } finally {
    await stub.close();
  }
});

/**
 * The offers for `host`'s `team/app`, used by `a`, whose namespace holds a secret `ci:right`
 * for the host, and by `without`, whose namespace holds none.
 */
async function listedForTwoNamespaces(host: string, registry: RegistryClient) {
  const withSecret = workload("a", "minor", [`${host}/team/app:1.2.3`]);
  const without = workload("b", "minor", [`${host}/team/app:1.2.3`]);
  const secret = parseDockerConfig(
    JSON.stringify({ auths: { [host]: { auth: btoa("ci:right") } } }),
  );
  const result = await fetchOffers(
    usersByRepository([withSecret, without]),
    registry,
    (w) => Promise.resolve(w === withSecret ? secret : new Map()),
  );
  return { without, result, offer: result.offers.get(`${host}/team/app`) };
}

Deno.test("fetchOffers: a listing read with one namespace's credentials does not serve a namespace without any", async () => {
  const good = `Basic ${btoa("ci:right")}`;
  const stub = startStub((req) =>
    req.headers.get("authorization") === good
      ? Response.json({ name: "team/app", tags: ["1.3.0"] })
      : new Response(null, { status: 401, headers: { "www-authenticate": 'Basic realm="r"' } })
  );
  const registry = new RegistryClient(PLAIN_LOOPBACK);
  try {
    const { without, result, offer } = await listedForTwoNamespaces(stub.host, registry);
    assert.deepEqual(offer?.tags, ["1.3.0"]);
    assert.deepEqual(offer?.withoutAccess, [without]);
    // The anonymous read first (it would have served both), then the secret.
    assert.deepEqual(stub.requests.map((r) => r.headers.get("authorization")), [null, good]);
    assert.equal(result.listings, 2);
  } finally {
    await stub.close();
  }
});

Deno.test("fetchOffers: a public repository read anonymously serves every namespace in one listing", async () => {
  const stub = startStubRegistry();
  const registry = new RegistryClient(PLAIN_LOOPBACK);
  try {
    stub.push("team/app", "1.3.0");
    const { result, offer } = await listedForTwoNamespaces(stub.host, registry);
    assert.deepEqual(offer?.withoutAccess, []);
    assert.equal(result.listings, 1);
    assert.deepEqual(stub.counts(), { listings: 1, heads: 0, total: 1 });
  } finally {
    await stub.close();
  }
});

Deno.test("fetchOffers: a repository hidden from anonymous readers behind a 404 is read with credentials next", async () => {
  // Token auth as distribution and Harbor do it: an anonymous token is granted, and with it the
  // private repository is "unknown"; the secret's token lists it.
  const stub = startStub((req) => {
    if (req.url.pathname === "/token") {
      const ok = req.headers.get("authorization") === `Basic ${btoa("ci:right")}`;
      return Response.json({ token: ok ? "good" : "anonymous" });
    }
    const auth = req.headers.get("authorization");
    if (auth === "Bearer good") return Response.json({ name: "team/app", tags: ["1.3.0"] });
    if (auth === "Bearer anonymous") {
      return Response.json({ errors: [{ code: "NAME_UNKNOWN", message: "unknown" }] }, {
        status: 404,
      });
    }
    return new Response(null, {
      status: 401,
      headers: {
        "www-authenticate":
          `Bearer realm="${req.url.origin}/token",service="stub",scope="repository:team/app:pull"`,
      },
    });
  });
  const registry = new RegistryClient(PLAIN_LOOPBACK);
  try {
    const { without, result, offer } = await listedForTwoNamespaces(stub.host, registry);
    assert.deepEqual(offer?.tags, ["1.3.0"]);
    assert.deepEqual(offer?.withoutAccess, [without]);
    assert.equal(result.listings, 2);
    // Without any credential, the 404 is the answer: the repository fails.
    const alone = await fetchOffers(usersByRepository([without]), registry, NO_CREDENTIALS);
    assert.equal((alone.failures.get(stub.host)?.error as RegistryError).status, 404);
  } finally {
    await stub.close();
  }
});
