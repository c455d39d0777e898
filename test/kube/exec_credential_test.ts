import assert from "node:assert/strict";
import {
  type ExecConfig,
  ExecCredentialError,
  ExecCredentialProvider,
  parseExecCredential,
} from "../../lib/kube/exec_credential.ts";

const V1 = "client.authentication.k8s.io/v1";
const V1BETA1 = "client.authentication.k8s.io/v1beta1";

/**
 * Writes a plugin script that counts its runs in `dir/runs`, saves KUBERNETES_EXEC_INFO to
 * `dir/info.json` and prints `body` (a shell here-doc, so `$N` is the run number).
 */
async function plugin(dir: string, body: string): Promise<string> {
  const path = `${dir}/plugin.sh`;
  await Deno.writeTextFile(
    path,
    `#!/bin/sh
N=$(( $(cat "${dir}/runs" 2>/dev/null || echo 0) + 1 ))
echo $N > "${dir}/runs"
printf '%s' "$KUBERNETES_EXEC_INFO" > "${dir}/info.json"
cat <<END
${body}
END
`,
  );
  await Deno.chmod(path, 0o755);
  return path;
}

const runs = async (dir: string) => Number((await Deno.readTextFile(`${dir}/runs`)).trim());

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("exec plugin: token cached until expirationTimestamp, then re-run", () =>
  withDir(async (dir) => {
    const command = await plugin(
      dir,
      `{"apiVersion":"${V1}","kind":"ExecCredential","status":{"token":"tok-$N","expirationTimestamp":"2030-01-01T00:\${N}0:00Z"}}`,
    );
    let now = Date.parse("2030-01-01T00:00:00Z");
    const provider = new ExecCredentialProvider({ command, apiVersion: V1 }, { now: () => now });
    const [a, b] = await Promise.all([provider.credential(), provider.credential()]);
    assert.equal(a.token, "tok-1");
    assert.equal(b.token, "tok-1");
    assert.equal((await provider.credential()).token, "tok-1");
    assert.equal(await runs(dir), 1, "concurrent and repeated calls share one run");

    now = Date.parse("2030-01-01T00:10:00Z");
    assert.equal((await provider.credential()).token, "tok-2");
    assert.equal(await runs(dir), 2, "expired credential is fetched again");
    assert.equal((await provider.credential()).token, "tok-2");

    provider.invalidate();
    assert.equal((await provider.credential()).token, "tok-3");

    const info = JSON.parse(await Deno.readTextFile(`${dir}/info.json`));
    assert.deepEqual(info, {
      apiVersion: V1,
      kind: "ExecCredential",
      spec: { interactive: false },
    });
  }));

Deno.test("exec plugin: v1beta1 client certificate, cluster info when asked", () =>
  withDir(async (dir) => {
    const command = await plugin(
      dir,
      `{"apiVersion":"${V1BETA1}","kind":"ExecCredential","status":{"clientCertificateData":"CERT","clientKeyData":"KEY"}}`,
    );
    const provider = new ExecCredentialProvider(
      { command, apiVersion: V1BETA1, provideClusterInfo: true },
      { cluster: { server: "https://k:6443", certificateAuthorityData: "PEM" } },
    );
    assert.deepEqual(await provider.credential(), {
      clientCertificateData: "CERT",
      clientKeyData: "KEY",
    });
    await provider.credential();
    assert.equal(await runs(dir), 1, "no expiry: cached until invalidated");
    const info = JSON.parse(await Deno.readTextFile(`${dir}/info.json`));
    assert.deepEqual(info.spec, {
      interactive: false,
      cluster: { server: "https://k:6443", "certificate-authority-data": btoa("PEM") },
    });
  }));

Deno.test("exec plugin: env from the kubeconfig reaches the command", () =>
  withDir(async (dir) => {
    const command = await plugin(
      dir,
      `{"apiVersion":"${V1}","kind":"ExecCredential","status":{"token":"$MY_TOKEN"}}`,
    );
    const provider = new ExecCredentialProvider({
      command,
      apiVersion: V1,
      env: [{ name: "MY_TOKEN", value: "from-env" }],
    });
    assert.equal((await provider.credential()).token, "from-env");
  }));

