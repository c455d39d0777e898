/**
 * A multi-document manifest file as operators keep them, with labelled workloads of
 * several kinds among objects Argoos ignores, for `argoos plan -f`.
 *
 * @module
 */

/**
 * The manifest text, images on registry `host`.
 *
 * @example
 * ```ts
 * import { planManifest } from "./manifests.ts";
 * planManifest("127.0.0.1:5000").includes("kind: CronJob"); // true
 * ```
 */
export function planManifest(host: string): string {
  return `# app manifests
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    argoos.io/policy: minor
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: app
          image: ${host}/myapp:1.2.3
        - name: tools
          image: ${host}/myapp:latest
---
apiVersion: v1
kind: Service
metadata:
  name: web
  labels:
    argoos.io/policy: minor
spec:
  ports: [{ port: 80 }]
---
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: unlabelled
spec:
  template:
    spec:
      containers: [{ name: app, image: ${host}/myapp:1.0.0 }]
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
  namespace: jobs
  labels:
    argoos.io/policy: patch
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          initContainers: [{ name: migrate, image: ${host}/myapp:1.2.3 }]
          containers: [{ name: job, image: ${host}/batch:2.0.0 }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: odd
  labels:
    argoos.io/policy: weekly
spec:
  template:
    spec:
      containers: [{ name: db, image: ${host}/myapp:1.2.3 }]
`;
}

/** Tags the stub registry lists for {@linkcode planManifest}'s repositories. */
export const PLAN_TAGS: Record<string, string[]> = {
  myapp: ["1.2.3", "1.2.4", "1.3.0", "1.4.0-rc.1", "2.0.0", "latest"],
  batch: ["2.0.0"],
};
