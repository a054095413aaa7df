/**
 * The contract every destination kind keeps, run by each kind's test file against a real receiver
 * (HTTPS server, rsyslog, s3rver): batches arrive complete and in order, an unreachable receiver
 * and (for kinds with an acknowledgement) a receiver that never answers make `deliver` reject with
 * STREAM_DELIVERY_FAILED within the timeout, and the destination delivers again afterwards.
 * Test support only.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../event/types.ts';
import { EVENT_FORMATS } from '../export/formats.ts';
import { freePort } from '../../test/helpers/server-process.ts';
import type { Destination } from './destination.ts';
import { sampleEvents } from './testing/sample-events.ts';

export interface ContractReceiver {
  /** The format the destinations are created with. */
  format: string;
  /** A destination pointed at the receiver. */
  destination(): Destination;
  /** The same kind and settings, pointed at another address. */
  destinationAt(host: string, port: number): Destination;
  /** uids of the events the receiver got, in arrival order, once it has at least `count` (or a timeout). */
  receivedUids(count: number): Promise<string[]>;
  close(): Promise<void>;
}

export interface ContractOptions {
  /** Whether the receiver acknowledges batches (HTTP, S3); syslog over TCP has no acknowledgement. */
  acknowledges: boolean;
}

export function testDestination(name: string, start: () => Promise<ContractReceiver>, options: ContractOptions): void {
  describe(`destination contract: ${name}`, () => {
    let receiver: ContractReceiver;
    beforeAll(async () => {
      receiver = await start();
    }, 60_000);
    afterAll(() => receiver?.close());

    const batch = (events: StoredEvent[]) => {
      const format = EVENT_FORMATS.get(receiver.format)!;
      return { records: events.map((e) => format.record(e)), events };
    };

    it('delivers batches complete and in order', async () => {
      const destination = receiver.destination();
      const first = sampleEvents(0, 25);
      const second = sampleEvents(25, 40);
      await destination.deliver(batch(first), AbortSignal.timeout(10_000));
      await destination.deliver(batch(second), AbortSignal.timeout(10_000));
      await destination.close();
      expect(await receiver.receivedUids(65)).toEqual([...first, ...second].map((e) => e.uid));
    });

    it('rejects with STREAM_DELIVERY_FAILED when the receiver is unreachable', async () => {
      const destination = receiver.destinationAt('127.0.0.1', await freePort());
      await expect(destination.deliver(batch(sampleEvents(100, 3)), AbortSignal.timeout(5_000))).rejects.toMatchObject({ code: 'STREAM_DELIVERY_FAILED' });
      await destination.close();
    });

    if (options.acknowledges) {
      it('rejects within the timeout when the receiver accepts the connection but never answers', async () => {
        const silent = net.createServer(() => {});
        await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
        const destination = receiver.destinationAt('127.0.0.1', (silent.address() as net.AddressInfo).port);
        const started = Date.now();
        await expect(destination.deliver(batch(sampleEvents(200, 3)), AbortSignal.timeout(500))).rejects.toMatchObject({ code: 'STREAM_DELIVERY_FAILED' });
        expect(Date.now() - started).toBeLessThan(5_000);
        await destination.close();
        silent.close();
      });
    }
  });
}