Deno.test("exec plugin: failures are clear and not cached", () =>
  withDir(async (dir) => {
    const failing = `${dir}/fail.sh`;
    await Deno.writeTextFile(failing, `#!/bin/sh\necho "no SSO session" >&2\nexit 3\n`);
    await Deno.chmod(failing, 0o755);
    const provider = new ExecCredentialProvider({ command: failing, apiVersion: V1 });
    await assert.rejects(provider.credential(), /exit code 3: no SSO session/);
    await Deno.writeTextFile(
      failing,
      `#!/bin/sh\necho '{"apiVersion":"${V1}","kind":"ExecCredential","status":{"token":"ok"}}'\n`,
    );
    assert.equal((await provider.credential()).token, "ok", "a failed run is retried");

    const missing = new ExecCredentialProvider({
      command: `${dir}/not-installed`,
      apiVersion: V1,
      installHint: "brew install thing",
    });
    await assert.rejects(missing.credential(), (e: Error) => {
      assert.ok(e instanceof ExecCredentialError);
      assert.match(e.message, /cannot run .*\(brew install thing\)/);
      return true;
    });
  }));

Deno.test("exec plugin: refused configurations", () => {
  assert.throws(
    () =>
      new ExecCredentialProvider({
        command: "x",
        apiVersion: "client.authentication.k8s.io/v1alpha1",
      }),
    /unsupported apiVersion/,
  );
  assert.throws(
    () => new ExecCredentialProvider({ command: "x", apiVersion: V1, interactiveMode: "Always" }),
    /interactiveMode Always/,
  );
});

Deno.test("parseExecCredential: table of plugin outputs", () => {
  const cred = (o: Record<string, unknown>) =>
    JSON.stringify({ apiVersion: V1, kind: "ExecCredential", ...o });
  const table: [string, string, RegExp | Record<string, string>][] = [
    ["token", cred({ status: { token: "t" } }), { token: "t" }],
    ["cert and key", cred({ status: { clientCertificateData: "c", clientKeyData: "k" } }), {
      clientCertificateData: "c",
      clientKeyData: "k",
    }],
    ["not JSON", "Please log in", /output is not JSON: Please log in/],
    ["wrong kind", JSON.stringify({ apiVersion: V1, kind: "Secret" }), /kind is "Secret"/],
    [
      "wrong apiVersion",
      JSON.stringify({ apiVersion: V1BETA1, kind: "ExecCredential", status: { token: "t" } }),
      /does not match requested/,
    ],
    ["cert without key", cred({ status: { clientCertificateData: "c" } }), /given together/],
    ["empty status", cred({ status: {} }), /neither token nor client certificate/],
    ["no status", cred({}), /neither token nor client certificate/],
  ];
  for (const [name, out, want] of table) {
    if (want instanceof RegExp) {
      assert.throws(() => parseExecCredential(out, V1, "p"), want, name);
    } else {
      assert.deepEqual(parseExecCredential(out, V1, "p"), want, name);
    }
  }
});

Deno.test("exec plugin: bad expirationTimestamp is an error", () =>
  withDir(async (dir) => {
    const config: ExecConfig = {
      command: await plugin(
        dir,
        `{"apiVersion":"${V1}","kind":"ExecCredential","status":{"token":"t","expirationTimestamp":"soon"}}`,
      ),
      apiVersion: V1,
    };
    await assert.rejects(
      new ExecCredentialProvider(config).credential(),
      /bad expirationTimestamp/,
    );
  }));

Deno.test("exec plugin: a failed re-run after expiry is not cached either", () =>
  withDir(async (dir) => {
    const command = await plugin(
      dir,
      `{"apiVersion":"${V1}","kind":"ExecCredential","status":{"token":"tok-$N","expirationTimestamp":"2030-01-01T00:00:00Z"}}`,
    );
    const good = await Deno.readTextFile(command);
    let now = Date.parse("2029-01-01T00:00:00Z");
    const provider = new ExecCredentialProvider({ command, apiVersion: V1 }, { now: () => now });
    assert.equal((await provider.credential()).token, "tok-1");

    now = Date.parse("2031-01-01T00:00:00Z"); // expired; the plugin now fails once
    await Deno.writeTextFile(command, `#!/bin/sh\necho "token service down" >&2\nexit 1\n`);
    await assert.rejects(provider.credential(), /exit code 1: token service down/);

    await Deno.writeTextFile(command, good);
    now = Date.parse("2029-06-01T00:00:00Z"); // the next credential is valid again
    assert.equal((await provider.credential()).token, "tok-2", "the plugin is run again");
  }));

