/**
 * Leader election through a `coordination.k8s.io/v1` Lease, so that of several
 * replicas only one polls registries while all of them serve the webhook.
 *
 * @module
 */

import { Loop } from "../async/loop.ts";
import type { KubeClient } from "../kube/client.ts";
import { KubeApiError } from "../kube/errors.ts";
import { LEASES } from "../kube/resource.ts";
import { type Logger, silentLogger } from "../log/logger.ts";
import type { Lease } from "kubernetes-types/coordination/v1.d.ts";

/** Options of {@linkcode LeaseLock}. */
export interface LeaseLockOptions {
  namespace: string;
  name: string;
  identity: string;
  /** How long a Lease holds without renewal. Default 15 s. */
  leaseDurationMs?: number;
  /** How often to try to acquire or renew. Default a fifth of the duration. */
  retryPeriodMs?: number;
  logger?: Logger;
  onChange?: (leading: boolean) => void;
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
const microTime = (ms: number) => new Date(ms).toISOString().replace(/Z$/, "000Z");

/**
 * Acquires and renews a Lease; {@linkcode LeaseLock.isLeader} tells whether
 * this replica holds it. Expiry is judged by when this replica last saw the
 * record change, on its own clock, so clock skew between nodes does not matter.
 *
 * @example
 * ```ts ignore
 * import { LeaseLock } from "./lease_lock.ts";
 * const lock = new LeaseLock(client, { namespace: "argoos", name: "argoos-poller", identity: "pod-a" });
 * lock.start();
 * lock.isLeader();
 * await lock.stop(); // releases the Lease for a quick hand-over
 * ```
 */
export class LeaseLock {
  #client: KubeClient;
  #opts: Required<Omit<LeaseLockOptions, "logger" | "onChange">>;
  #log: Logger;
  #onChange?: (leading: boolean) => void;
  #leading = false;
  #leaseUntil = 0;
  #observed?: { record: string; at: number };
  #loop: Loop = new Loop({ turn: () => this.#turn(), pauseMs: () => this.#opts.retryPeriodMs });

  /** A lock on one Lease; nothing happens before {@linkcode LeaseLock.start}. */
  constructor(client: KubeClient, opts: LeaseLockOptions) {
    const duration = opts.leaseDurationMs ?? 15_000;
    this.#client = client;
    this.#opts = {
      namespace: opts.namespace,
      name: opts.name,
      identity: opts.identity,
      leaseDurationMs: duration,
      retryPeriodMs: opts.retryPeriodMs ?? Math.max(200, Math.floor(duration / 5)),
    };
    this.#log = (opts.logger ?? silentLogger).with({ component: "leader", lease: opts.name });
    this.#onChange = opts.onChange;
  }

  /** Whether this replica holds the Lease now (and its last renewal is still in force). */
  isLeader(): boolean {
    return this.#leading && Date.now() < this.#leaseUntil;
  }

  /** Start trying to acquire, then renewing. */
  start(): void {
    this.#loop.start();
  }

  /** Stop, and release the Lease if held, so another replica takes over at once. */
  async stop(): Promise<void> {
    await this.#loop.stop();
    if (!this.#leading) return;
    this.#setLeading(false);
    try {
      const lease = await this.#client.get<Lease>(LEASES, this.#opts.namespace, this.#opts.name);
      if (lease.spec?.holderIdentity !== this.#opts.identity) return;
      lease.spec = { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1 };
      await this.#client.replace(LEASES, this.#opts.namespace, this.#opts.name, lease);
      this.#log.info("released lease");
    } catch (err) {
      this.#log.warn("could not release lease", { error: err });
    }
  }

  async #turn(): Promise<void> {
    try {
      await this.#tryAcquireOrRenew();
    } catch (err) {
      this.#log.warn("lease update failed", { error: err });
    }
    if (this.#leading && Date.now() >= this.#leaseUntil) this.#setLeading(false);
  }

  async #tryAcquireOrRenew(): Promise<void> {
    const { namespace, name, identity, leaseDurationMs } = this.#opts;
    const now = Date.now();
    const spec = (prev?: Lease["spec"]) => ({
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
      acquireTime: prev?.holderIdentity === identity && prev.acquireTime
        ? prev.acquireTime
        : microTime(now),
      renewTime: microTime(now),
      // Taking over a released Lease (holder "") is a transition too, as in client-go.
      leaseTransitions: (prev?.leaseTransitions ?? 0) +
        (prev && prev.holderIdentity !== identity ? 1 : 0),
    });
    let lease: Lease;
    try {
      lease = await this.#client.get<Lease>(LEASES, namespace, name);
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) throw err;
      await this.#write(() =>
        this.#client.create(LEASES, namespace, {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name, namespace },
          spec: spec(),
        }), now);
      return;
    }
    const record = JSON.stringify(lease.spec ?? {});
    if (this.#observed?.record !== record) this.#observed = { record, at: now };
    const holder = lease.spec?.holderIdentity ?? "";
    const heldFor = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    const expired = holder === "" || now - this.#observed.at >= heldFor;
    if (holder !== identity && !expired) {
      if (this.#leading) this.#setLeading(false);
      return;
    }
    await this.#write(
      () => this.#client.replace(LEASES, namespace, name, { ...lease, spec: spec(lease.spec) }),
      now,
    );
  }

  async #write(write: () => Promise<unknown>, now: number): Promise<void> {
    try {
      await write();
    } catch (err) {
      // Another replica wrote first: it leads; we look again next period.
      if (err instanceof KubeApiError && err.status === 409) return;
      throw err;
    }
    this.#leaseUntil = now + this.#opts.leaseDurationMs;
    if (!this.#leading) this.#setLeading(true);
  }

  #setLeading(leading: boolean): void {
    this.#leading = leading;
    this.#log.info(leading ? "became leader" : "stopped leading", {
      identity: this.#opts.identity,
    });
    this.#onChange?.(leading);
  }
}
