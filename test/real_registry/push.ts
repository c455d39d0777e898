/**
 * Pushes tiny, deterministic images to a registry without Docker: builds an OCI image layout by
 * hand (one `hello.txt` layer per platform) and copies it with `skopeo`. Same content gives the
 * same digest, so tests can push "the same image" or "a new image" on purpose.
 *
 * @module
 */

/**
 * What to push with {@linkcode pushImage}.
 *
 * @example
 * ```ts
 * import type { PushOptions } from "./push.ts";
 * const opts: PushOptions = {
 *   registry: "127.0.0.1:5000",
 *   repository: "team/app",
 *   tag: "1.2.3",
 *   multiarch: true,
 * };
 * ```
 */
export interface PushOptions {
  /** `host:port` of the registry (plain HTTP). */
  registry: string;
  /** Repository, may be nested (`team/app`). */
  repository: string;
  tag: string;
  /** Text of the single file in the image; default `hello from <repository>:<tag>`. */
  content?: string;
  /** Manifest format stored in the registry; `v2s2` = Docker schema 2. Default `oci`. */
  format?: "oci" | "v2s2";
  /** Push an index (or Docker manifest list) of linux/amd64 + linux/arm64 images. */
  multiarch?: boolean;
  creds?: { username: string; password: string };
}

/**
 * Digest and media type of the manifest the registry stored under the tag.
 *
 * @example
 * ```ts
 * import type { PushedImage } from "./push.ts";
 * const pushed: PushedImage = {
 *   digest: "sha256:3e1f0c2b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f",
 *   mediaType: "application/vnd.oci.image.index.v1+json",
 * };
 * ```
 */
export interface PushedImage {
  digest: string;
  mediaType: string;
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const MANIFEST_ACCEPT = [
  OCI_MANIFEST,
  OCI_INDEX,
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
].join(", ");
const EPOCH = "1970-01-01T00:00:00Z";

async function run(cmd: string, args: string[]): Promise<Uint8Array<ArrayBuffer>> {
  const out = await new Deno.Command(cmd, { args, stdin: "null" }).output();
  if (!out.success) {
    const stderr = new TextDecoder().decode(out.stderr);
    throw new Error(`${cmd} ${args.join(" ")} failed (${out.code}): ${stderr}`);
  }
  return out.stdout;
}

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Stores bytes content-addressed under `blobs/sha256/` and describes them. */
async function putBlob(
  layout: string,
  mediaType: string,
  bytes: Uint8Array<ArrayBuffer>,
): Promise<Descriptor> {
  const hex = await sha256Hex(bytes);
  await Deno.writeFile(`${layout}/blobs/sha256/${hex}`, bytes);
  return { mediaType, digest: `sha256:${hex}`, size: bytes.length };
}

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** Builds one single-platform image in the layout; returns its manifest descriptor. */
async function buildImage(layout: string, arch: string, content: string): Promise<Descriptor> {
  const root = await Deno.makeTempDir({ dir: layout, prefix: ".root-" });
  await Deno.writeTextFile(`${root}/hello.txt`, `${content}\n`);
  // Fixed mtime/owner/mode and `gzip -n` (no name/time in the header) keep digests stable.
  await run("tar", [
    "--sort=name",
    "--mtime=@0",
    "--owner=0",
    "--group=0",
    "--numeric-owner",
    "--mode=0644",
    "-C",
    root,
    "-cf",
    `${root}.tar`,
    "hello.txt",
  ]);
  const tar = await Deno.readFile(`${root}.tar`);
  const gz = await run("gzip", ["-n", "-9", "-c", `${root}.tar`]);
  await Deno.remove(root, { recursive: true });
  await Deno.remove(`${root}.tar`);

  const diffId = `sha256:${await sha256Hex(tar)}`;
  const layer = await putBlob(layout, "application/vnd.oci.image.layer.v1.tar+gzip", gz);
  const config = await putBlob(
    layout,
    "application/vnd.oci.image.config.v1+json",
    json({
      created: EPOCH,
      architecture: arch,
      os: "linux",
      config: { Cmd: ["/bin/cat", "/hello.txt"] },
      rootfs: { type: "layers", diff_ids: [diffId] },
      history: [{ created: EPOCH, created_by: "argoos test: add hello.txt" }],
    }),
  );
  return putBlob(
    layout,
    OCI_MANIFEST,
    json({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer] }),
  );
}

