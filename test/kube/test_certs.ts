/**
 * Throwaway PKI for the TLS tests: a CA, a server certificate for 127.0.0.1 and a client
 * certificate, made with the `openssl` CLI in a temp dir.
 *
 * @module
 */

/** PEM files written by {@linkcode makeCerts}, plus their text. */
export interface TestCerts {
  dir: string;
  caFile: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCertFile: string;
  clientKeyFile: string;
  clientCert: string;
  clientKey: string;
  /** A second CA that signed nothing here, to prove verification really happens. */
  otherCa: string;
  /** Removes the temp dir. */
  remove(): Promise<void>;
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd: dir, stdout: "null", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

async function ca(dir: string, name: string): Promise<void> {
  await openssl(
    dir,
    "genpkey",
    "-algorithm",
    "EC",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-out",
    `${name}.key`,
  );
  await openssl(
    dir,
    "req",
    "-x509",
    "-new",
    "-key",
    `${name}.key`,
    "-out",
    `${name}.crt`,
    "-days",
    "1",
    "-subj",
    `/CN=${name}`,
  );
}

async function leaf(dir: string, name: string, ext: string): Promise<void> {
  await Deno.writeTextFile(`${dir}/${name}.ext`, ext);
  await openssl(
    dir,
    "genpkey",
    "-algorithm",
    "EC",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-out",
    `${name}.key`,
  );
  await openssl(
    dir,
    "req",
    "-new",
    "-key",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    `/CN=${name}`,
  );
  await openssl(
    dir,
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    `${name}.crt`,
    "-days",
    "1",
    "-extfile",
    `${name}.ext`,
  );
}

/**
 * Generates the certificates; call `remove()` when done.
 *
 * @example
 * ```ts
 * import { makeCerts } from "./test_certs.ts";
 * const certs = await makeCerts();
 * try {
 *   Deno.createHttpClient({ caCerts: [certs.ca] }).close();
 * } finally {
 *   await certs.remove();
 * }
 * ```
 */
export async function makeCerts(): Promise<TestCerts> {
  const dir = await Deno.makeTempDir();
  await ca(dir, "ca");
  await ca(dir, "other-ca");
  await leaf(
    dir,
    "server",
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
  );
  await leaf(dir, "argoos-client", "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n");
  const read = (f: string) => Deno.readTextFile(`${dir}/${f}`);
  return {
    dir,
    caFile: `${dir}/ca.crt`,
    ca: await read("ca.crt"),
    serverCert: await read("server.crt"),
    serverKey: await read("server.key"),
    clientCertFile: `${dir}/argoos-client.crt`,
    clientKeyFile: `${dir}/argoos-client.key`,
    clientCert: await read("argoos-client.crt"),
    clientKey: await read("argoos-client.key"),
    otherCa: await read("other-ca.crt"),
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}

/**
 * An HTTPS server on loopback with the server certificate the CA signed; stop it with
 * `shutdown()`.
 *
 * @example
 * ```ts
 * import { makeCerts, serveHttps } from "./test_certs.ts";
 * const certs = await makeCerts();
 * const server = serveHttps(certs, () => new Response("ok"));
 * await server.shutdown();
 * await certs.remove();
 * ```
 */
export function serveHttps(
  certs: TestCerts,
  handler: (req: Request) => Response | Promise<Response>,
): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: certs.serverCert,
    key: certs.serverKey,
    onListen() {},
  }, handler);
}
