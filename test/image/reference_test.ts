import assert from "node:assert/strict";
import {
  formatReference,
  type ImageReference,
  InvalidReferenceError,
  normalizeHost,
  parseReference,
  referenceRepository,
  repositoryKey,
  withTarget,
} from "../../lib/image/reference.ts";

const SHA_A = `sha256:${"a".repeat(64)}`;
const SHA_B = `sha256:${"0123456789abcdef".repeat(4)}`;

const parsed: [name: string, ref: string, want: ImageReference][] = [
  ["bare name", "nginx", { path: "nginx" }],
  ["name and tag", "myapp:1.2.3", { path: "myapp", tag: "1.2.3" }],
  ["two-part path is not a host", "team/app:1.0.0", { path: "team/app", tag: "1.0.0" }],
  ["library path", "library/nginx:1.27", { path: "library/nginx", tag: "1.27" }],
  ["dotted host", "ghcr.io/org/app:v2", { host: "ghcr.io", path: "org/app", tag: "v2" }],
  ["host with port", "reg.example.com:5000/app:1", {
    host: "reg.example.com:5000",
    path: "app",
    tag: "1",
  }],
  ["localhost", "localhost/app:1", { host: "localhost", path: "app", tag: "1" }],
  ["localhost with port", "localhost:5000/team/app:1.0.0", {
    host: "localhost:5000",
    path: "team/app",
    tag: "1.0.0",
  }],
  ["host with port, no tag", "127.0.0.1:5000/myapp", { host: "127.0.0.1:5000", path: "myapp" }],
  ["IPv6 host", "[::1]:5000/app:1", { host: "[::1]:5000", path: "app", tag: "1" }],
  ["deeply nested path", "gcr.io/a/b/c/d:x", { host: "gcr.io", path: "a/b/c/d", tag: "x" }],
  ["path separators", "team/a.b_c__d-e---f:t", { path: "team/a.b_c__d-e---f", tag: "t" }],
  ["dotted first component is a host", "a.b/c", { host: "a.b", path: "c" }],
  ["digest only", `myapp@${SHA_A}`, { path: "myapp", digest: SHA_A }],
  ["tag and digest", `docker.io/library/nginx:1.27@${SHA_B}`, {
    host: "docker.io",
    path: "library/nginx",
    tag: "1.27",
    digest: SHA_B,
  }],
  ["host with port and digest", `localhost:5000/app@${SHA_A}`, {
    host: "localhost:5000",
    path: "app",
    digest: SHA_A,
  }],
  ["uppercase host kept as written", "Registry.Example.COM/app:1", {
    host: "Registry.Example.COM",
    path: "app",
    tag: "1",
  }],
  ["uppercase first component is a host", "MyReg/app", { host: "MyReg", path: "app" }],
  ["tag with upper case, dot, dash, underscore", "app:V1.2_rc-3", {
    path: "app",
    tag: "V1.2_rc-3",
  }],
  ["tag of 128 characters", `app:${"t".repeat(128)}`, { path: "app", tag: "t".repeat(128) }],
  ["other digest algorithm", `app@sha512:${"f".repeat(128)}`, {
    path: "app",
    digest: `sha512:${"f".repeat(128)}`,
  }],
];

for (const [name, ref, want] of parsed) {
  Deno.test(`parseReference: ${name} (${ref.slice(0, 60)})`, () => {
    const got = parseReference(ref);
    assert.deepEqual(got, {
      host: want.host,
      path: want.path,
      tag: want.tag,
      digest: want.digest,
    });
    assert.equal(formatReference(got), ref, "formats back to the written form");
  });
}

const invalid: [name: string, ref: string][] = [
  ["empty", ""],
  ["uppercase path", "MyApp"],
  ["uppercase path after host", "ghcr.io/Org/app"],
  ["empty tag", "app:"],
  ["tag starting with dot", "app:.1"],
  ["tag starting with dash", "app:-1"],
  ["tag of 129 characters", `app:${"t".repeat(129)}`],
  ["tag with slash-free bad char", "app:1+build"],
  ["leading slash", "/app"],
  ["trailing slash", "app/"],
  ["double slash", "a//b"],
  ["path component starting with separator", "team/-app"],
  ["path component ending with separator", "app_"],
  ["three underscores", "a___b"],
  ["two dots", "a..b"],
  ["space", "my app"],
  ["scheme", "https://ghcr.io/app"],
  ["host only", "ghcr.io/"],
  ["bad host label", "-bad.io/app"],
  ["host with underscore", "a.b_c/app"],
  ["host with empty port", "localhost:/app"],
  ["empty digest", "app@"],
  ["digest without algorithm", `app@${"a".repeat(64)}`],
  ["short sha256", "app@sha256:abc"],
  ["upper-case sha256 hex", `app@sha256:${"A".repeat(64)}`],
  ["sha256 of 65 hex", `app@sha256:${"a".repeat(65)}`],
  ["two @", `app@${SHA_A}@${SHA_A}`],
  ["name longer than 255", `${"a".repeat(256)}:1`],
];