/** Builds the whole OCI layout (single image or amd64+arm64 index) tagged `tag`. */
async function buildLayout(layout: string, opts: PushOptions, content: string): Promise<void> {
  await Deno.mkdir(`${layout}/blobs/sha256`, { recursive: true });
  await Deno.writeTextFile(`${layout}/oci-layout`, '{"imageLayoutVersion":"1.0.0"}');
  let top: Descriptor;
  if (opts.multiarch) {
    const amd64 = await buildImage(layout, "amd64", `${content} (amd64)`);
    const arm64 = await buildImage(layout, "arm64", `${content} (arm64)`);
    top = await putBlob(
      layout,
      OCI_INDEX,
      json({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [
          { ...amd64, platform: { architecture: "amd64", os: "linux" } },
          { ...arm64, platform: { architecture: "arm64", os: "linux", variant: "v8" } },
        ],
      }),
    );
  } else {
    top = await buildImage(layout, "amd64", content);
  }
  await Deno.writeFile(
    `${layout}/index.json`,
    json({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{ ...top, annotations: { "org.opencontainers.image.ref.name": opts.tag } }],
    }),
  );
}

/** HEADs the tag the way Argoos does (all four Accept types) to read what the registry stored. */
async function headManifest(opts: PushOptions): Promise<PushedImage> {
  const headers = new Headers({ Accept: MANIFEST_ACCEPT });
  if (opts.creds) {
    headers.set("Authorization", `Basic ${btoa(`${opts.creds.username}:${opts.creds.password}`)}`);
  }
  const url = `http://${opts.registry}/v2/${opts.repository}/manifests/${opts.tag}`;
  const res = await fetch(url, { method: "HEAD", headers });
  await res.body?.cancel();
  const digest = res.headers.get("Docker-Content-Digest");
  const mediaType = res.headers.get("Content-Type");
  if (!res.ok || !digest || !mediaType) {
    throw new Error(`HEAD ${url} -> ${res.status}, digest ${digest}, type ${mediaType}`);
  }
  return { digest, mediaType };
}

/**
 * Builds a tiny deterministic image and pushes it with `skopeo copy`; returns the manifest
 * digest and media type as the registry reports them (for `v2s2`, skopeo converts, so the
 * digest differs from the OCI one). Different `content` gives a different digest.
 *
 * @example
 * ```ts ignore
 * import { pushImage } from "./push.ts";
 * const { digest } = await pushImage({ registry: "127.0.0.1:5000", repository: "myapp", tag: "1.0.0" });
 * console.log(digest); // "sha256:..."
 * ```
 */
export async function pushImage(opts: PushOptions): Promise<PushedImage> {
  const content = opts.content ?? `hello from ${opts.repository}:${opts.tag}`;
  const layout = await Deno.makeTempDir({ prefix: "argoos-oci-" });
  try {
    await buildLayout(layout, opts, content);
    // --insecure-policy: no dependence on the host's /etc/containers/policy.json.
    const args = ["--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false"];
    if (opts.creds) args.push("--dest-creds", `${opts.creds.username}:${opts.creds.password}`);
    if (opts.multiarch) args.push("--all");
    if (opts.format === "v2s2") args.push("--format", "v2s2");
    args.push(
      `oci:${layout}:${opts.tag}`,
      `docker://${opts.registry}/${opts.repository}:${opts.tag}`,
    );
    await run("skopeo", args);
  } finally {
    await Deno.remove(layout, { recursive: true });
  }
  return headManifest(opts);
}
