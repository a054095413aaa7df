// An Express app on PostgreSQL recording audit events with @trailproof/client, each way it offers:
// - the middleware puts the actor and request context in scope, so call sites name only what happened;
// - the transactional outbox: an event written in the business transaction exists iff it commits;
// - audit.record() for events that need no transaction, authorize() for access decisions;
// - the pino tee: log lines of the `audit` level become events, ordinary lines stay logs.
import express from 'express';
import pino from 'pino';
import postgres from 'postgres';
import { OutboxRelay, PostgresOutbox, TrailproofClient, auditTee, authorize, expressAudit } from '@trailproof/client';

const trailproof = { url: process.env.TRAILPROOF_URL ?? 'http://127.0.0.1:3700', apiKey: process.env.TRAILPROOF_KEY };
const onError = (err) => console.error(`audit: ${err.code} ${err.message}`);

const sql = postgres(process.env.DATABASE_URL, { onnotice() {} });
const audit = new TrailproofClient({ ...trailproof, onError });
const logger = pino({ customLevels: { audit: 35 } }, auditTee(audit, { to: pino.destination(1) }));

await sql`create table if not exists invoices (id text primary key, amount integer not null, paid_at timestamptz)`;
const outbox = new PostgresOutbox((text, params) => sql.unsafe(text, params));
await outbox.install();
const relay = new OutboxRelay(outbox, { ...trailproof, onError });
relay.start();

const app = express();
app.use(express.json());
// The signed-in user would come from the app's session; here from a header, for the demo.
app.use(expressAudit({ actor: (req) => ({ type: 'user', id: req.get('x-user') ?? 'anonymous' }), trustProxy: 1 }));

app.post('/invoices', async (req, res) => {
  const { id, amount } = req.body;
  try {
    await sql.begin(async (tx) => {
      await tx`insert into invoices (id, amount) values (${id}, ${amount})`;
      await outbox.write((text, params) => tx.unsafe(text, params), { action: 'invoice.created', targets: [{ type: 'invoice', id }], metadata: { amount } });
    });
  } catch (err) {
    // The transaction rolled back, and with it the event.
    if (err.code === '23505') return res.status(409).json({ error: 'invoice exists' });
    throw err;
  }
  res.status(201).json({ id });
});

app.post('/invoices/:id/pay', async (req, res) => {
  const [paid] = await sql`update invoices set paid_at = now() where id = ${req.params.id} and paid_at is null returning id`;
  if (!paid) return res.status(404).end();
  audit.record({ action: 'invoice.paid', targets: [{ type: 'invoice', id: paid.id }] });
  res.status(204).end();
});

app.get('/invoices/:id', async (req, res) => {
  const [invoice] = await sql`select id, amount, paid_at from invoices where id = ${req.params.id}`;
  if (!invoice) return res.status(404).end();
  logger.info({ invoice: invoice.id }, 'invoice read'); // an ordinary log line
  logger.audit({ action: 'invoice.viewed', targets: [{ type: 'invoice', id: invoice.id }] }, 'invoice viewed');
  res.json(invoice);
});

app.delete('/invoices/:id', async (req, res) => {
  const allowed = await authorize(audit, { action: 'invoice.delete', targets: [{ type: 'invoice', id: req.params.id }], allowed: req.get('x-user') === 'admin' });
  if (!allowed) return res.status(403).end();
  await sql`delete from invoices where id = ${req.params.id}`;
  res.status(204).end();
});

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => console.log(`listening ${server.address().port}`));

// On shutdown: stop taking requests, relay the outbox, send what is queued, then close the pool.
process.on('SIGTERM', () =>
  server.close(async () => {
    await relay.stop();
    await relay.drain();
    await new Promise((resolve) => logger.flush(resolve));
    await audit.close({ timeoutMs: 10_000 });
    await sql.end();
    process.exit(0);
  }),
);
