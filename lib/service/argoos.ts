/**
 * A running Argoos: the workload cache, the triggers (webhook, poll loop with its leader
 * election, cache watch) feeding facts and the work queue, the reconciler and its write path,
 * and the HTTP server, wired together.
 *
 * @module
 */

import { EventRecorder } from "../events/recorder.ts";
import { KubeHealthSource } from "../health/cluster_source.ts";
import { RolloutTracker } from "../health/tracker.ts";
import { KubeClient } from "../kube/client.ts";
import { resolveConnection } from "../kube/connection.ts";
import { LeaseLock } from "../leader/lease_lock.ts";
import { Logger } from "../log/logger.ts";
import { ArgoosMetrics } from "../metrics/argoos_metrics.ts";
import { Gauge } from "../metrics/registry.ts";
import { POLICY_LABEL } from "../policy/policy.ts";
import { LINEAR_ENGINE_FLAG, linearEngineAvailable } from "../policy/pattern.ts";
import { rulesOf } from "../policy/rules.ts";
import { Poller } from "../poll/poller.ts";
import { deliverPushes } from "../reconcile/deliver.ts";
import { type RecordedPush, RepositoryFacts } from "../reconcile/facts.ts";
import { WorkQueue } from "../reconcile/queue.ts";
import { type ReconcileOutcome, Reconciler } from "../reconcile/reconciler.ts";
import { TagVerifier } from "../reconcile/verify.ts";
import { RegistryClient } from "../registry/client.ts";
import { CredentialHelpers, parseCredentialHelpers } from "../registry/credential_helper.ts";
import { CredentialProviders } from "../registry/credential_provider.ts";
import { ExternalCredentials } from "../registry/credential_source.ts";
import { parseDockerConfig } from "../registry/credentials.ts";
import { dnsResolver } from "../registry/host_policy.ts";
import { Rollout } from "../rollout/rollout.ts";
import { type FrontServer, serveFront } from "../server/front.ts";
import { guardHandler } from "../server/guard.ts";
import { routes } from "../server/routes.ts";
import { type DeliveryOutcome, webhookHandler } from "../webhook/handler.ts";
import { RECEIVER_ROUTES } from "../webhook/sources/routes.ts";
import { FileToken, fixedToken } from "../webhook/token.ts";
import { WorkloadCache } from "../workloads/cache.ts";
import { runningDigests } from "../workloads/running.ts";
import { type Workload, workloadKey } from "../workloads/workload.ts";
import type { ArgoosConfig } from "./config.ts";
import { workloadCredentials } from "./credentials.ts";
import { reporter } from "./reporting.ts";

/** Parts a caller (tests, benchmarks, embedders) may supply instead of the defaults. */
export interface ArgoosDeps {
  client?: KubeClient;
  registry?: RegistryClient;
  logger?: Logger;
}

/** A started service. */
export interface Argoos {
  /** Base URL the server listens on, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  readonly cache: WorkloadCache;
  readonly metrics: ArgoosMetrics;
  /** The work queue of workload keys (reconcile one with `queue.add(key)`). */
  readonly queue: WorkQueue<ReconcileOutcome>;
  readonly poller?: Poller;
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
  override name = "ListenError";
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
  const events = config.events && !config.dryRun
    ? new EventRecorder(client, { instance: config.leader.identity, logger: log })
    : undefined;

  const registry = deps.registry ?? new RegistryClient({
    insecureHosts: config.registry.insecureHosts,
    allow: config.registry.allow,
    resolve: dnsResolver,
    mirrors: config.registry.mirrors,
    caCert: config.registry.caCert,
    logger: log,
  });
  registry.onRequest = ({ host, status }) =>
    metrics.registryRequests.inc({ host, status: String(status) });
  const stopping = new AbortController();
  const facts = new RepositoryFacts();
  const { dockerConfig, credentialProviders, mirrors } = config.registry;
  const helpers = dockerConfig ? parseCredentialHelpers(dockerConfig) : undefined;
  const external = credentialProviders || helpers?.credsStore || helpers?.credHelpers.size
    ? new ExternalCredentials({
      providers: credentialProviders &&
        new CredentialProviders(credentialProviders.providers, {
          binDir: credentialProviders.binDir,
        }),
      helpers: helpers && new CredentialHelpers(helpers),
      logger: log,
    })
    : undefined;
  const credentialsOf = workloadCredentials({
    client,
    dockerCredentials: dockerConfig ? parseDockerConfig(dockerConfig) : undefined,
    external,
    mirrors,
    logger: log,
  });

