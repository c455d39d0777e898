/**
 * Soak: 1,000 pushes delivered to a running Argoos while the fake API server fails 20% of
 * workload writes (5% each: 500, 409, a request held past the client's timeout, and a lost
 * answer — the write applied, the response broken) and the stub registry fails 10% of its
 * requests (503). Deliveries are retried as a registry does (until a 2xx, in order per
 * repository). A watch on the Deployments sees every write that landed; the soak prints:
 *
 * - lost: Deployments not running the newest pushed tag of their repository once settled;
 * - duplicated: writes that set an image a Deployment had already been given before;
 * - backward: writes to a lower version than the Deployment ran.
 *
 * All three must be 0 (exit code 1 otherwise). Seeded: `SEED=7 deno task bench:soak`.
 *
 * @module
 */

import { KubeClient } from "../lib/kube/client.ts";
import { DEPLOYMENTS } from "../lib/kube/resource.ts";
import { startFakeApiServer } from "../test/fake_apiserver/mod.ts";
import { clientFor, launchArgoos } from "../test/support/argoos_service.ts";
import { startStubRegistry } from "./stub_registry.ts";
import { seededRandom } from "../test/support/seeded_random.ts";

const PUSHES = Number(Deno.env.get("PUSHES") ?? 1_000);
const REPOSITORIES = 10;
const PER_REPOSITORY = 3;
/** Parallel delivery lanes; each repository's pushes stay in one lane, in order. */
const LANES = 4;
const REG = "127.0.0.1:5000";
const TOKEN = "soak-token";
const CLIENT_TIMEOUT_MS = 1_500;
const MAX_ATTEMPTS = 500;

const random = seededRandom(Number(Deno.env.get("SEED") ?? 1));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const fake = await startFakeApiServer();
const registry = startStubRegistry();
const connection = (timeoutMs: number) =>
  new KubeClient({
    server: fake.url,
    authHeaders: () => Promise.resolve({ authorization: `Bearer ${fake.token}` }),
    description: "fake apiserver",
    close() {},
  }, { timeoutMs });

const repo = (r: number) => `app-${r}`;
const patches = () =>
  fake.requests.filter((q) => q.method === "PATCH" && q.path.includes("/deployments/")).length;
const tagOf = (n: number) => `1.0.${n}`;
const versionOf = (image: string) => Number(image.slice(image.lastIndexOf(".") + 1));
for (let r = 0; r < REPOSITORIES; r++) {
  registry.push(repo(r), tagOf(0));
  for (let k = 0; k < PER_REPOSITORY; k++) {
    fake.put({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: {
        name: `${repo(r)}-${k}`,
        namespace: `ns-${k}`,
        labels: { "argoos.io/policy": "patch" },
      },
      spec: {
        selector: { matchLabels: { app: repo(r) } },
        template: {
          metadata: { labels: { app: repo(r) } },
          spec: { containers: [{ name: "app", image: `${REG}/${repo(r)}:${tagOf(0)}` }] },
        },
      },
    });
  }
}

// Every write that landed, as a watch sees it.
const given = new Map<string, Set<string>>();
const running = new Map<string, string>();
let duplicated = 0;
let backward = 0;
let writes = 0;
const observer = connection(30_000);
const watching = new AbortController();
const initial = await observer.list<Obj>(DEPLOYMENTS);
for (const o of initial.items) running.set(keyOf(o), imageOf(o));
const watch = (async () => {
  let resourceVersion = initial.metadata.resourceVersion;
  while (!watching.signal.aborted) {
    try {
      for await (
        const ev of observer.watch<Obj>(DEPLOYMENTS, { resourceVersion, signal: watching.signal })
      ) {
        resourceVersion = ev.object.metadata.resourceVersion;
        if (ev.type !== "MODIFIED") continue;
        const key = keyOf(ev.object);
        const image = imageOf(ev.object);
        const before = running.get(key)!;
        if (image === before) continue;
        writes++;
        if (versionOf(image) < versionOf(before)) backward++;
        const seen = given.get(key) ?? new Set([before]);
        if (seen.has(image)) duplicated++;
        seen.add(image);
        given.set(key, seen);
        running.set(key, image);
      }
    } catch (err) {
      if (!watching.signal.aborted) console.error("observer watch ended:", String(err));
    }
  }
})();

