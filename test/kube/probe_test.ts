/**
 * probeApiServer: the start-up `GET /version` and its one-line failures.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Connection } from "../../lib/kube/client.ts";
import { NoClusterError, resolveConnection } from "../../lib/kube/connection.ts";
import { probeApiServer } from "../../lib/kube/probe.ts";
import { startFakeApiServer } from "../fake_apiserver/mod.ts";
import { plainConnection, serveStub } from "./stub_server.ts";

/** Asserts `p` rejects with a one-line NoClusterError matching `want`. */
async function rejectsWith(p: Promise<unknown>, want: RegExp): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.ok(e instanceof NoClusterError, String(e));
    assert.match(e.message, want);
    assert.ok(!e.message.includes("\n"), e.message);
    return true;
  });
}

Deno.test("probe: the fake API server's /version answers, with or without the token", async () => {
  const api = await startFakeApiServer();
  try {
    const withToken = await probeApiServer(plainConnection(api.url, api.token));
    assert.equal(withToken?.major, "1");
    assert.match(withToken?.gitVersion ?? "", /^v1\.\d+\.\d+$/);
    assert.deepEqual(await probeApiServer(plainConnection(api.url)), withToken, "public path");
  } finally {
    await api.stop();
  }
});

Deno.test("probe: a refused connection names the URL and where it came from", async () => {
  const stub = serveStub(() => new Response());
  await stub.close(); // nothing listens there now
  const env = (name: string) => name === "KUBE_MASTER_URL" ? stub.url : undefined;
  const conn = await resolveConnection({ masterUrl: stub.url, env });
  try {
    await rejectsWith(
      probeApiServer(conn),
      new RegExp(
        `^cannot reach the Kubernetes API at ${stub.url} \\(from KUBE_MASTER_URL\\): connection refused$`,
      ),
    );
  } finally {
    conn.close();
  }
});

Deno.test("probe: no answer within the timeout", async () => {
  const { promise: released, resolve: release } = Promise.withResolvers<void>();
  const stub = serveStub(async () => {
    await released;
    return Response.json({});
  });
  try {
    await rejectsWith(
      probeApiServer(plainConnection(stub.url), { timeoutMs: 100 }),
      /^cannot reach the Kubernetes API at .* \(from test stub\): no answer within 0\.1 s$/,
    );
  } finally {
    release();
    await stub.close();
  }
});

Deno.test("probe: a wrong token is refused even on /version", async () => {
  const api = await startFakeApiServer();
  try {
    await rejectsWith(
      probeApiServer(plainConnection(api.url, "wrong")),
      /^the Kubernetes API at .* refused the credentials: 401 Unauthorized: Unauthorized$/,
    );
  } finally {
    await api.stop();
  }
});

Deno.test("probe: credentials that cannot be had, and servers that answer oddly", async () => {
  const stub = serveStub((req) =>
    new URL(req.url).pathname === "/html/version"
      ? new Response("<html>a web server</html>", { headers: { "content-type": "text/html" } })
      : new URL(req.url).pathname === "/forbidden/version"
      ? Response.json({ kind: "Status", code: 403, reason: "Forbidden", message: "no" }, {
        status: 403,
      })
      : new Response("<html>not here</html>", { status: 404 })
  );
  try {
    const failing: Connection = {
      ...plainConnection(stub.url),
      authHeaders: () => Promise.reject(new NoClusterError("unused")),
    };
    // Only credential errors of our own become "cannot get credentials"; others pass through.
    await assert.rejects(probeApiServer(failing), /unused/);
    await rejectsWith(
      probeApiServer(plainConnection(`${stub.url}/forbidden`)),
      /refused the credentials: 403 Forbidden: no$/,
    );
    assert.equal(await probeApiServer(plainConnection(stub.url)), undefined, "404: a server");
    assert.equal(await probeApiServer(plainConnection(`${stub.url}/html`)), undefined, "not JSON");
  } finally {
    await stub.close();
  }
});

Deno.test("probe: an exec plugin that fails is a one-line credentials error", async () => {
  const dir = await Deno.makeTempDir();
  const api = await startFakeApiServer();
  try {
    await Deno.writeTextFile(
      `${dir}/plugin.sh`,
      `#!/bin/sh\necho "SSO session expired" >&2\nexit 1\n`,
    );
    await Deno.chmod(`${dir}/plugin.sh`, 0o755);
    await Deno.writeTextFile(
      `${dir}/config`,
      `clusters: [{ name: c, cluster: { server: "${api.url}" } }]
users: [{ name: u, user: { exec: { command: ./plugin.sh, apiVersion: client.authentication.k8s.io/v1 } } }]
contexts: [{ name: main, context: { cluster: c, user: u } }]
current-context: main
`,
    );
    const conn = await resolveConnection({ kubeconfig: `${dir}/config`, env: () => undefined });
    try {
      await rejectsWith(
        probeApiServer(conn),
        /^cannot get credentials for the Kubernetes API at .* \(from kubeconfig .* context main\): exec plugin .*plugin\.sh: exit code 1: SSO session expired$/,
      );
    } finally {
      conn.close();
    }
  } finally {
    await api.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
