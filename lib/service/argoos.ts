/**
 * A running Argoos: the workload cache, the triggers (webhook, poll loop with its leader
 * election, cache watch) feeding facts and the work queue, the reconciler and its write path,
 * and the HTTP server, wired together.
 *
 * @module
 */

import { EventRecorder } from "../events/recorder.ts";
import { Gates } from "../reconcile/gates.ts";
import { parseReference, referenceRepository, splitRepository } from "../image/reference.ts";
import { currentTag } from "../policy/candidates.ts";
import { KubeHealthSource } from "../health/cluster_source.ts";
import { decodeRollout, ROLLOUT_ANNOTATION } from "../health/record.ts";
import { type HealthSource, RolloutTracker } from "../health/tracker.ts";
import { LazyDeadline } from "../async/lazy_deadline.ts";
import { KubeClient } from "../kube/client.ts";
import { resolveConnection } from "../kube/connection.ts";
import type { LeaseLock } from "../leader/lease_lock.ts";
import { Logger } from "../log/logger.ts";
import { ArgoosMetrics } from "../metrics/argoos_metrics.ts";
import { Gauge, LabelledGauge } from "../metrics/registry.ts";
import { LINEAR_ENGINE_FLAG, linearEngineAvailable } from "../policy/pattern.ts";
import type { Poller } from "../poll/poller.ts";
import { deliverPushes } from "../reconcile/deliver.ts";
import type { RecordedPush } from "../image/push.ts";
import { RepositoryFacts } from "../reconcile/facts.ts";
import { WorkQueue } from "../reconcile/queue.ts";
import { owedLookMs, Reconciler, type ReconcileResult } from "../reconcile/reconciler.ts";
import { TagVerifier } from "../registry/tag_verifier.ts";
import type { RegistryClient } from "../registry/client.ts";
import { Rollout } from "../rollout/rollout.ts";
import { type CutReason, type FrontServer, serveFront } from "../server/front.ts";
import { guardFast, guardHandler, InFlightCap, type UploadCutReason } from "../server/guard.ts";
import { fastRoutes, routes } from "../server/routes.ts";
import { deliveryHandler, type DeliveryOutcome, requestHandler } from "../webhook/handler.ts";
import { RECEIVER_ROUTES } from "../webhook/sources/routes.ts";
import { FileToken, fixedToken } from "../webhook/token.ts";
import { watchWorkloads } from "../watch/workload_watch.ts";
import { WorkloadCache } from "../workloads/cache.ts";
import { runningDigests } from "../workloads/running.ts";
import { keyOf } from "../workloads/workload.ts";
import type { ArgoosConfig } from "./config.ts";
import { registryAccess } from "./credentials.ts";
import { releaseFreeMemory } from "./free_memory.ts";
import { heldReporter, listingRefusals, Rejections, reporter } from "./reporting.ts";

/**
 * How long the start, deliveries and poll cycles must have paused before the allocator's free
 * memory is given back (see free_memory.ts): after V8's memory reducer has had its look (10 s
 * after start, about 8 s after a burst's last full collection), so what it freed is free by then.
 */
const FREE_MEMORY_AFTER_MS = 15_000;

/** Parts a caller (tests, benchmarks, embedders) may supply instead of the defaults. */
export interface ArgoosDeps {
  /** The Kubernetes client; default: from the configuration's `kube`. */
  client?: KubeClient;
  /** The registry client; default: from the configuration's `registry`. */
  registry?: RegistryClient;
  /** Where log lines go; default: stderr at the configuration's level. */
  logger?: Logger;
  /** The clock gates and rollout records read (ms epoch); default `Date.now`. */
  now?: () => number;
  /** The work queue's retry back-off (default 1 s doubling to 5 min); tests scale it down. */
  backoff?: { baseDelayMs: number; maxDelayMs: number };
  /**
   * What gives the allocator's free memory back once work pauses, and after how long a pause;
   * default `releaseFreeMemory` after 15 s. An embedder that starts no worker passes a no-op.
   * It is called from a timer: it must not throw.
   */
  freeMemory?: { release: () => void; afterQuietMs: number };
}

/** A started service. */
export interface Argoos {
  /** Base URL the server listens on, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  /** The workloads Argoos watches. */
  readonly cache: WorkloadCache;
  /** The metrics `/metrics` renders. */
  readonly metrics: ArgoosMetrics;
  /** The work queue of workload keys (reconcile one with `queue.add(key)`). */
  readonly queue: WorkQueue<ReconcileResult>;
  /** The poll loop; absent when polling is off. */
  readonly poller?: Poller;
  /** The Lease of the poll loop; absent without leader election. */
  readonly lease?: LeaseLock;
  /** Stop taking requests, finish those in flight, release the Lease, stop. */
  stop(): Promise<void>;
}