for (const [name, ref] of invalid) {
  Deno.test(`parseReference rejects: ${name}`, () => {
    assert.throws(() => parseReference(ref), InvalidReferenceError);
  });
}

Deno.test("InvalidReferenceError names the reference", () => {
  assert.throws(() => parseReference("MyApp:1"), {
    name: "InvalidReferenceError",
    message: /"MyApp:1"/,
  });
});

const hosts: [name: string, host: string | undefined, want: string][] = [
  ["no host is Docker Hub", undefined, "docker.io"],
  ["docker.io", "docker.io", "docker.io"],
  ["index.docker.io", "index.docker.io", "docker.io"],
  ["registry-1.docker.io", "registry-1.docker.io", "docker.io"],
  ["Docker Hub alias in upper case", "Index.Docker.IO", "docker.io"],
  ["lower-cased", "GHCR.io", "ghcr.io"],
  ["port kept", "LocalHost:5000", "localhost:5000"],
  ["localhost without port", "localhost", "localhost"],
  ["Docker Hub with a port is another host", "docker.io:443", "docker.io:443"],
];

for (const [name, host, want] of hosts) {
  Deno.test(`normalizeHost: ${name}`, () => assert.equal(normalizeHost(host), want));
}

const repositories: [name: string, ref: string, want: string][] = [
  ["bare name gains library/", "nginx", "docker.io/library/nginx"],
  ["library/ written", "library/nginx:1", "docker.io/library/nginx"],
  ["docker.io host, one part", "docker.io/nginx", "docker.io/library/nginx"],
  ["index.docker.io, one part", "index.docker.io/nginx", "docker.io/library/nginx"],
  ["registry-1.docker.io, one part", "registry-1.docker.io/nginx", "docker.io/library/nginx"],
  ["Docker Hub user repo", "bitnami/redis:7", "docker.io/bitnami/redis"],
  ["Docker Hub user repo via alias", "index.docker.io/bitnami/redis", "docker.io/bitnami/redis"],
  ["other host keeps one-part path", "ghcr.io/app", "ghcr.io/app"],
  ["localhost:5000 keeps one-part path", "localhost:5000/myapp:1.2.3", "localhost:5000/myapp"],
  ["localhost without port", "localhost/myapp", "localhost/myapp"],
  ["nested path", "localhost:5000/team/app", "localhost:5000/team/app"],
  ["uppercase host folded", "LOCALHOST:5000/team/app", "localhost:5000/team/app"],
  ["digest ignored", `myapp@${SHA_A}`, "docker.io/library/myapp"],
];

for (const [name, ref, want] of repositories) {
  Deno.test(`referenceRepository: ${name}`, () => {
    assert.equal(referenceRepository(parseReference(ref)), want);
  });
}

Deno.test("repositoryKey: hosts compare case-insensitively, ports and paths do not merge", () => {
  assert.equal(repositoryKey("Ghcr.IO", "org/app"), repositoryKey("ghcr.io", "org/app"));
  assert.notEqual(repositoryKey("localhost:5000", "app"), repositoryKey("localhost", "app"));
  assert.notEqual(repositoryKey("ghcr.io", "org/app"), repositoryKey("ghcr.io", "org/app2"));
  assert.equal(repositoryKey(undefined, "nginx"), repositoryKey("docker.io", "library/nginx"));
});

const targets: [
  name: string,
  ref: string,
  tag: string,
  digest: string | undefined,
  want: string,
][] = [
  ["bare name keeps its form", "myapp:1.2.3", "1.2.4", undefined, "myapp:1.2.4"],
  ["no tag gains one", "myapp", "1.0.0", undefined, "myapp:1.0.0"],
  [
    "host and port kept",
    "localhost:5000/team/app:1.0.0",
    "1.1.0",
    undefined,
    "localhost:5000/team/app:1.1.0",
  ],
  ["uppercase host kept", "Reg.IO/app:1", "2", undefined, "Reg.IO/app:2"],
  ["index.docker.io kept", "index.docker.io/nginx:1", "2", undefined, "index.docker.io/nginx:2"],
  ["digest added when given", "myapp:latest", "latest", SHA_B, `myapp:latest@${SHA_B}`],
  ["old digest replaced", `myapp:1.2.3@${SHA_A}`, "1.2.4", SHA_B, `myapp:1.2.4@${SHA_B}`],
  ["old digest dropped when none given", `myapp:1.2.3@${SHA_A}`, "1.2.4", undefined, "myapp:1.2.4"],
  ["digest-only reference gains a tag", `myapp@${SHA_A}`, "1.0.0", SHA_B, `myapp:1.0.0@${SHA_B}`],
];

for (const [name, ref, tag, digest, want] of targets) {
  Deno.test(`withTarget: ${name}`, () => {
    assert.equal(withTarget(parseReference(ref), tag, digest), want);
  });
}
