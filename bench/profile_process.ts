/**
 * A CPU profile of another Deno process, taken over its inspector (Deno's `run` has no
 * `--cpu-prof` flag): start the process with `--inspect=127.0.0.1:<port>` (the benches pass
 * `ARGOOS_DENO_FLAGS` to the service they start), then run this beside it. It waits `after`
 * seconds (the bench's set-up), profiles `for` seconds, writes the `.cpuprofile` (Chrome
 * DevTools opens it) and prints where the time went: the functions with the most self time,
 * and each sample charged to the first frame of this repository's code on its stack, so the
 * runtime's work (`fetch`, streams) counts for the code that asked for it. Samples of the
 * inspector's own work (it reports every `fetch` while attached) are left out of that second
 * table.
 *
 * Run: `ARGOOS_DENO_FLAGS=--inspect=127.0.0.1:9229 deno task bench:webhook --throughput &`
 * then `deno run --allow-net --allow-write bench/profile_process.ts 9229 7 6 webhook.cpuprofile`.
 *
 * @module
 */

import { type CpuProfile, formatTop, topSelf } from "./cpu_profile.ts";

/**
 * Per sample, the first frame of this repository's code on the stack (`file function`), or
 * the runtime's own label (`(garbage collector)`, `(idle)`, `(program)`, `(runtime)`); samples
 * with an inspector frame on the stack are counted apart, as `(inspector)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { byOwnCode } from "./profile_process.ts";
 * const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });
 * const rows = byOwnCode({
 *   nodes: [
 *     { id: 1, callFrame: frame("send", "file:///repo/lib/kube/client.ts"), children: [2] },
 *     { id: 2, callFrame: frame("fetch", "ext:deno_fetch/26_fetch.js") },
 *   ],
 *   samples: [2, 2], startTime: 0, endTime: 2000,
 * }, "file:///repo/");
 * assert.deepEqual(rows, [{ name: "lib/kube/client.ts send", ms: 2 }]);
 * ```
 */
export function byOwnCode(
  profile: CpuProfile & { nodes: { children?: number[] }[] },
  root: string,
): { name: string; ms: number }[] {
  const node = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const samples = profile.samples ?? [];
  const msPerSample = samples.length
    ? (profile.endTime - profile.startTime) / 1000 / samples.length
    : 0;
  const counts = new Map<string, number>();
  for (const id of samples) {
    let name: string | undefined;
    let inspector = false;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { functionName, url } = node.get(at)!.callFrame;
      if (/inspector/.test(functionName + url)) inspector = true;
      if (!name && url.startsWith(root)) name = `${url.slice(root.length)} ${functionName}`;
    }
    const top = node.get(id)!.callFrame.functionName;
    const label = inspector ? "(inspector)" : name ?? (top.startsWith("(") ? top : "(runtime)");
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).map(([name, n]) => ({
    name,
    ms: n * msPerSample,
  }));
}

if (import.meta.main) {
  const [port, after, seconds, out] = Deno.args;
  if (!out) throw new Error("usage: profile_process.ts PORT AFTER_S FOR_S OUT.cpuprofile");
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  let target: { webSocketDebuggerUrl: string } | undefined;
  for (let tries = 0; !target && tries < 300; tries++) {
    target = await fetch(`http://127.0.0.1:${port}/json/list`).then((r) => r.json())
      .then((list) => list[0]).catch(() => undefined);
    if (!target) await sleep(100);
  }
  if (!target) throw new Error(`no inspector on 127.0.0.1:${port}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let id = 0;
  const answers = new Map<number, (result: unknown) => void>();
  ws.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    answers.get(msg.id)?.(msg.result);
    answers.delete(msg.id);
  };
  const call = (method: string, params = {}) =>
    new Promise<unknown>((resolve) => {
      answers.set(++id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await call("Profiler.enable");
  await sleep(Number(after) * 1000);
  await call("Profiler.start");
  await sleep(Number(seconds) * 1000);
  const { profile } = await call("Profiler.stop") as { profile: CpuProfile };
  ws.close();
  await Deno.writeTextFile(out, JSON.stringify(profile));
  console.log(`written ${out}\nself time:`);
  for (const line of formatTop(topSelf(profile, 15))) console.log(line);
  console.log("by the repository's code that asked for it:");
  const root = new URL("../", import.meta.url).href;
  for (const { name, ms } of byOwnCode(profile, root).slice(0, 25)) {
    console.log(`${ms.toFixed(0).padStart(7)} ms  ${name}`);
  }
}
