/**
 * A lifecycle run through the API, to its end: `POST /v1/lifecycle/run` starts it (202), and
 * `GET /v1/lifecycle/runs/{id}?wait=` follows it until it is no longer running.
 */
import type { TestApp } from './app.ts';

export async function runLifecycle(t: Pick<TestApp, 'request'>, options: { key?: string | null; body?: unknown } = {}): Promise<any> {
  const started = await t.request('POST', '/v1/lifecycle/run', options);
  if (started.statusCode !== 202) throw new Error(`POST /v1/lifecycle/run: ${started.statusCode} ${started.body}`);
  const { id } = started.json() as { id: string };
  if (started.headers.location !== `/v1/lifecycle/runs/${id}`) throw new Error(`the run's Location is ${String(started.headers.location)}`);
  for (;;) {
    const res = await t.request('GET', `/v1/lifecycle/runs/${id}?wait=30`, options.key === undefined ? {} : { key: options.key });
    if (res.statusCode !== 200) throw new Error(`GET /v1/lifecycle/runs/${id}: ${res.statusCode} ${res.body}`);
    const run = res.json() as { status: string };
    if (run.status !== 'running') return run;
  }
}