/**
 * Argoos could not serve on its address: in use, not allowed, or a TLS certificate or key
 * that does not parse. Its message is one line for the operator.
 *
 * @example
 * ```ts
 * import { ListenError } from "./argoos.ts";
 * const err = new ListenError({ hostname: "::", port: 3000 }, false, new Deno.errors.AddrInUse());
 * err.message; // "cannot serve on [::]:3000: address in use"
 * ```
 */
export class ListenError extends Error {
  /** Always `ListenError`. */
  override name = "ListenError";
  /** Why serving on `at` failed (`tls`: with a certificate), from its `cause`. */
  constructor(at: { hostname: string; port: number }, tls: boolean, cause: unknown) {
    const host = at.hostname.includes(":") ? `[${at.hostname}]` : at.hostname;
    const why = cause instanceof Deno.errors.AddrInUse
      ? "address in use"
      : cause instanceof Deno.errors.InvalidData && tls
      ? `SERVER_CERT/SERVER_KEY: ${cause.message}`
      : cause instanceof Error
      ? cause.message
      : String(cause);
    super(`cannot serve on ${host}:${at.port}: ${why}`, { cause });
  }
}

/**
 * Start Argoos with a configuration.
 *
 * @example
 * ```ts ignore
 * import { startArgoos } from "./argoos.ts";
 * const argoos = await startArgoos(config);
 * Deno.addSignalListener("SIGTERM", () => argoos.stop());
 * ```
 */
