/**
 * Defaults that follow the environment Argoos runs in: `:port` listens dual-stack as Go's did,
 * the Lease lives in the pod's namespace, and the original Argoos' `-skip-ssl-verification`
 * is refused with a pointer to `--ca-file` instead of being ignored.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type ReadFile, readInvocation, UsageError } from "../../cli/config.ts";
import { SERVICE_ACCOUNT_DIR } from "../../lib/kube/connection.ts";

/** The environment `vars`, serving without a token (not what these tests are about). */
const envOf = (vars: Record<string, string>) => (name: string): string | undefined =>
  name in vars ? vars[name] : name === "INSECURE_NO_TOKEN" ? "true" : undefined;
const noFiles: ReadFile = (path) => Promise.reject(new Deno.errors.NotFound(path));

Deno.test(":port listens on every IPv4 and IPv6 address, like Go's :port", async () => {
  const { config } = await readInvocation(["--listen", ":0"], envOf({}), noFiles);
  assert.deepEqual(config.listen, { hostname: "::", port: 0 });
  const server = Deno.serve({ ...config.listen, onListen() {} }, () => new Response("ok"));
  try {
    for (const host of ["127.0.0.1", "[::1]"]) {
      const res = await fetch(`http://${host}:${server.addr.port}/`);
      assert.equal(await res.text(), "ok", host);
    }
  } finally {
    await server.shutdown();
  }
});

Deno.test("the Lease namespace: flag, POD_NAMESPACE, the service account's, then default", async () => {
  const inPod: ReadFile = (path) =>
    path === `${SERVICE_ACCOUNT_DIR}/namespace`
      ? Promise.resolve("argoos\n")
      : Promise.reject(new Deno.errors.NotFound(path));
  const leaseNamespace = async (argv: string[], env: Record<string, string>, readFile: ReadFile) =>
    (await readInvocation(argv, envOf(env), readFile)).config.leader.namespace;
  assert.equal(await leaseNamespace(["--lease-namespace", "ops"], {}, inPod), "ops");
  assert.equal(await leaseNamespace([], { POD_NAMESPACE: "mine" }, inPod), "mine");
  assert.equal(await leaseNamespace([], {}, inPod), "argoos");
  assert.equal(await leaseNamespace([], {}, noFiles), "default");
  assert.equal(await leaseNamespace([], {}, () => Promise.resolve(" \n")), "default");
});

Deno.test("-skip-ssl-verification is refused with a pointer to --ca-file", async () => {
  for (const argv of [["-skip-ssl-verification"], ["--skip-ssl-verification=true"]]) {
    await assert.rejects(
      readInvocation(["serve", ...argv], envOf({}), noFiles),
      (err: Error) =>
        err instanceof UsageError && /skip-ssl-verification is gone: .*--ca-file/.test(err.message),
      argv.join(" "),
    );
  }
});

Deno.test("SKIP_SSL_VERIFICATION is refused when true, ignored otherwise", async () => {
  for (const value of ["1", "true", "TRUE"]) {
    await assert.rejects(
      readInvocation([], envOf({ SKIP_SSL_VERIFICATION: value }), noFiles),
      (err: Error) => err instanceof UsageError && /CA_FILE/.test(err.message),
      value,
    );
  }
  for (const value of ["", "0", "false"]) {
    await readInvocation([], envOf({ SKIP_SSL_VERIFICATION: value }), noFiles);
  }
});