  const cache = new WorkloadCache(client, {
    kinds: config.kinds,
    namespaces: config.namespaces,
    logger: log,
    onUpsert: (w, previous) => {
      if (decidesDiffer(w, previous)) {
        queue.add(workloadKey(w.kind.type.kind, w.namespace, w.name)).catch(() => {});
      }
      // Reported once: when the errors differ from those of the version the cache held (no
      // record to keep, so nothing outlives the workload); left alone by the reconcile until fixed.
      const { errors } = rulesOf(w);
      if (errors.length === 0) return;
      if (previous && JSON.stringify(rulesOf(previous).errors) === JSON.stringify(errors)) return;
      for (const e of errors) {
        log.warn("invalid policy", {
          workload: `${w.kind.type.kind} ${w.namespace}/${w.name}`,
          key: e.key,
          value: e.value,
          reason: e.reason,
        });
        const what = e.key === POLICY_LABEL ? "label" : "annotation";
        const message = `${what} ${e.key}=${JSON.stringify(e.value)}: ${e.reason}`;
        events?.record({ workload: w, reason: "InvalidPolicy", type: "Warning", message });
      }
    },
  });
  metrics.registry.add(
    new Gauge("argoos_cache_workloads", "Labelled workloads in the cache.", () => cache.size),
  );
  const rollout = new Rollout({
    client,
    cache,
    logger: log,
    dryRun: config.dryRun,
    onReport: reporter(metrics, events),
  });
  // Follows each rollout Argoos makes, through the same queue and write path.
  const tracker = new RolloutTracker(new KubeHealthSource(client), rollout, {
    revert: config.revert,
    dryRun: config.dryRun,
    events: events ?? { record: () => {} },
    metrics,
    logger: log,
    recheckMs: config.healthRecheckMs,
  });
  const reconciler = new Reconciler({
    cache,
    facts,
    verifier: new TagVerifier(registry),
    rollout,
    credentialsOf,
    runningDigestsOf: (w) => runningDigests(client, w),
    logger: log,
    signal: stopping.signal,
    tracker,
    followUp: (key, delayMs) => queue.addAfter(key, delayMs),
    recheckMs: config.healthRecheckMs,
  });
  // The cache's handler above enqueues into it; it is only called once the cache starts.
  const queue = new WorkQueue<ReconcileOutcome>({
    reconcile: (key) => reconciler.reconcile(key),
    // A refused write (admission) is retried with back-off; new facts retry it at once.
    retry: (outcome) => outcome === "refused",
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
      metrics.deliveries.inc({ route, outcome });
      // argoos_events_total keeps counting POST /event alone, as before the other routes.
      if (route === "distribution") metrics.events.inc({ outcome });
      metrics.webhookLatency.observe(seconds);
    },
    onRefused: (reason: string) => metrics.refusals.inc({ reason }),
  };
  // Every receiver route, or none in poll-only mode.
  const webhooks = new Map(
    config.webhook ? RECEIVER_ROUTES.map((r) => [r.source, webhookHandler(r, hooks)]) : [],
  );
  if (webhooks.size && token === undefined) {
    log.warn(
      "NO TOKEN SET: anyone who can reach the /event routes can trigger rollouts; set TOKEN or --token",
    );
  }

  let lease: LeaseLock | undefined;
  let poller: Poller | undefined;
  if (config.pollIntervalMs > 0) {
    if (config.leader.enabled) {
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
      onCycle: (s) => {
        metrics.pollCycle.observe(s.seconds);
        // A plugin or helper still failing is reported again next cycle.
        external?.newCycle();
      },
    });
  }

  const handler = routes({
    webhooks,
    ready,
    metrics: () => metrics.registry.render(),
  });
  const guarded = guardHandler(handler, {
    logger: log,
    onCut: (why) => metrics.abortedUploads.inc({ why }),
  });
  const serve = (hostname: string) =>
    serveFront({
      hostname,
      port: config.listen.port,
      tls: config.serverTls,
      onCut: (why) => metrics.abortedUploads.inc({ why }),
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
        await lease?.stop();
        await cache.stop();
        await events?.flush();
        registry.close();
        if (!deps.client) client.connection.close();
        log.info("stopped");
      })(),
  };
}

/**
 * Whether a change seen by the cache touches what Argoos decides from: new, the policy label,
 * an `argoos.io/` annotation or an image. Status updates and the rest enqueue nothing.
 */
function decidesDiffer(w: Workload, previous: Workload | undefined): boolean {
  if (!previous) return true;
  if (previous.policyLabel !== w.policyLabel) return true;
  const [was, is] = [previous.containers, w.containers];
  if (was.length !== is.length) return true;
  if (was.some((c, i) => c.name !== is[i].name || c.image !== is[i].image)) return true;
  // The cache keeps only `argoos.io/` annotations (see readWorkload). Compared key by key:
  // serialising them (the state and health records are the largest) cost 2% of a delivery.
  const [before, after] = [previous.annotations, w.annotations];
  const keys = Object.keys(after);
  if (keys.length !== Object.keys(before).length) return true;
  return keys.some((k) => before[k] !== after[k]);
}
