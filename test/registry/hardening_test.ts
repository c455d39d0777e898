/**
 * A hostile registry: realms with other schemes or on other hosts, redirects to other
 * hosts, answers without end, link-local hosts, hosts outside the allow list. Driven through
 * an injected fetch that records every request it is asked to make.
 *
 * @module
 */

import assert from "node:assert/strict";
import { LISTING_LIMITS, MAX_ANSWER_BYTES, RegistryClient } from "../../lib/registry/client.ts";
import { LISTING_TOO_LARGE, RegistryError } from "../../lib/registry/errors.ts";
import { capture } from "../support/capture_log.ts";
import { hostAllowed, isForbiddenAddress } from "../../lib/registry/host_policy.ts";
import { TokenCache } from "../../lib/registry/token_cache.ts";

interface Sent {
  url: string;
  method: string;
  auth: string | null;
  body?: string;
}

/** A client whose fetch answers with `route` and records what was sent. */
function rig(
  route: (url: URL, init: RequestInit) => Response,
  opts: {
    allow?: string[];
    resolve?: (h: string) => Promise<string[]>;
    insecureHosts?: string[];
  } = {},
) {
  const sent: Sent[] = [];
  const fetchStub = (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(String(input));
    sent.push({
      url: url.href,
      method: init.method ?? "GET",
      auth: new Headers(init.headers).get("authorization"),
      body: typeof init.body === "string" ? init.body : undefined,
    });
    assert.equal(init.redirect, "manual", "redirects are followed by hand");
    return Promise.resolve(route(url, init));
  };
  const client = new RegistryClient({ fetch: fetchStub as typeof fetch, ...opts });
  return { client, sent };
}

const refusedWith = (pattern: RegExp) => (err: unknown) => {
  assert.ok(err instanceof RegistryError, String(err));
  assert.match(err.message, pattern);
  assert.equal(err.transient, false);
  return true;
};

const challenge = (realm: string) =>
  new Response(null, {
    status: 401,
    headers: { "www-authenticate": `Bearer realm="${realm}",service="reg"` },
  });
const tags = () => Response.json({ name: "app", tags: ["1.0.0"] });
const cred = { username: "u", password: "p" };

Deno.test("a Bearer realm with a file: or other scheme is never contacted", async () => {
  for (const realm of ["file:///etc/passwd", "ftp://reg.example/t", "data:text/plain,x"]) {
    const { client, sent } = rig((url) =>
      url.pathname === "/v2/app/tags/list" ? challenge(realm) : tags()
    );
    await assert.rejects(client.listTags("reg.example", "app", cred), refusedWith(/realm refused/));
    assert.deepEqual(sent.map((s) => new URL(s.url).protocol), ["https:"], realm);
  }
});

Deno.test("a plain-http realm is refused, but for an insecure registry's own host", async () => {
  // An https registry pointing at an http realm: the Basic credentials would go in clear.
  let { client, sent } = rig((url) =>
    url.host === "reg.example" ? challenge("http://reg.example/token") : tags()
  );
  await assert.rejects(client.listTags("reg.example", "app", cred), refusedWith(/plain http/));
  assert.equal(sent.length, 1);
  // A loopback registry not listed insecure is asked over https, like any other.
  ({ client, sent } = rig(tags));
  await client.listTags("127.0.0.1:5000", "app");
  assert.equal(sent[0].url, "https://127.0.0.1:5000/v2/app/tags/list");
  // A listed one pointing at another host over http.
  const insecureHosts = ["127.0.0.1:5000"];
  ({ client, sent } = rig(
    (url) =>
      url.host === "127.0.0.1:5000" && url.pathname.startsWith("/v2/")
        ? challenge("http://other.example/token")
        : tags(),
    { insecureHosts },
  ));
  await assert.rejects(client.listTags("127.0.0.1:5000", "app", cred), refusedWith(/plain http/));
  assert.deepEqual(sent.map((s) => new URL(s.url).host), ["127.0.0.1:5000"]);
  // Its own host over http is fine.
  let asked = 0;
  ({ client, sent } = rig((url) => {
    if (url.pathname === "/token") return Response.json({ token: "tk" });
    return asked++ === 0 ? challenge("http://127.0.0.1:5000/token") : tags();
  }, { insecureHosts }));
  assert.deepEqual(await client.listTags("127.0.0.1:5000", "app", cred), ["1.0.0"]);
  assert.equal(sent.at(-1)?.auth, "Bearer tk");
});

