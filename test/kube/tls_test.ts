import assert from "node:assert/strict";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { KubeClient } from "../../lib/kube/client.ts";
import { resolveConnection } from "../../lib/kube/connection.ts";
import { KubeApiError } from "../../lib/kube/errors.ts";
import { DEPLOYMENTS } from "../../lib/kube/resource.ts";
import { makeCerts, serveHttps, type TestCerts } from "./test_certs.ts";

const noEnv = () => undefined;

/** A kubeconfig file in the certs dir for one cluster and user. */
async function kubeconfig(certs: TestCerts, server: string, user: string): Promise<string> {
  const path = `${certs.dir}/config`;
  await Deno.writeTextFile(
    path,
    `
clusters: [{ name: c, cluster: { server: "${server}", certificate-authority: ca.crt } }]
users: [{ name: u, user: ${user} }]
contexts: [{ name: tls, context: { cluster: c, user: u } }]
current-context: tls
`,
  );
  return path;
}

/** An HTTPS server (node:https) that demands a client certificate signed by the CA. */
async function mtlsServer(certs: TestCerts) {
  const server = createServer({
    key: certs.serverKey,
    cert: certs.serverCert,
    ca: certs.ca,
    requestCert: true,
    rejectUnauthorized: true,
  }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ metadata: { name: peer.subject?.CN } }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

Deno.test("TLS: the kubeconfig CA is trusted, a wrong CA is refused", async () => {
  const certs = await makeCerts();
  const server = serveHttps(
    certs,
    (req) => Response.json({ metadata: { name: req.headers.get("authorization") } }),
  );
  try {
    const url = `https://127.0.0.1:${server.addr.port}`;
    const kubeconfigPath = await kubeconfig(certs, url, "{ token: tls-token }");
    const conn = await resolveConnection({ kubeconfig: kubeconfigPath, env: noEnv });
    try {
      const got = await new KubeClient(conn).get<{ metadata: { name: string } }>(
        DEPLOYMENTS,
        "a",
        "b",
      );
      assert.equal(got.metadata.name, "Bearer tls-token");
    } finally {
      conn.close();
    }

    await Deno.writeTextFile(`${certs.dir}/wrong-ca.crt`, certs.otherCa);
    const wrong = await resolveConnection({
      kubeconfig: kubeconfigPath,
      caFile: `${certs.dir}/wrong-ca.crt`,
      env: noEnv,
    });
    try {
      const err = await new KubeClient(wrong).get(DEPLOYMENTS, "a", "b").catch((e) => e);
      assert.ok(err instanceof KubeApiError, String(err));
      assert.equal(err.reason, "NetworkError");
    } finally {
      wrong.close();
    }
  } finally {
    await server.shutdown();
    await certs.remove();
  }
});

Deno.test("TLS: client certificate from kubeconfig files is presented (mTLS)", async () => {
  const certs = await makeCerts();
  const server = await mtlsServer(certs);
  try {
    const path = await kubeconfig(
      certs,
      server.url,
      "{ client-certificate: argoos-client.crt, client-key: argoos-client.key }",
    );
    const conn = await resolveConnection({ kubeconfig: path, env: noEnv });
    try {
      const got = await new KubeClient(conn).get<{ metadata: { name: string } }>(
        DEPLOYMENTS,
        "a",
        "b",
      );
      assert.equal(got.metadata.name, "argoos-client");
    } finally {
      conn.close();
    }

    const anonymous = await resolveConnection({
      kubeconfig: await kubeconfig(certs, server.url, "{}"),
      env: noEnv,
    });
    try {
      await assert.rejects(new KubeClient(anonymous).get(DEPLOYMENTS, "a", "b"), KubeApiError);
    } finally {
      anonymous.close();
    }
  } finally {
    await server.close();
    await certs.remove();
  }
});

Deno.test("TLS: CERT_FILE/KEY_FILE overrides and exec client certificates are presented", async () => {
  const certs = await makeCerts();
  const server = await mtlsServer(certs);
  try {
    const flags = await resolveConnection({
      kubeconfig: await kubeconfig(certs, server.url, "{}"),
      certFile: certs.clientCertFile,
      keyFile: certs.clientKeyFile,
      env: noEnv,
    });
    try {
      const got = await new KubeClient(flags).get<{ metadata: { name: string } }>(
        DEPLOYMENTS,
        "a",
        "b",
      );
      assert.equal(got.metadata.name, "argoos-client");
    } finally {
      flags.close();
    }

    const status = {
      clientCertificateData: certs.clientCert,
      clientKeyData: certs.clientKey,
    };
    await Deno.writeTextFile(
      `${certs.dir}/cred.json`,
      JSON.stringify({
        apiVersion: "client.authentication.k8s.io/v1",
        kind: "ExecCredential",
        status,
      }),
    );
    const exec = await resolveConnection({
      kubeconfig: await kubeconfig(
        certs,
        server.url,
        `{ exec: { apiVersion: client.authentication.k8s.io/v1, command: cat, args: ["${certs.dir}/cred.json"], interactiveMode: Never } }`,
      ),
      env: noEnv,
    });
    try {
      const got = await new KubeClient(exec).get<{ metadata: { name: string } }>(
        DEPLOYMENTS,
        "a",
        "b",
      );
      assert.equal(got.metadata.name, "argoos-client");
    } finally {
      exec.close();
    }
  } finally {
    await server.close();
    await certs.remove();
  }
});