export async function startArgoos(config: ArgoosConfig, deps: ArgoosDeps = {}): Promise<Argoos> {
  const log = deps.logger ?? new Logger({ level: config.verbose ? "debug" : "info" });
  const client = deps.client ?? new KubeClient(await resolveConnection(config.kube));
  const metrics = new ArgoosMetrics();
  const sinks = config.notify?.sinks ?? [];
  // A dry run decides nothing: no Events, no notifications.
  // Features off load no code: the modules of notifications, the status page, the poll loop and
  // its Lease are imported only when configured (each costs resident memory in every process).
  const notifier = sinks.length && !config.dryRun
    ? new (await import("../notify/notifier.ts")).Notifier(sinks, {
      source: config.notify!.source,
      logger: log,
      onOutcome: (sink, outcome) => metrics.notifications.inc({ sink, outcome }),
    })
    : undefined;
  const statusPage = config.status ? await import("../status/handler.ts") : undefined;
  const decisions = statusPage && new (await import("../status/decisions.ts")).DecisionStore();
  // Notifications and the status page hear of each decision once, through the recorder's
  // de-duplication, even with Events off.
  const events = (config.events || notifier || decisions) && !config.dryRun
    ? new EventRecorder(client, {
      instance: config.leader.identity,
      logger: log,
      write: config.events,
      onFirst: (ev) => {
        notifier?.notify(ev);
        decisions?.recorded(ev);
      },
    })
    : undefined;

  const { registry, credentialsOf, external } = registryAccess(config.registry, {
    client,
    logger: log,
    registry: deps.registry,
  });
  registry.onRequest = ({ host, status }) =>
    metrics.registryRequests.inc({ host, status: String(status) });
  registry.onDroppedTags = (host, dropped) => metrics.droppedTags.inc({ host }, dropped);
  const stopping = new AbortController();
  const freeMemory = deps.freeMemory ??
    { release: releaseFreeMemory, afterQuietMs: FREE_MEMORY_AFTER_MS };
  // Work noted moves it later: it is called once the work has paused that long.
  const afterWork = new LazyDeadline(freeMemory.release);
  const noteWork = () => afterWork.set(freeMemory.afterQuietMs);
  const facts = new RepositoryFacts();

  const cache = new WorkloadCache(client, {
    kinds: config.kinds,
    namespaces: config.namespaces,
    logger: log,
    onUpsert: watchWorkloads({
      enqueue: (key): Promise<unknown> => queue.add(key),
      events,
      logger: log,
    }),
  });
  metrics.registry.add(
    new Gauge("argoos_cache_workloads", "Labelled workloads in the cache.", () => cache.size),
  );
  const rollout = new Rollout({
    client,
    cache,
    logger: log,
    dryRun: config.dryRun,
    onReport: reporter(metrics, events, (w) => {
      const written = cache.get(keyOf(w));
      const record = written?.annotations[ROLLOUT_ANNOTATION];
      return record === undefined ? undefined : decodeRollout(record).value?.push.digest;
    }),
  });
  const verifier = new TagVerifier(registry);
  // Follows each rollout Argoos makes, through the same queue and write path.
  const cluster = new KubeHealthSource(client);
  const health: HealthSource = {
    workload: (ref) => cluster.workload(ref),
    pods: async (w) => {
      const pods = await cluster.pods(w);
      decisions?.sawPods(w, pods);
      return pods;
    },
    jobs: (w) => cluster.jobs(w),
  };
  const tracker = new RolloutTracker(health, rollout, {
    revert: config.revert,
    dryRun: config.dryRun,
    events: events ?? { record: () => {} },
    metrics,
    logger: log,
    recheckMs: config.healthRecheckMs,
    // What a revert's tag names now, asked as the reconcile asks (the workload's credentials).
    tagDigest: async (w, image) => {
      const ref = parseReference(image);
      const [host, path] = splitRepository(referenceRepository(ref));
      const served = await verifier.verify(host, path, currentTag(ref)!, await credentialsOf(w), {
        signal: stopping.signal,
      });
      return served?.digest;
    },
  });
  const held = heldReporter(events, (key) => cache.get(key) !== undefined);
  metrics.registry.add(
    new LabelledGauge(
      "argoos_updates_pending",
      "Containers whose chosen update waits for a gate, by gate.",
      held.pendingByGate,
    ),
  );
  const reconciler = new Reconciler({
    cache,
    facts,
    verifier,
    rollout,
    credentialsOf,
    runningDigestsOf: (w) => runningDigests(client, w, (pods) => decisions?.sawPods(w, pods)),
    logger: log,
    events,
    signal: stopping.signal,
    tracker,
    recheckMs: config.healthRecheckMs,
    onPlan: decisions && ((w, plan) => decisions.planned(w, plan.verdicts)),
    gates: new Gates({ defaults: config.gates, onHeld: held.onHeld }),
    now: deps.now,
  });
  const rejections = new Rejections({
    metrics,
    events,
    logger: log,
    workloadOf: (key) => cache.get(key),
  });
  // The cache's handler above enqueues into it; it is only called once the cache starts.
  const queue = new WorkQueue<ReconcileResult>({
    // A final registry failure is reported here and retried with back-off like any failure.
    reconcile: async (key) => {
      try {
        const result = await reconciler.reconcile(key);
        rejections.finished(key);
        return result;
      } catch (err) {
        rejections.failed(key, err);
        throw err;
      }
    },
    ...deps.backoff,
    // A refused write (admission) is retried with back-off; new facts retry it at once.
    retry: (result) => result.outcome === "refused",
    requeueAfter: (result) => result.afterMs,
    retryWithin: owedLookMs,
    onRetry: (key, delayMs, cause) =>
      log.debug("reconcile retried later", {
        workload: key,
        retryInMs: delayMs,
        ...(cause instanceof Error ? { error: cause } : { outcome: cause }),
      }),
  });
  metrics.registry.add(
    new Gauge("argoos_queue_keys", "Workload keys waiting in the work queue.", () => queue.length),
  );
  const ready = () => cache.isWatching;

  const token = config.token !== undefined
    ? fixedToken(config.token)
    : config.tokenFile !== undefined
    ? await FileToken.open(config.tokenFile, {
      onError: (error) => log.error("token file unusable: refusing every delivery", { error }),
    })
    : undefined;
  const hooks = {
    token,
    aliases: config.aliases,
    deliver: (pushes: RecordedPush[], deadlineMs: number) =>
      deliverPushes({ facts, cache, queue }, pushes, deadlineMs),
    ready,
    logger: log,
    deadlineMs: config.deliveryDeadlineMs,
    onDelivery: (route: string, outcome: DeliveryOutcome, seconds: number) => {
      noteWork();
      metrics.deliveries.inc({ route, outcome });
      // argoos_events_total keeps counting POST /event alone, as before the other routes.
      if (route === "distribution") metrics.events.inc({ outcome });
      metrics.webhookLatency.observe(seconds);
    },
    onRefused: (reason: string) => metrics.refusals.inc({ reason }),
  };
  // Every receiver route, or none in poll-only mode: over `Request`, and over the bytes the
  // front received whole (its fast path, for deliveries).
  const deliveries = new Map(
    config.webhook ? RECEIVER_ROUTES.map((r) => [r.source, deliveryHandler(r, hooks)]) : [],
  );
  const webhooks = new Map([...deliveries].map(([source, d]) => [source, requestHandler(d)]));
  if (webhooks.size && token === undefined) {
    log.warn(
      "NO TOKEN SET: anyone who can reach the /event routes can trigger rollouts; set TOKEN or --token",
    );
  }

  let lease: LeaseLock | undefined;
  let poller: Poller | undefined;
  if (config.pollIntervalMs > 0) {
    const { Poller } = await import("../poll/poller.ts");
    if (config.leader.enabled) {
      const { LeaseLock } = await import("../leader/lease_lock.ts");
      lease = new LeaseLock(client, {
        namespace: config.leader.namespace,
        name: config.leader.name,
        identity: config.leader.identity,
        leaseDurationMs: config.leader.leaseDurationMs,
        logger: log,
      });
    }
    poller = new Poller({
      cache,
      registry,
      facts,
      enqueue: (key) => queue.add(key),
      credentialsOf,
      intervalMs: config.pollIntervalMs,
      isLeader: lease ? () => lease!.isLeader() : undefined,
      logger: log,
      onListingRefused: listingRefusals(events),
      onCycle: (s) => {
        noteWork();
        metrics.pollCycle.observe(s.seconds);
        // A plugin or helper still failing is reported again next cycle.
        external?.newCycle();
      },
    });
  }

  const statusToken = config.status?.token !== undefined
    ? fixedToken(config.status.token, "the status token")
    : config.status?.tokenFile !== undefined
    ? await FileToken.open(config.status.tokenFile, {
      onError: (error) => log.error("status token file unusable: refusing every view", { error }),
    })
    : undefined;
  if (config.status && !statusToken) {
    log.warn("STATUS PAGE OPEN: anyone who reaches /status sees every labelled workload");
  }
  const handler = routes({
    webhooks,
    ready,
    metrics: () => metrics.registry.render(),
    status: decisions && statusPage?.statusHandler({ cache, decisions, token: statusToken }),
  });
  const cap = new InFlightCap();
  const onCut = (why: CutReason | UploadCutReason | "busy") => metrics.abortedUploads.inc({ why });
  const guarded = guardHandler(handler, { logger: log, onCut, cap });
  const fast = fastRoutes({
    deliveries,
    admit: guardFast({ cap, logger: log, onCut }),
  });
  const serve = (hostname: string) =>
    serveFront({
      hostname,
      port: config.listen.port,
      tls: config.serverTls,
      onCut,
      fast,
    }, guarded);
  let server: FrontServer;
  try {
    try {
      server = serve(config.listen.hostname);
    } catch (err) {
      // `::` (all addresses, the default) fails where IPv6 is turned off: serve IPv4 then.
      if (config.listen.hostname !== "::" || err instanceof Deno.errors.AddrInUse) throw err;
      log.warn("cannot serve on [::], IPv6 is off here: serving on 0.0.0.0", { error: err });
      server = serve("0.0.0.0");
    }
  } catch (err) {
    throw new ListenError(config.listen, config.serverTls !== undefined, err);
  }
  const scheme = config.serverTls ? "https" : "http";
  const { hostname, port } = server.addr;
  const url = `${scheme}://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;

  cache.start();
  // The start-up listing is the first burst of work.
  cache.synced.then(() => stopping.signal.aborted || noteWork());
  lease?.start();
  poller?.start();
  if (!linearEngineAvailable()) {
    log.warn(
      `tag patterns are refused: start Argoos with --v8-flags=${LINEAR_ENGINE_FLAG} to use them`,
    );
  }
  log.info("argoos started", {
    url,
    cluster: client.connection.description,
    webhook: webhooks.size > 0,
    pollIntervalMs: config.pollIntervalMs,
    dryRun: config.dryRun,
    revert: config.revert,
    namespaces: config.namespaces.length ? config.namespaces : "all",
    // Sinks by name and format: their URLs are credentials.
    notify: sinks.map((s) => `${s.name} (${s.format}${s.secret ? ", signed" : ""})`),
    status: !config.status ? "off" : statusToken ? "token" : "open",
  });

  let stopped: Promise<void> | undefined;
  return {
    url,
    cache,
    metrics,
    queue,
    poller,
    lease,
    stop: () =>
      stopped ??= (async () => {
        log.info("stopping: draining requests in flight");
        await server.shutdown();
        await poller?.stop();
        await queue.stop();
        stopping.abort();
        afterWork.stop();
        await lease?.stop();
        await cache.stop();
        await events?.flush();
        await notifier?.stop();
        registry.close();
        if (!deps.client) client.connection.close();
        log.info("stopped");
      })(),
  };
}