Deno.test("a redirect to another host is followed without the credentials", async () => {
  const { client, sent } = rig((url) => {
    if (url.host === "reg.example" && !url.pathname.startsWith("/final")) {
      return new Response(null, {
        status: 307,
        headers: { location: "https://cdn.example/final/tags" },
      });
    }
    return tags();
  });
  // Basic credentials sent up front once the host asked for Basic.
  const basic = rig((url) =>
    url.host === "reg.example" && !url.pathname.startsWith("/final")
      ? new Response(null, { status: 401, headers: { "www-authenticate": 'Basic realm="r"' } })
      : tags()
  );
  await assert.rejects(basic.client.listTags("reg.example", "app", {}), RegistryError);
  assert.deepEqual(await client.listTags("reg.example", "app", cred), ["1.0.0"]);
  assert.equal(sent[1].url, "https://cdn.example/final/tags");
  assert.equal(sent[1].auth, null);
});

Deno.test("the token POST is never re-sent to another host by a redirect", async () => {
  const { client, sent } = rig((url) => {
    if (url.host === "reg.example") return challenge("https://auth.example/token");
    if (url.host === "auth.example") {
      return new Response(null, { status: 307, headers: { location: "https://evil.example/t" } });
    }
    return Response.json({ token: "stolen" });
  });
  await assert.rejects(
    client.listTags("reg.example", "app", { token: "identity-token" }),
    refusedWith(/POST to another origin/),
  );
  assert.ok(!sent.some((s) => s.url.startsWith("https://evil.example")));
  assert.equal(sent.filter((s) => s.body?.includes("identity-token")).length, 1);
});

Deno.test("redirects are followed a bounded number of times", async () => {
  const { client, sent } = rig((url) =>
    new Response(null, { status: 302, headers: { location: `${url.pathname}x` } })
  );
  await assert.rejects(client.listTags("reg.example", "app"), refusedWith(/redirect count/));
  assert.equal(sent.length, 6);
});

Deno.test("an endless tag list is cut at its size cap, not read whole", async () => {
  let pulled = 0;
  const { client } = rig(() => {
    const chunk = new TextEncoder().encode(`"${"t".repeat(1000)}",`);
    const body = new ReadableStream<Uint8Array>({
      start: (c) => c.enqueue(new TextEncoder().encode('{"tags":[')),
      pull: (c) => {
        pulled += chunk.length;
        c.enqueue(chunk);
      },
    });
    return new Response(body, { headers: { "content-type": "application/json" } });
  });
  await assert.rejects(client.listTags("reg.example", "app"), refusedWith(/larger than/));
  assert.ok(pulled < MAX_ANSWER_BYTES.tags + 64 * 1024, `read ${pulled} bytes`);
  // A declared length over the cap is refused before reading.
  const declared = rig(() =>
    new Response("{}", { headers: { "content-length": String(MAX_ANSWER_BYTES.tags + 1) } })
  );
  await assert.rejects(declared.client.listTags("reg.example", "app"), refusedWith(/larger than/));
});

Deno.test("link-local and unspecified hosts are never contacted, named or resolved", async () => {
  for (const host of ["169.254.169.254", "[fe80::1]", "0.0.0.0:5000", "[::]"]) {
    const { client, sent } = rig(tags);
    await assert.rejects(client.listTags(host, "app"), refusedWith(/link-local or unspecified/));
    assert.equal(sent.length, 0, host);
  }
  const { client, sent } = rig(tags, {
    resolve: (h) => Promise.resolve(h === "metadata.example" ? ["169.254.169.254"] : ["10.0.0.8"]),
  });
  await assert.rejects(client.listTags("metadata.example", "app"), refusedWith(/resolves to/));
  assert.deepEqual(await client.listTags("reg.example", "app"), ["1.0.0"]);
  assert.equal(sent.length, 1);
  const table: [string, boolean][] = [
    ["169.254.0.1", true],
    ["0.0.0.0", true],
    ["::", true],
    ["::ffff:169.254.1.1", true],
    ["fe80::1", true],
    ["febf::1", true],
    ["fec0::1", false],
    ["10.0.0.1", false],
    ["127.0.0.1", false],
    ["reg.example", false],
  ];
  for (const [address, want] of table) assert.equal(isForbiddenAddress(address), want, address);
});

