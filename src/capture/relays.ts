/** The service's capture relays: one per application database of TRAILPROOF_CAPTURE_DATABASE_URL. */
import type { Logger } from 'pino';
import type { Secret } from '../config.ts';
import type { GroupCommitter } from '../ingest/group-commit.ts';
import type { Metrics } from '../metrics.ts';
import { connect, type Sql } from '../store/db.ts';
import { CaptureRelay, type RelaySourceStatus, sourceName } from './relay.ts';

export class CaptureRelays {
  private readonly relays: { relay: CaptureRelay; app: Sql }[];

  constructor(urls: Secret[], committer: GroupCommitter, options: { metrics?: Metrics; logger?: Logger } = {}) {
    this.relays = urls.map((url) => {
      // A batch is one transaction; the second connection serves the metrics' reads.
      const app = connect(url.reveal(), { max: 2, name: 'trailproof-capture-relay' });
      const relay = new CaptureRelay({ app, append: (items) => committer.append(items), source: sourceName(url.reveal()), ...options });
      return { relay, app };
    });
  }

  get size(): number {
    return this.relays.length;
  }

  /** Each relay's outbox and progress for `tenant`. */
  status(tenant: string): Promise<RelaySourceStatus[]> {
    return Promise.all(this.relays.map(({ relay }) => relay.status(tenant)));
  }

  start(): void {
    for (const { relay } of this.relays) relay.start();
  }

  /** Stops after the batches in flight, and closes the connections to the applications' databases. */
  async stop(): Promise<void> {
    await Promise.all(
      this.relays.map(async ({ relay, app }) => {
        await relay.stop();
        await app.end({ timeout: 5 });
      }),
    );
  }
}
