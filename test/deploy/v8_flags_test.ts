/**
 * Every way the service is started gets the same V8 flags: the linear-time regexp engine that
 * tag patterns need, a heap bound that fits the manifest's memory limit (README, "Memory"):
 * without one V8 sizes its heap from the node's memory, or with DENO_USE_CGROUPS from the
 * whole limit, and the kernel kills the container before V8 collects; the start of V8's
 * memory reducer, which gives back what the start-up listing grew; and how the collector's
 * generations grow (README, "Speed"), the young one counted in the bound.
 *
 * @module
 */

import assert from "node:assert/strict";
import { parse } from "yaml";
import { LINEAR_ENGINE_FLAG } from "../../lib/policy/pattern.ts";

const root = new URL("../../", import.meta.url);
const tasks: Record<string, string> = JSON.parse(
  await Deno.readTextFile(new URL("deno.json", root)),
).tasks;
const flagsOf = (command: string) => command.match(/--v8-flags=(\S+)/)?.[1].split(",").sort() ?? [];

Deno.test("V8 flags: start, compile and the README's bundle command agree", async () => {
  const flags = flagsOf(tasks.start);
  assert.ok(flags.includes(LINEAR_ENGINE_FLAG), "the linear regexp engine");
  assert.deepEqual(flagsOf(tasks.compile), flags, "deno task compile");
  const readme = await Deno.readTextFile(new URL("README.md", root));
  const bundleRun = readme.match(/`deno run (--v8-flags=\S+) -A dist\/argoos\.js`/)?.[1] ?? "";
  assert.deepEqual(flagsOf(bundleRun), flags, "README: running the bundle");
  // The image is built by the compile task, so it has them too.
  const dockerfile = await Deno.readTextFile(new URL("Dockerfile", root));
  assert.match(dockerfile, /^RUN deno task compile$/m);
});

Deno.test("V8 flags: the heap bound leaves the runtime room within the manifest's limit", async () => {
  const flag = (name: string) =>
    flagsOf(tasks.start).find((f) => f.startsWith(`--${name}=`))?.split("=")[1];
  const oldSpaceMiB = Number(flag("max-old-space-size"));
  // The young generation is two semi-spaces (V8's default bound here is 16 MiB each).
  const youngMiB = 2 * Number(flag("max-semi-space-size") ?? 16);
  const deployment = parse(
    await Deno.readTextFile(new URL("deploy/base/deployment.yaml", root)),
  );
  const limit: string = deployment.spec.template.spec.containers[0].resources.limits.memory;
  const limitMiB = Number(limit.replace(/Mi$/, ""));
  // bench/memory.ts: about 40 MB of the resident size is the runtime's own, outside the heap.
  assert.ok(
    oldSpaceMiB > 0 && oldSpaceMiB + youngMiB + 64 <= limitMiB,
    `${oldSpaceMiB} + ${youngMiB} MiB in ${limit}`,
  );
});
