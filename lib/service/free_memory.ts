/**
 * Giving the C allocator's free memory back to the system after a burst of work. What the
 * runtime frees (fetch bodies, V8's compiler zones and collector work lists) goes back to
 * glibc's arenas, which return memory to the system only from their top: after the start-up
 * listing, or a run of deliveries, 7 to 18 MB of resident memory is free memory the allocator
 * keeps (`mallinfo2` read with gdb in bench:memory's set-up). JavaScript cannot ask for
 * `malloc_trim`; Deno calls `malloc_trim(0)` when a Worker's thread ends, on Linux (its
 * `runtime/ops/worker_host.rs`, since denoland/deno#26058: not a documented API, so should it
 * stop, this costs a worker start and gives nothing back), so a worker that ends at once does
 * it. Deno's other trim, on SIGUSR2, only works if `DENO_USR2_MEMORY_TRIM` was set before the
 * process started, which a service cannot do for itself. Measured: bench:memory's idle figure
 * fell from 78.1-83.3 MB to 74.4-77.4 MB (four runs each), and the figure after its deliveries
 * by about 8 MB. It costs a new isolate: the Worker constructor waits for it, holding the event
 * loop 9 to 13 ms (timed by hand; once per pause of work), and a few MB of runtime code touched the
 * first time.
 *
 * @module
 */

/**
 * Have Deno trim the allocator's arenas (a worker that ends at once); does nothing where that
 * is not how memory is given back (not Linux) or workers cannot start.
 *
 * @example
 * ```ts
 * import { releaseFreeMemory } from "./free_memory.ts";
 * releaseFreeMemory();
 * ```
 */
export function releaseFreeMemory(): void {
  if (Deno.build.os !== "linux") return;
  let worker: Worker;
  try {
    worker = new Worker("data:text/javascript,close()", { type: "module" });
  } catch {
    return;
  }
  // An error (no worker could load) stays here instead of ending the process.
  worker.onerror = (e) => e.preventDefault();
}
