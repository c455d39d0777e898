import { MANIFEST_MEDIA_TYPES } from "../../lib/image/media_types.ts";
import assert from "node:assert/strict";
import { Logger } from "../../lib/log/logger.ts";
import { RegistryClient, type RegistryRequestStats } from "../../lib/registry/client.ts";
import { credentialFor, parseDockerConfig } from "../../lib/registry/credentials.ts";
import { RegistryError } from "../../lib/registry/errors.ts";
import { closedPort, type SeenRequest, startStub, type Stub } from "./stub_registry.ts";
import { PLAIN_LOOPBACK } from "../support/loopback.ts";
import { makeCerts, serveHttps } from "../kube/test_certs.ts";

const DIGEST = "sha256:515067bec0af45ec93a68e8e9bf89fb2dd608a89e7a1537710e833245f4e13c4";

/** A registry that wants `Bearer <current token>` and hands tokens out at /token. */
function bearerRegistry(
  opts: { expiresIn?: number; scope?: string; tokenStatus?: number } = {},
) {
  const state = { issued: 0, current: "" };
  const stub: Stub = startStub((req) => {
    if (req.url.pathname === "/token") {
      if (opts.tokenStatus) return new Response("denied", { status: opts.tokenStatus });
      state.current = `tok${++state.issued}`;
      return Response.json({ token: state.current, expires_in: opts.expiresIn ?? 300 });
    }
    if (req.headers.get("authorization") !== `Bearer ${state.current}` || !state.current) {
      const scope = opts.scope ?? "repository:team/app:pull";
      return Response.json(
        { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] },
        {
          status: 401,
          headers: {
            "WWW-Authenticate":
              `Bearer realm="${stub.origin}/token",service="stub-registry",scope="${scope}"`,
          },
        },
      );
    }
    if (req.method === "HEAD") {
      return new Response(null, { headers: { "Docker-Content-Digest": DIGEST } });
    }
    return Response.json({ name: "team/app", tags: ["1.0.0", "1.1.0"] });
  });
  const tokenRequests = () => stub.requests.filter((r) => r.url.pathname === "/token");
  return { stub, state, tokenRequests };
}

/** A registry protected by Basic auth testuser/testpass, like the captured distribution. */
function basicRegistry() {
  return startStub((req) => {
    if (req.headers.get("authorization") !== `Basic ${btoa("testuser:testpass")}`) {
      return Response.json(
        { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] },
        { status: 401, headers: { "WWW-Authenticate": 'Basic realm="regcap-realm"' } },
      );
    }
    return Response.json({ name: "myapp", tags: ["1.2.3"] });
  });
}

async function rejection(p: Promise<unknown>): Promise<RegistryError> {
  const err = await p.then(() => undefined, (e) => e);
  assert.ok(err instanceof RegistryError, `expected a RegistryError, got ${err}`);
  return err;
}

