/**
 * CPU profiles for the benches, taken in-process through `node:inspector` (Deno's `run` has no
 * `--cpu-prof` flag), and their summary: the functions with the most self time. Write a
 * profile to a `.cpuprofile` file (Chrome DevTools opens it) and print its top functions.
 *
 * Run on a saved profile: `deno run --allow-read bench/cpu_profile.ts steady.cpuprofile [n]`.
 *
 * @module
 */

import { Session } from "node:inspector/promises";

/** A V8 CPU profile, as the inspector's `Profiler.stop` returns it (the fields used here). */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    hitCount?: number;
  }[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

/** One function's share of a profile. */
export interface ProfileEntry {
  /** `name (file:line)`. */
  name: string;
  selfMs: number;
  /** Of all samples, in percent. */
  selfPercent: number;
}

/**
 * Profile what `run` does in this process.
 *
 * @example
 * ```ts ignore
 * import { profiled, topSelf } from "./cpu_profile.ts";
 * const { result, profile } = await profiled(() => work());
 * console.log(topSelf(profile, 10));
 * ```
 */
export async function profiled<T>(
  run: () => Promise<T>,
): Promise<{ result: T; profile: CpuProfile }> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 200 });
  await session.post("Profiler.start");
  try {
    const result = await run();
    const { profile } = await session.post("Profiler.stop") as { profile: CpuProfile };
    return { result, profile };
  } finally {
    session.disconnect();
  }
}

/**
 * The `n` functions with the most self time (samples where they were on top), merged by name
 * and location.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { topSelf } from "./cpu_profile.ts";
 * const frame = (functionName: string) => ({ functionName, url: "file:///x.ts", lineNumber: 0 });
 * const top = topSelf({
 *   nodes: [{ id: 1, callFrame: frame("a"), hitCount: 3 }, { id: 2, callFrame: frame("b"), hitCount: 1 }],
 *   startTime: 0, endTime: 4000,
 * }, 1);
 * assert.deepEqual(top.map((e) => e.name), ["a (x.ts:1)"]);
 * ```
 */
export function topSelf(profile: CpuProfile, n: number): ProfileEntry[] {
  const hits = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const count = node.hitCount ?? 0;
    if (count === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.slice(url.lastIndexOf("/") + 1);
    const name = `${functionName || "(anonymous)"}${file ? ` (${file}:${lineNumber + 1})` : ""}`;
    hits.set(name, (hits.get(name) ?? 0) + count);
    total += count;
  }
  const msPerHit = total === 0 ? 0 : (profile.endTime - profile.startTime) / 1000 / total;
  return [...hits].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, count]) => ({
    name,
    selfMs: count * msPerHit,
    selfPercent: (100 * count) / total,
  }));
}

/**
 * Lines for a console: rank, self ms, share, function.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatTop } from "./cpu_profile.ts";
 * assert.match(formatTop([{ name: "f (a.ts:1)", selfMs: 12.5, selfPercent: 40 }])[0], /f \(a\.ts:1\)/);
 * ```
 */
export function formatTop(entries: readonly ProfileEntry[]): string[] {
  return entries.map((e, i) =>
    `${String(i + 1).padStart(3)}. ${e.selfMs.toFixed(0).padStart(6)} ms ` +
    `${e.selfPercent.toFixed(1).padStart(5)}%  ${e.name}`
  );
}

if (import.meta.main) {
  const [file, n = "10"] = Deno.args;
  const profile = JSON.parse(await Deno.readTextFile(file)) as CpuProfile;
  for (const line of formatTop(topSelf(profile, Number(n)))) console.log(line);
}