Deno.test("IPv6 forms that carry an IPv4 address are judged as that address", async () => {
  const table: [string, boolean][] = [
    // IPv4-mapped, dotted and hex (what URL parsing turns the dotted form into).
    ["::ffff:169.254.169.254", true],
    ["[::ffff:a9fe:a9fe]", true],
    ["0:0:0:0:0:ffff:a9fe:a9fe", true],
    ["::FFFF:A9FE:1", true],
    ["::ffff:0.0.0.0", true],
    ["::ffff:0:0", true],
    // IPv4-compatible.
    ["::169.254.169.254", true],
    ["::a9fe:a9fe", true],
    ["0::0:a9fe:a9fe", true],
    // Carrying an address that is allowed.
    ["::ffff:10.0.0.1", false],
    ["::ffff:a00:1", false],
    ["::10.0.0.1", false],
    ["::1", false],
    // Not IPv4-carrying forms, or not addresses.
    ["2001:db8::a9fe:a9fe", false],
    ["64:ff9b::10.0.0.1", false],
    ["::ffff:1.2.3.400", false],
    ["1:2:3:4:5:6:7:8:9", false],
  ];
  for (const [address, want] of table) assert.equal(isForbiddenAddress(address), want, address);
  // Through the client, as an image or a realm would name them: refused before any request.
  for (const host of ["[::ffff:169.254.169.254]", "[::ffff:a9fe:a9fe]", "[::169.254.169.254]"]) {
    const { client, sent } = rig(tags);
    await assert.rejects(client.listTags(host, "app"), refusedWith(/link-local or unspecified/));
    assert.equal(sent.length, 0, host);
  }
  const { client, sent } = rig((url) =>
    url.pathname === "/v2/app/tags/list" ? challenge("https://[::ffff:169.254.169.254]/t") : tags()
  );
  await assert.rejects(client.listTags("reg.example", "app", cred), refusedWith(/realm refused/));
  assert.equal(sent.length, 1, "the realm is never contacted");
});

/**
 * A client on a registry whose tags list answers `pageTags(page)` on each page, each page
 * linking to the next until `pageTags` says `undefined`; counts the pages asked.
 */
function pagedListing(pageTags: (page: number) => string[] | undefined) {
  const log = capture();
  let pages = 0;
  const client = new RegistryClient({
    logger: log.logger,
    maxPages: 1_000,
    fetch: ((input: string | URL) => {
      const page = Number(new URL(String(input)).searchParams.get("page") ?? 0);
      pages++;
      const next: Record<string, string> = pageTags(page + 1) === undefined ? {} : {
        link: `</v2/app/tags/list?page=${page + 1}>; rel="next"`,
      };
      return Promise.resolve(Response.json({ tags: pageTags(page) }, { headers: next }));
    }) as typeof fetch,
  });
  return { client, log, pages: () => pages };
}

Deno.test("listed tags that break the grammar or pass 128 characters are dropped, counted, logged once", async () => {
  const { client, log } = pagedListing((page) =>
    page === 0
      ? ["1.0.0", "a".repeat(128), "b".repeat(129), "bad tag", ".hidden"]
      : page === 1
      ? ["1.1.0", "c".repeat(4000)]
      : undefined
  );
  const dropped: [string, number][] = [];
  client.onDroppedTags = (host, n) => dropped.push([host, n]);
  assert.deepEqual(await client.listTags("reg.example", "app"), [
    "1.0.0",
    "a".repeat(128),
    "1.1.0",
  ]);
  assert.deepEqual(dropped, [["reg.example", 4]]);
  const lines = log.records().filter((r) => String(r.msg).includes("break the tag grammar"));
  assert.equal(lines.length, 1, "one line per listing");
  assert.equal(lines[0].dropped, 4);
  assert.ok(String(lines[0].first).length <= 64, "the example is cut short");
});

