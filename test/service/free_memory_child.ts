// Run by free_memory_test.ts with --v8-flags=--expose-gc: prints the resident MB after buffers
// were freed and a wait, then the lowest within 10 s after releaseFreeMemory, read until it is
// 10 MB lower.
import { releaseFreeMemory } from "../../lib/service/free_memory.ts";

const gc = (globalThis as unknown as { gc: () => void }).gc;
const rssMb = () => Deno.memoryUsage().rss / 1e6;
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
await wait(500);
const freed = rssMb();
releaseFreeMemory();
let released = rssMb();
for (const deadline = Date.now() + 10_000; freed - released <= 10 && Date.now() < deadline;) {
  await wait(20);
  released = Math.min(released, rssMb());
}
console.log(JSON.stringify({ freed, released, kept: kept.length }));
