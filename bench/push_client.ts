/**
 * The benchmarks' webhook client: a distribution push notification for a seeded repository
 * of the fake cluster, sent until it is answered 200, as a registry sends it.
 *
 * @module
 */

import { pooledFetch } from "../lib/io/pooled_fetch.ts";
import { seededDigest, seededName } from "./fake_cluster_process.ts";

/**
 * Sends pushes of seeded tags to one Argoos, counting what it had to send again.
 *
 * @example
 * ```ts ignore
 * import { PushClient } from "./push_client.ts";
 * const client = new PushClient("http://127.0.0.1:3000", "token", "127.0.0.1:5000");
 * await client.push(7, 1); // app-7:1.0.1
 * client.retried; // 0
 * client.close();
 * ```
 */
export class PushClient {
  /** `503` answers and failed connections met so far, each sent again. */
  retried = 0;
  /** Argoos's own HTTP client, which the bare work's registry and API clients use too. */
  readonly #fetch = pooledFetch();

  constructor(readonly url: string, readonly token: string, readonly registry: string) {}

  /** Deliver the push of `1.0.<patch>` of the i-th seeded repository; resolves once answered 200. */
  async push(i: number, patch: number): Promise<void> {
    const body = JSON.stringify({
      events: [{
        id: `bench-${i}-1.0.${patch}`,
        timestamp: new Date().toISOString(),
        action: "push",
        target: {
          mediaType: "application/vnd.docker.distribution.manifest.v2+json",
          repository: seededName(i),
          digest: seededDigest(i, patch),
          tag: `1.0.${patch}`,
        },
        request: { host: this.registry },
      }],
    });
    let failedConnections = 0;
    for (;;) {
      const res = await this.#fetch(`${this.url}/event`, {
        method: "POST",
        headers: {
          "content-type": "application/vnd.docker.distribution.events.v1+json",
          "x-argoos-token": this.token,
        },
        body,
      }).catch((err) => {
        // A connection refused (a pooled client at 32 in flight opens a 33rd now and then,
        // answered 503 before a request is sent) or closed as it was reused (the service ends
        // idle connections at their deadlines) is tried again, as a registry does, a few times.
        if (++failedConnections <= 5) return undefined;
        throw err;
      });
      const text = await res?.text();
      if (res?.status === 200) return;
      // A 503 (the cap on deliveries at once, which a client running at it can meet, or
      // reconciles not finished in time on a loaded machine) is sent again, as a registry
      // does (without its back-off, which would only idle).
      if (!res || res.status === 503) {
        this.retried++;
        continue;
      }
      throw new Error(`push of ${seededName(i)}:1.0.${patch} answered ${res.status}: ${text}`);
    }
  }

  /** Closes its connections. */
  close(): void {
    this.#fetch.close();
  }
}