Deno.test("a listing over its bounds across pages is refused, each page read within what is left", async () => {
  // 3.9 MB "tags", one a page: under the page cap, over the listing's bytes after four pages.
  const huge = "x".repeat(3_900_000);
  const bytes = pagedListing(() => [huge]);
  await assert.rejects(bytes.client.listTags("reg.example", "app"), (err) => {
    assert.ok(err instanceof RegistryError);
    assert.equal(err.code, LISTING_TOO_LARGE);
    assert.equal(err.transient, false);
    assert.match(err.message, new RegExp(`over ${LISTING_LIMITS.bytes} bytes`));
    return true;
  });
  assert.equal(bytes.pages(), Math.ceil(LISTING_LIMITS.bytes / 3_900_000));
  // Tags: pages of 30,000 valid tags, over the bound on the fourth.
  const many = pagedListing((page) =>
    page < 10 ? Array.from({ length: 30_000 }, (_, i) => `${page}.${i}`) : undefined
  );
  await assert.rejects(
    many.client.listTags("reg.example", "app"),
    (err) =>
      err instanceof RegistryError && err.code === LISTING_TOO_LARGE &&
      err.message.includes(`over ${LISTING_LIMITS.tags} tags`),
  );
  assert.equal(many.pages(), 4);
  // At the bound exactly, the listing is whole.
  const exact = pagedListing((page) =>
    page < 4 ? Array.from({ length: 25_000 }, (_, i) => `${page}.${i}`) : undefined
  );
  assert.equal((await exact.client.listTags("reg.example", "app")).length, LISTING_LIMITS.tags);
});

Deno.test("with an allow list, only the registries it names are contacted", async () => {
  const { client, sent } = rig(tags, { allow: ["*.example.com", "ghcr.io"] });
  assert.deepEqual(await client.listTags("reg.example.com", "app"), ["1.0.0"]);
  assert.deepEqual(await client.listTags("ghcr.io", "app"), ["1.0.0"]);
  await assert.rejects(client.listTags("evil.io", "app"), refusedWith(/allow list/));
  await assert.rejects(client.listTags("a.b.example.com", "app"), refusedWith(/allow list/));
  assert.equal(sent.length, 2);
  assert.equal(hostAllowed("reg.example.com:5000", ["reg.example.com"]), true);
  assert.equal(hostAllowed("reg.example.com:5000", ["reg.example.com:443"]), false);
});

Deno.test("the token cache is bounded in size and age", () => {
  const cache = new TokenCache(3, 1_000);
  for (let i = 0; i < 5; i++) cache.set(`k${i}`, { token: `t${i}`, useUntil: 1e12 }, 0);
  assert.equal(cache.size, 3);
  assert.equal(cache.get("k0", 0), undefined);
  assert.equal(cache.get("k4", 999), "t4");
  assert.equal(cache.get("k4", 1_000), undefined, "no token outlives maxAgeMs");
});

Deno.test("a one-page listing identical to the last is the same tags, not parsed again; any change is read", async () => {
  let listed: string[] = ["1.0.0", "1.1.0"];
  const { client, pages } = pagedListing((page) => page === 0 ? listed : undefined);
  const first = await client.listTags("reg.example", "app");
  const again = await client.listTags("reg.example", "app");
  assert.equal(again, first, "the same bytes: the same array, so the poll sees no change");
  assert.equal(pages(), 2, "still asked each time");
  // Another credential is another listing.
  const cred = { username: "u", password: "p" };
  assert.notEqual(await client.listTags("reg.example", "app", cred), first);
  listed = ["1.0.0", "1.1.0", "1.2.0"];
  assert.deepEqual(await client.listTags("reg.example", "app"), ["1.0.0", "1.1.0", "1.2.0"]);
  // A listing with dropped tags is read (counted, logged) each time.
  listed = ["1.0.0", "bad tag"];
  const dropped: number[] = [];
  client.onDroppedTags = (_, n) => dropped.push(n);
  for (let i = 0; i < 2; i++) {
    assert.deepEqual(await client.listTags("reg.example", "app"), ["1.0.0"]);
  }
  assert.deepEqual(dropped, [1, 1]);
});
