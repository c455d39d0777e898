/**
 * An in-process fake Kubernetes API server for tests and benchmarks.
 *
 * @example
 * ```ts
 * import { startFakeApiServer } from "./mod.ts";
 * const api = await startFakeApiServer();
 * await api.stop();
 * ```
 *
 * @module
 */

export { startFakeApiServer } from "./server.ts";
export type {
  Behaviour,
  FakeApiServer,
  FakeApiServerOptions,
  Fault,
  ImageKnob,
  RecordedRequest,
  RolloutSimOptions,
  RolloutSimulator,
} from "./server.ts";