Deno.test("bearer: anonymous token dance with the realm on the same stub", async () => {
  const { stub, tokenRequests } = bearerRegistry();
  const client = new RegistryClient(PLAIN_LOOPBACK);
  try {
    assert.deepEqual(await client.listTags(stub.host, "team/app"), ["1.0.0", "1.1.0"]);
    const [token] = tokenRequests();
    assert.equal(token.method, "GET");
    assert.equal(token.url.searchParams.get("service"), "stub-registry");
    assert.deepEqual(token.url.searchParams.getAll("scope"), ["repository:team/app:pull"]);
    assert.equal(token.headers.get("authorization"), null);
    assert.deepEqual(stub.requests.map((r) => r.url.pathname), [
      "/v2/team/app/tags/list",
      "/token",
      "/v2/team/app/tags/list",
    ]);
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("bearer: token cached and sent up front on later calls", async () => {
  const { stub, tokenRequests } = bearerRegistry();
  const client = new RegistryClient(PLAIN_LOOPBACK);
  try {
    await client.listTags(stub.host, "team/app");
    await client.listTags(stub.host, "team/app");
    assert.equal(await client.headDigest(stub.host, "team/app", "1.0.0"), DIGEST);
    assert.equal(tokenRequests().length, 1);
    assert.equal(stub.requests.length, 5, "one 401, one token, three answered requests");
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("bearer: expired token (injected clock) is not reused", async () => {
  const { stub, tokenRequests } = bearerRegistry({ expiresIn: 60 });
  let now = Date.UTC(2026, 10, 25);
  const client = new RegistryClient({ ...PLAIN_LOOPBACK, now: () => now });
  try {
    await client.listTags(stub.host, "team/app");
    now += 49_000;
    await client.listTags(stub.host, "team/app");
    assert.equal(tokenRequests().length, 1, "still within lifetime minus margin");
    now += 2_000;
    await client.listTags(stub.host, "team/app");
    assert.equal(tokenRequests().length, 2);
    const last = stub.requests.at(-3)!;
    assert.equal(last.headers.get("authorization"), null, "expired token was not sent");
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("bearer: a cached token the registry rejects is dropped and fetched once more", async () => {
  const { stub, state, tokenRequests } = bearerRegistry();
  const client = new RegistryClient(PLAIN_LOOPBACK);
  try {
    await client.listTags(stub.host, "team/app");
    state.current = "revoked-by-server";
    assert.deepEqual(await client.listTags(stub.host, "team/app"), ["1.0.0", "1.1.0"]);
    assert.equal(tokenRequests().length, 2);
    assert.equal(stub.requests.at(-1)!.headers.get("authorization"), "Bearer tok2");
  } finally {
    client.close();
    await stub.close();
  }
});

/** A registry whose token endpoint always issues the same string, refused `refusals` times. */
function sameTokenRegistry(refusals: number) {
  const state = { refusals };
  const stub: Stub = startStub((req) => {
    if (req.url.pathname === "/token") return Response.json({ token: "static", expires_in: 300 });
    if (req.headers.get("authorization") === "Bearer static" && state.refusals-- <= 0) {
      return Response.json({ name: "team/app", tags: ["1.0.0"] });
    }
    return new Response(null, {
      status: 401,
      headers: { "WWW-Authenticate": `Bearer realm="${stub.origin}/token",service="s"` },
    });
  });
  const count = () => ({
    token: stub.requests.filter((r) => r.url.pathname === "/token").length,
    registry: stub.requests.filter((r) => r.url.pathname !== "/token").length,
  });
  return { stub, state, count };
}

Deno.test("bearer: a refused token re-issued as the same string is retried once", async () => {
  const { stub, state, count } = sameTokenRegistry(0);
  const client = new RegistryClient(PLAIN_LOOPBACK);
  try {
    await client.listTags(stub.host, "team/app");
    state.refusals = 1; // e.g. a registry replica that has not seen the token yet
    assert.deepEqual(await client.listTags(stub.host, "team/app"), ["1.0.0"]);
    assert.deepEqual(count(), { token: 2, registry: 4 });
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("bearer: a same-string token refused again is UNAUTHORIZED, without looping", async () => {
  const { stub, state, count } = sameTokenRegistry(0);
  const client = new RegistryClient(PLAIN_LOOPBACK);
  try {
    await client.listTags(stub.host, "team/app");
    state.refusals = Infinity;
    const err = await rejection(client.listTags(stub.host, "team/app"));
    assert.equal(err.code, "UNAUTHORIZED");
    assert.equal(err.transient, false);
    // First call: 401, token, 200. Second: cached token 401, one refetch, one retry 401.
    assert.deepEqual(count(), { token: 2, registry: 4 });
    // The refused token is not kept: the next call starts without it.
    await rejection(client.listTags(stub.host, "team/app"));
    assert.equal(stub.requests.at(-3)!.headers.get("authorization"), null);
    assert.deepEqual(count(), { token: 3, registry: 6 });
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("bearer: scopes the challenge insists on are requested too", async () => {
  const { stub, tokenRequests } = bearerRegistry({
    scope: "repository:team/app:pull,push repository:team/base:pull",
  });
  const client = new RegistryClient(PLAIN_LOOPBACK);
  try {
    await client.listTags(stub.host, "team/app");
    assert.deepEqual(tokenRequests()[0].url.searchParams.getAll("scope"), [
      "repository:team/app:pull",
      "repository:team/app:pull,push",
      "repository:team/base:pull",
    ]);
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("bearer: basic credentials go to the token endpoint", async () => {
  const { stub, tokenRequests } = bearerRegistry();
  const client = new RegistryClient(PLAIN_LOOPBACK);
  try {
    await client.listTags(stub.host, "team/app", { username: "u", password: "p" });
    assert.equal(tokenRequests()[0].headers.get("authorization"), `Basic ${btoa("u:p")}`);
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("bearer: identity token from docker config uses the OAuth2 refresh-token POST", async () => {
  const { stub, tokenRequests } = bearerRegistry();
  const creds = parseDockerConfig(JSON.stringify({
    auths: { [`https://${stub.host}/v1/`]: { auth: btoa("<token>:"), identitytoken: "idt" } },
  }));
  const client = new RegistryClient(PLAIN_LOOPBACK);
  try {
    await client.listTags(stub.host, "team/app", credentialFor(creds, stub.host));
    const [token] = tokenRequests();
    assert.equal(token.method, "POST");
    const form = new URLSearchParams(token.body);
    assert.equal(form.get("grant_type"), "refresh_token");
    assert.equal(form.get("refresh_token"), "idt");
    assert.equal(form.get("service"), "stub-registry");
    assert.equal(form.get("scope"), "repository:team/app:pull");
    assert.equal(form.get("client_id"), "argoos");
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("bearer: token endpoint refusing the credentials is UNAUTHORIZED, not transient", async () => {
  const { stub } = bearerRegistry({ tokenStatus: 401 });
  const client = new RegistryClient(PLAIN_LOOPBACK);
  try {
    const err = await rejection(client.listTags(stub.host, "team/app", { username: "u" }));
    assert.equal(err.code, "UNAUTHORIZED");
    assert.equal(err.status, 401);
    assert.equal(err.transient, false);
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("basic: credentials from parseDockerConfig, then sent up front", async () => {
  const stub = basicRegistry();
  const creds = parseDockerConfig(JSON.stringify({
    auths: { [`http://${stub.host}`]: { auth: btoa("testuser:testpass") } },
  }));
  const client = new RegistryClient(PLAIN_LOOPBACK);
  try {
    const cred = credentialFor(creds, stub.host);
    assert.deepEqual(await client.listTags(stub.host, "myapp", cred), ["1.2.3"]);
    assert.deepEqual(await client.listTags(stub.host, "myapp", cred), ["1.2.3"]);
    assert.deepEqual(stub.requests.map((r) => r.headers.get("authorization") !== null), [
      false,
      true,
      true,
    ]);
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("basic: wrong or missing credentials are UNAUTHORIZED, not transient", async () => {
  const stub = basicRegistry();
  const client = new RegistryClient(PLAIN_LOOPBACK);
  try {
    const wrong = await rejection(
      client.listTags(stub.host, "myapp", { username: "testuser", password: "wrong" }),
    );
    assert.equal(wrong.code, "UNAUTHORIZED");
    assert.equal(wrong.status, 401);
    assert.equal(wrong.transient, false);
    const again = stub.requests.length;
    await rejection(client.listTags(stub.host, "myapp", { username: "testuser", password: "x" }));
    assert.equal(stub.requests.length - again, 1, "known-refused Basic is not retried");
    const none = await rejection(client.listTags(stub.host, "myapp"));
    assert.equal(none.code, "UNAUTHORIZED");
    assert.equal(none.transient, false);
  } finally {
    client.close();
    await stub.close();
  }
});

/** Tags a..e in pages of two; page 2 links with an absolute URL. */
function pagedTags(stub: () => Stub) {
  return (req: SeenRequest) => {
    const pages: Record<string, [string[], string | undefined]> = {
      "": [["b", "a"], '</v2/x/tags/list?last=b&n=2>; rel="next"'],
      b: [["d", "c"], `<${stub().origin}/v2/x/tags/list?last=d&n=2>; rel="next"`],
      d: [["e"], undefined],
    };
    const [tags, link] = pages[req.url.searchParams.get("last") ?? ""];
    return Response.json({ name: "x", tags }, { headers: link ? { Link: link } : {} });
  };
}

Deno.test("pagination: relative and absolute Link rel=next are followed", async () => {
  const stub: Stub = startStub(pagedTags(() => stub));
  const client = new RegistryClient(PLAIN_LOOPBACK);
  try {
    assert.deepEqual(await client.listTags(stub.host, "x"), ["b", "a", "d", "c", "e"]);
    assert.deepEqual(stub.requests.map((r) => r.target), [
      "/v2/x/tags/list",
      "/v2/x/tags/list?last=b&n=2",
      "/v2/x/tags/list?last=d&n=2",
    ]);
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("pagination: stops at maxPages with a warning", async () => {
  let page = 0;
  const stub = startStub(() => {
    page++;
    return Response.json({ name: "x", tags: [`t${page}`] }, {
      headers: { Link: `</v2/x/tags/list?last=t${page}>; rel="next"` },
    });
  });
  const lines: string[] = [];
  const client = new RegistryClient({
    ...PLAIN_LOOPBACK,
    maxPages: 3,
    logger: new Logger({ sink: (l) => lines.push(l) }),
  });
  try {
    assert.deepEqual(await client.listTags(stub.host, "x"), ["t1", "t2", "t3"]);
    assert.equal(stub.requests.length, 3);
    assert.match(lines.join("\n"), /truncated at page limit/);
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("pagination: a Link rel=next back to the same page stops with a warning", async () => {
  const stub = startStub((req) =>
    Response.json({ name: "team/app", tags: ["1.0.0"] }, {
      headers: { Link: `<${req.target}>; rel="next"` },
    })
  );
  const lines: string[] = [];
  const client = new RegistryClient({
    ...PLAIN_LOOPBACK,
    logger: new Logger({ sink: (l) => lines.push(l) }),
  });
  try {
    assert.deepEqual(await client.listTags(stub.host, "team/app"), ["1.0.0"]);
    assert.equal(stub.requests.length, 1);
    assert.match(lines.join("\n"), /links back to a fetched page/);
    assert.doesNotMatch(lines.join("\n"), /truncated at page limit/);
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("pagination: a cycle through earlier pages (relative and absolute) stops", async () => {
  const stub: Stub = startStub((req) => {
    const links: Record<string, string> = {
      "": '</v2/x/tags/list?last=a>; rel="next"',
      a: `<${stub.origin}/v2/x/tags/list?last=b>; rel="next"`,
      b: '</v2/x/tags/list?last=a>; rel="next"',
    };
    const last = req.url.searchParams.get("last") ?? "";
    return Response.json({ name: "x", tags: [`after-${last}`] }, {
      headers: { Link: links[last] },
    });
  });
  const lines: string[] = [];
  const client = new RegistryClient({
    ...PLAIN_LOOPBACK,
    logger: new Logger({ sink: (l) => lines.push(l) }),
  });
  try {
    assert.deepEqual(await client.listTags(stub.host, "x"), ["after-", "after-a", "after-b"]);
    assert.deepEqual(stub.requests.map((r) => r.target), [
      "/v2/x/tags/list",
      "/v2/x/tags/list?last=a",
      "/v2/x/tags/list?last=b",
    ]);
    assert.match(lines.join("\n"), /links back to a fetched page/);
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("pagination: a link to another origin is refused", async () => {
  const stub = startStub(() =>
    Response.json({ name: "x", tags: ["a"] }, {
      headers: { Link: '<https://elsewhere.example/v2/x/tags/list?last=a>; rel="next"' },
    })
  );
  const client = new RegistryClient(PLAIN_LOOPBACK);
  try {
    const err = await rejection(client.listTags(stub.host, "x"));
    assert.match(err.message, /another origin/);
    assert.equal(err.transient, false);
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("tags: null tags is empty, malformed body is an error", async () => {
  let body = '{"name":"x","tags":null}';
  const stub = startStub(() => new Response(body));
  const client = new RegistryClient(PLAIN_LOOPBACK);
  try {
    assert.deepEqual(await client.listTags(stub.host, "x"), []);
    body = "<html>";
    assert.match((await rejection(client.listTags(stub.host, "x"))).message, /malformed/);
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("429 with Retry-After backs off only that host", async () => {
  const limited = startStub(() =>
    Response.json({ errors: [{ code: "TOOMANYREQUESTS", message: "slow down" }] }, {
      status: 429,
      headers: { "Retry-After": "30" },
    })
  );
  const healthy = startStub(() => Response.json({ name: "x", tags: ["1"] }));
  let now = 1_000_000;
  const client = new RegistryClient({ ...PLAIN_LOOPBACK, now: () => now });
  try {
    const first = await rejection(client.listTags(limited.host, "x"));
    assert.equal(first.status, 429);
    assert.equal(first.code, "TOOMANYREQUESTS");
    assert.equal(first.retryAfterMs, 30_000);
    assert.equal(first.transient, true);

    now += 10_000;
    const fast = await rejection(client.headDigest(limited.host, "x", "1"));
    assert.equal(fast.transient, true);
    assert.equal(fast.retryAfterMs, 20_000);
    assert.equal(fast.status, undefined);
    assert.equal(limited.requests.length, 1, "no request sent while backing off");

    assert.deepEqual(await client.listTags(healthy.host, "x"), ["1"]);

    now += 20_000;
    await rejection(client.listTags(limited.host, "x"));
    assert.equal(limited.requests.length, 2, "asked again once the window passed");
  } finally {
    client.close();
    await limited.close();
    await healthy.close();
  }
});

Deno.test("503 with an HTTP-date Retry-After backs off; 500 is transient without backoff", async () => {
  let status = 503;
  const stub = startStub(() =>
    new Response("down", {
      status,
      headers: { "Retry-After": new Date(Date.UTC(2026, 0, 1, 0, 0, 5)).toUTCString() },
    })
  );
  let now = Date.UTC(2026, 0, 1);
  const client = new RegistryClient({ ...PLAIN_LOOPBACK, now: () => now });
  try {
    const err = await rejection(client.listTags(stub.host, "x"));
    assert.equal(err.status, 503);
    assert.equal(err.retryAfterMs, 5_000);
    assert.equal(err.transient, true);
    now += 5_000;
    status = 500;
    const e500 = await rejection(client.listTags(stub.host, "x"));
    assert.equal(e500.status, 500);
    assert.equal(e500.transient, true);
    assert.equal(e500.retryAfterMs, undefined);
    await rejection(client.listTags(stub.host, "x"));
    assert.equal(stub.requests.length, 3);
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("registry down (connection refused) is transient", async () => {
  const host = `127.0.0.1:${closedPort()}`;
  const stats: RegistryRequestStats[] = [];
  const client = new RegistryClient(PLAIN_LOOPBACK);
  client.onRequest = (s) => stats.push(s);
  try {
    const err = await rejection(client.listTags(host, "x"));
    assert.equal(err.transient, true);
    assert.equal(err.status, undefined);
    assert.equal(err.host, host);
    assert.deepEqual(stats, [{ host, status: "error" }]);
  } finally {
    client.close();
  }
});

Deno.test("timeout is transient", async () => {
  const { promise: released, resolve: release } = Promise.withResolvers<void>();
  const stub = startStub(async () => {
    await released;
    return Response.json({ tags: [] });
  });
  const client = new RegistryClient({ ...PLAIN_LOOPBACK, timeoutMs: 50 });
  try {
    const err = await rejection(client.listTags(stub.host, "x"));
    assert.equal(err.transient, true);
    assert.match(err.message, /timed out after 50 ms/);
  } finally {
    release();
    client.close();
    await stub.close();
  }
});

Deno.test("headDigest: one HEAD accepting all four manifest types", async () => {
  const stub = startStub(() =>
    new Response(null, { headers: { "Docker-Content-Digest": DIGEST } })
  );
  const stats: RegistryRequestStats[] = [];
  const client = new RegistryClient(PLAIN_LOOPBACK);
  client.onRequest = (s) => stats.push(s);
  try {
    assert.equal(await client.headDigest(stub.host, "team/app", "1.2.3"), DIGEST);
    assert.equal(await client.headDigest(stub.host, "team/app", DIGEST), DIGEST);
    const [req, byDigest] = stub.requests;
    assert.equal(req.method, "HEAD");
    assert.equal(req.target, "/v2/team/app/manifests/1.2.3");
    assert.equal(byDigest.target, `/v2/team/app/manifests/${DIGEST}`);
    const accepted = req.headers.get("accept")!.split(",").map((s) => s.trim());
    assert.deepEqual(accepted.toSorted(), [
      "application/vnd.docker.distribution.manifest.list.v2+json",
      "application/vnd.docker.distribution.manifest.v2+json",
      "application/vnd.oci.image.index.v1+json",
      "application/vnd.oci.image.manifest.v1+json",
    ]);
    assert.deepEqual(accepted, [...MANIFEST_MEDIA_TYPES]);
    assert.deepEqual(stats, [{ host: stub.host, status: 200 }, { host: stub.host, status: 200 }]);
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("headDigest: a 200 without a digest header is an error", async () => {
  const stub = startStub(() => new Response(null));
  const client = new RegistryClient(PLAIN_LOOPBACK);
  try {
    const err = await rejection(client.headDigest(stub.host, "x", "1"));
    assert.match(err.message, /Docker-Content-Digest/);
    assert.equal(err.transient, false);
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("invalid names are refused before any request", async () => {
  const client = new RegistryClient({
    ...PLAIN_LOOPBACK,
    fetch: () => Promise.reject(new Error("no request")),
  });
  const cases: [Promise<unknown>, string][] = [
    [client.listTags("r.io", "../etc"), "NAME_INVALID"],
    [client.listTags("r.io", "Upper/Case"), "NAME_INVALID"],
    [client.headDigest("r.io", "x", "bad tag"), "TAG_INVALID"],
    [client.headDigest("r.io", "x", "sha256:"), "DIGEST_INVALID"],
  ];
  for (const [p, code] of cases) {
    const err = await rejection(p);
    assert.equal(err.code, code);
    assert.equal(err.transient, false);
  }
});

Deno.test("concurrency per host is bounded", async () => {
  let active = 0;
  let peak = 0;
  const stub = startStub(async () => {
    peak = Math.max(peak, ++active);
    await new Promise((r) => setTimeout(r, 20));
    active--;
    return new Response(null, { headers: { "Docker-Content-Digest": DIGEST } });
  });
  const client = new RegistryClient({ ...PLAIN_LOOPBACK, concurrencyPerHost: 2 });
  try {
    const tags = ["1", "2", "3", "4", "5", "6"];
    await Promise.all(tags.map((t) => client.headDigest(stub.host, "x", t)));
    assert.equal(peak, 2);
    assert.equal(stub.requests.length, 6);
  } finally {
    client.close();
    await stub.close();
  }
});

Deno.test("base URL: docker.io goes to registry-1.docker.io, other hosts over https", async () => {
  const seen: string[] = [];
  const client = new RegistryClient({
    ...PLAIN_LOOPBACK,
    fetch: (input) => {
      seen.push(String(input));
      return Promise.resolve(new Response(null, { headers: { "Docker-Content-Digest": DIGEST } }));
    },
  });
  await client.headDigest("docker.io", "library/nginx", "latest");
  await client.headDigest("ghcr.io", "org/app", "1.0.0");
  assert.deepEqual(seen, [
    "https://registry-1.docker.io/v2/library/nginx/manifests/latest",
    "https://ghcr.io/v2/org/app/manifests/1.0.0",
  ]);
});

Deno.test("caCert: a registry whose certificate the CA signed is trusted; another CA's is refused", async () => {
  const certs = await makeCerts();
  const server = serveHttps(
    certs,
    () => new Response(null, { headers: { "Docker-Content-Digest": DIGEST } }),
  );
  const host = `127.0.0.1:${server.addr.port}`;
  const trusting = new RegistryClient({ caCert: certs.ca });
  const other = new RegistryClient({ caCert: certs.otherCa });
  try {
    assert.equal(await trusting.headDigest(host, "x", "1"), DIGEST);
    await assert.rejects(
      other.headDigest(host, "x", "1"),
      (err) => err instanceof RegistryError && /certificate/i.test(err.message),
    );
  } finally {
    trusting.close();
    other.close();
    await server.shutdown();
    await certs.remove();
  }
});