Deno.test("exec plugin: a CA with non-Latin-1 text reaches the plugin as base64 of UTF-8", () =>
  withDir(async (dir) => {
    const command = await plugin(
      dir,
      `{"apiVersion":"${V1}","kind":"ExecCredential","status":{"token":"t"}}`,
    );
    const ca = "# NetLock Arany (Class Gold) Főtanúsítvány\n-----BEGIN CERTIFICATE-----\n" +
      "MIIB\n-----END CERTIFICATE-----\n";
    const provider = new ExecCredentialProvider(
      { command, apiVersion: V1, provideClusterInfo: true },
      { cluster: { server: "https://k", certificateAuthorityData: ca } },
    );
    assert.equal((await provider.credential()).token, "t");
    const info = JSON.parse(await Deno.readTextFile(`${dir}/info.json`));
    const sent = info.spec.cluster["certificate-authority-data"];
    assert.equal(new TextDecoder().decode(Uint8Array.fromBase64(sent)), ca);
  }));

Deno.test("exec plugin: only PATH, HOME, the kubeconfig's env and KUBERNETES_EXEC_INFO", () =>
  withDir(async (dir) => {
    const command = `${dir}/env.sh`;
    await Deno.writeTextFile(
      command,
      `#!/bin/sh\nenv > "${dir}/env.txt"\n` +
        `echo '{"apiVersion":"${V1}","kind":"ExecCredential","status":{"token":"t"}}'\n`,
    );
    await Deno.chmod(command, 0o755);
    Deno.env.set("ARGOOS_TEST_SECRET", "must-not-leak");
    try {
      const provider = new ExecCredentialProvider({
        command,
        apiVersion: V1,
        env: [{ name: "AWS_PROFILE", value: "prod" }],
      });
      assert.equal((await provider.credential()).token, "t");
    } finally {
      Deno.env.delete("ARGOOS_TEST_SECRET");
    }
    const names = (await Deno.readTextFile(`${dir}/env.txt`)).split("\n")
      .map((l) => l.split("=")[0]).filter((n) => n && n !== "PWD" && n !== "SHLVL" && n !== "_");
    const expected = ["AWS_PROFILE", "KUBERNETES_EXEC_INFO", "PATH"];
    if (Deno.env.get("HOME") !== undefined) expected.push("HOME");
    assert.deepEqual(names.sort(), expected.sort());
  }));

Deno.test("exec plugin: a hung plugin is killed and reported, and the next call runs it again", () =>
  withDir(async (dir) => {
    // The plugin waits on a child of its own, which keeps the output pipes open.
    const command = `${dir}/hung.sh`;
    await Deno.writeTextFile(
      command,
      `#!/bin/sh\nsleep 30 &\necho $! >> "${dir}/child.pid"\nwait\n`,
    );
    await Deno.chmod(command, 0o755);
    const provider = new ExecCredentialProvider({ command, apiVersion: V1 }, { timeoutMs: 300 });
    const started = performance.now();
    try {
      await assert.rejects(
        provider.credential(),
        (err: unknown) =>
          err instanceof ExecCredentialError &&
          /timed out after 300 ?ms/.test(err.message),
      );
      assert.ok(performance.now() - started < 5_000, "not waiting for the plugin's child");
      await assert.rejects(provider.credential(), ExecCredentialError);
    } finally {
      const pids = (await Deno.readTextFile(`${dir}/child.pid`).catch(() => "")).split("\n");
      for (const pid of pids.map(Number).filter((p) => p > 0)) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch { /* already gone */ }
      }
    }
  }));
