// A small app recording audit events with @trailproof/client: middleware fills actor and request
// context, handlers record only action and targets, authorize() records allowed and denied decisions.
import http from 'node:http';
import { TrailproofClient, authorize, expressAudit } from '@trailproof/client';

const audit = new TrailproofClient({
  url: process.env.TRAILPROOF_URL ?? 'http://127.0.0.1:3700',
  apiKey: process.env.TRAILPROOF_KEY,
  onError: (err) => console.error(`audit: ${err.code} ${err.message}`),
});

// The signed-in user would come from the app's session; here from a header, for the demo.
const withAudit = expressAudit({ actor: (req) => ({ type: 'user', id: req.headers['x-user'] ?? 'anonymous' }), trustProxy: 1 });

const server = http.createServer((req, res) =>
  withAudit(req, res, async () => {
    const [, resource, id, verb] = req.url.split('/');
    if (req.method === 'POST' && resource === 'invoices' && verb === 'pay') {
      audit.record({ action: 'invoice.paid', targets: [{ type: 'invoice', id }] });
      return res.writeHead(204).end();
    }
    if (req.method === 'DELETE' && resource === 'invoices') {
      const allowed = await authorize(audit, { action: 'invoice.delete', targets: [{ type: 'invoice', id }], allowed: req.headers['x-user'] === 'admin' });
      return res.writeHead(allowed ? 204 : 403).end();
    }
    res.writeHead(404).end();
  }),
);

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => console.log(`listening ${server.address().port}`));

// On shutdown, send what is queued before exiting.
process.on('SIGTERM', () => server.close(async () => {
  await audit.close({ timeoutMs: 10_000 });
  process.exit(0);
}));
