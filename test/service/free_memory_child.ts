// Run by free_memory_test.ts with --v8-flags=--expose-gc: prints the resident MB after buffers
// were freed and a wait, then after releaseFreeMemory and the same wait.
import { releaseFreeMemory } from "../../lib/service/free_memory.ts";

const gc = (globalThis as unknown as { gc: () => void }).gc;
const rssMb = () => Deno.memoryUsage().rss / 1e6;
const wait = () => new Promise((resolve) => setTimeout(resolve, 500));

// 36 MB in buffers under glibc's mmap threshold, so they come from its arenas, with small
// ones kept between them so that freeing them leaves holes, not a top the arena trims itself.
let buffers: Uint8Array[] = [];
const kept: Uint8Array[] = [];
for (let i = 0; i < 600; i++) {
  buffers.push(new Uint8Array(60_000).fill(1));
  if (i % 100 === 99) kept.push(new Uint8Array(100).fill(1));
}
buffers = [];
gc();
gc();
await wait();
const freed = rssMb();
releaseFreeMemory();
await wait();
console.log(JSON.stringify({ freed, released: rssMb(), kept: kept.length }));