// 20% of workload writes fail, 5% of each kind (each entry is drawn after the ones before).
const writesOnly = { method: "PATCH", path: "/deployments/", times: Number.MAX_SAFE_INTEGER };
fake.fail({ ...writesOnly, status: 500, rate: 0.05, random });
fake.fail({ ...writesOnly, status: 409, reason: "Conflict", rate: 0.05 / 0.95, random });
fake.fail({ ...writesOnly, kind: "hang", hangMs: 2 * CLIENT_TIMEOUT_MS, rate: 0.05 / 0.9, random });
fake.fail({ ...writesOnly, kind: "lost", rate: 0.05 / 0.85, random });
registry.fail({ status: 503, rate: 0.1, random, times: Number.MAX_SAFE_INTEGER });

const { argoos } = await launchArgoos(
  connection(CLIENT_TIMEOUT_MS),
  ["serve", "--poll-interval", "0", "--token", TOKEN],
  {},
  clientFor(registry),
);
let exitCode = 0;
try {
  await argoos.cache.synced;
  const newest = new Map<number, number>();
  const answers = new Map<number, number>();
  let redeliveries = 0;
  let stuck = 0;
  const started = performance.now();
  let pushed = 0;
  await Promise.all(Array.from({ length: LANES }, async (_, lane) => {
    for (let n = 0; n < PUSHES; n++) {
      // Push n goes to repository n % REPOSITORIES; a lane owns its repositories, so each
      // repository's pushes are delivered in order, as a registry's endpoint queue does.
      const r = n % REPOSITORIES;
      if (r % LANES !== lane) continue;
      const version = (newest.get(r) ?? 0) + 1;
      newest.set(r, version);
      const digest = registry.push(repo(r), tagOf(version));
      pushed++;
      const body = JSON.stringify({
        events: [{
          id: crypto.randomUUID(),
          timestamp: new Date().toISOString(),
          action: "push",
          target: {
            mediaType: "application/vnd.docker.distribution.manifest.v2+json",
            repository: repo(r),
            tag: tagOf(version),
            digest,
          },
          request: { host: REG },
        }],
      });
      for (let attempt = 1;; attempt++) {
        const status = await fetch(`${argoos.url}/event`, {
          method: "POST",
          headers: {
            "content-type": "application/vnd.docker.distribution.events.v1+json",
            "x-argoos-token": TOKEN,
          },
          body,
        }).then(async (res) => {
          await res.body?.cancel();
          return res.status;
        }, () => 0);
        answers.set(status, (answers.get(status) ?? 0) + 1);
        if (status >= 200 && status < 300) break;
        if (attempt >= MAX_ATTEMPTS) {
          stuck++;
          break;
        }
        redeliveries++;
        await sleep(50);
      }
    }
  }));
  // Settled: every Deployment runs its repository's newest tag, or the deadline passed.
  const want = (key: string) => {
    const r = Number(key.split("/")[1].split("-")[1]);
    return `${REG}/${repo(r)}:${tagOf(newest.get(r) ?? 0)}`;
  };
  const deadline = Date.now() + 60_000;
  const behind = () => [...running].filter(([k, image]) => image !== want(k));
  while (behind().length > 0 && Date.now() < deadline) await sleep(200);
  const lost = behind().length;
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${pushed} pushes to ${REPOSITORIES} repositories (${
      REPOSITORIES * PER_REPOSITORY
    } Deployments) in ${
      seconds.toFixed(0)
    } s; ${patches()} PATCHes sent, ${writes} image writes landed; ` +
      `${redeliveries} redeliveries, ${stuck} given up; answers ${
        [...answers].map(([s, n]) => `${s}: ${n}`).join(", ")
      }`,
  );
  console.log(`lost: ${lost}, duplicated: ${duplicated}, backward: ${backward}`);
  console.log(
    JSON.stringify({ pushes: pushed, writes, redeliveries, stuck, lost, duplicated, backward }),
  );
  if (lost || duplicated || backward || stuck) exitCode = 1;
} finally {
  await argoos.stop();
  watching.abort();
  await watch;
  await fake.stop();
  await registry.close();
}
Deno.exit(exitCode);

interface Obj {
  metadata: { name: string; namespace: string; resourceVersion: string };
  spec: { template: { spec: { containers: { image: string }[] } } };
}
function keyOf(o: Obj): string {
  return `${o.metadata.namespace}/${o.metadata.name}`;
}
function imageOf(o: Obj): string {
  return o.spec.template.spec.containers[0].image;
}
