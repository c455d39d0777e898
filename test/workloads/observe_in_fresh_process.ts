/**
 * Run by cache_observe_test.ts in a process of its own, where no parser is loaded yet: the
 * cache observes a PATCH answer that names a semver range and an update window (added since
 * the workload was listed) and tells the watch trigger, which reads the workload's rules.
 * Prints `told: <errors>` once told, or the error that stopped it.
 *
 * @module
 */

import { WorkloadCache } from "../../lib/workloads/cache.ts";
import { kindNamed } from "../../lib/workloads/kinds.ts";
import { rulesOf } from "../../lib/policy/rules.ts";
import type { KubeClient } from "../../lib/kube/client.ts";
import type { KubeObject } from "../../lib/workloads/workload.ts";

const DEPLOYMENT = kindNamed("Deployment")!;
let told = "";
// Never started: observe reads nothing from the API server.
const cache = new WorkloadCache({} as KubeClient, {
  kinds: [DEPLOYMENT],
  onUpsert: (w) => told = JSON.stringify(rulesOf(w).errors),
});
const answer: KubeObject = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: {
    name: "web",
    namespace: "default",
    resourceVersion: "7",
    labels: { "argoos.io/policy": "minor" },
    annotations: {
      "argoos.io/semver-range": "^1.2",
      "argoos.io/update-window": "0 2 * * * 4h",
    },
  },
  spec: {
    selector: { matchLabels: { app: "web" } },
    template: { spec: { containers: [{ name: "app", image: "nginx:1.2.0" }] } },
  },
};
try {
  await cache.observe(DEPLOYMENT, answer);
  console.log(`told: ${told}`);
} catch (err) {
  console.log(`failed: ${(err as Error).name}: ${(err as Error).message}`);
}
