/**
 * The folders of `lib/` follow the data one way: every import goes to a folder of the same
 * layer or a lower one, as the layer diagram in README.md's Layout section draws them, and no
 * folders import each other round a cycle. The layers are read from the README, so the
 * diagram and the code cannot drift apart.
 *
 * @module
 */

import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const LIB = join(ROOT, "lib");

/** Folder (relative to lib/, e.g. `webhook/sources`) → the folders its files import. */
type FolderGraph = Map<string, Set<string>>;

/** The module specifiers a TypeScript file imports or re-exports, comments left out. */
export function specifiersOf(source: string): string[] {
  const code = source
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^;]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) found.push(m[1]);
  return found;
}

/** Layer of each folder, from the first ```text block of the README's Layout section. */
export function layersOf(readme: string): Map<string, number> {
  const section = readme.slice(readme.indexOf("## Layout"));
  const diagram = section.match(/```text\n([\s\S]*?)```/)?.[1];
  if (!diagram) throw new Error("README.md: no ```text layer diagram in ## Layout");
  const rows = diagram.split("\n").map((l) => l.split("←")[0].trim()).filter((l) => l !== "");
  const layers = new Map<string, number>();
  // The top row is the highest layer.
  rows.forEach((row, i) => {
    for (const folder of row.split(/\s+/)) layers.set(folder, rows.length - i);
  });
  return layers;
}

/** The import graph between the folders of `lib/`. */
async function folderGraph(): Promise<FolderGraph> {
  const graph: FolderGraph = new Map();
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".ts")) {
        const from = relative(LIB, dirname(path));
        const targets = graph.get(from) ?? new Set<string>();
        graph.set(from, targets);
        for (const spec of specifiersOf(await Deno.readTextFile(path))) {
          if (!spec.startsWith(".")) continue;
          const to = relative(LIB, dirname(resolve(dirname(path), spec)));
          if (to.startsWith("..")) throw new Error(`${relative(ROOT, path)} imports ${spec}`);
          if (to !== from) targets.add(to);
        }
      }
    }
  };
  await walk(LIB);
  return graph;
}

/**
 * What is wrong with a folder graph against its layers: an import from a lower layer to a
 * higher one, a folder the layers do not place, and every cycle between folders.
 */
export function violations(graph: FolderGraph, layers: Map<string, number>): string[] {
  const found: string[] = [];
  for (const [from, targets] of graph) {
    if (!layers.has(from)) found.push(`${from} is not in the layer diagram`);
    for (const to of targets) {
      const [a, b] = [layers.get(from), layers.get(to)];
      if (a !== undefined && b !== undefined && b > a) {
        found.push(`upward import: ${from} (layer ${a}) imports ${to} (layer ${b})`);
      }
    }
  }
  // Cycles: strongly connected components of more than one folder (Tarjan).
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(`cycle between ${component.sort().join(", ")}`);
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

const README = await Deno.readTextFile(join(ROOT, "README.md"));

Deno.test("layers: lib/ imports only go down the README's diagram, and no folders form a cycle", async () => {
  assert.deepEqual(violations(await folderGraph(), layersOf(README)), []);
});

Deno.test("layers: the README's Layout table has one row per lib/ folder", async () => {
  const section = README.slice(README.indexOf("## Layout"));
  const rows = [...section.matchAll(/^\| `lib\/([a-z/_]+?)\/?`/gm)].map((m) => m[1]);
  assert.deepEqual(rows.toSorted(), [...(await folderGraph()).keys()].sort());
  assert.equal(new Set(rows).size, rows.length, "one row each");
});

Deno.test("layers: a synthetic graph with an upward import and a cycle fails", () => {
  const layers = layersOf(
    "## Layout\n\n```text\nservice  ← top\nreconcile\nimage  parse  ← bottom\n```\n",
  );
  assert.deepEqual(Object.fromEntries(layers), { service: 3, reconcile: 2, image: 1, parse: 1 });
  const graph: FolderGraph = new Map([
    ["service", new Set(["reconcile"])],
    ["reconcile", new Set(["image"])],
    ["image", new Set(["parse", "reconcile"])],
    ["parse", new Set(["image"])],
    ["extra", new Set()],
  ]);
  assert.deepEqual(violations(graph, layers), [
    "upward import: image (layer 1) imports reconcile (layer 2)",
    "extra is not in the layer diagram",
    "cycle between image, parse, reconcile",
  ]);
});

Deno.test("layers: imports are read from code, not from comments or examples", () => {
  const source = [
    "/**",
    ' * import { x } from "../../server/front.ts";',
    " */",
    'import { a } from "../a/a.ts";',
    "import {",
    "  b,",
    "  type C,",
    '} from "./b.ts";',
    'export { d } from "../d/d.ts";',
    'export * from "../e/e.ts";',
    '// import { f } from "../f/f.ts";',
    'const g = await import("../g/g.ts");',
  ].join("\n");
  assert.deepEqual(specifiersOf(source), [
    "../a/a.ts",
    "./b.ts",
    "../d/d.ts",
    "../e/e.ts",
    "../g/g.ts",
  ]);
});
