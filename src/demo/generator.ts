/**
 * Realistic demo events: logins and failed logins (with bursts from one address), document reads,
 * updates with before/after changes, exports, role changes and API key use, from a cast of users
 * over a time range. Deterministic for a seed, so benchmarks are repeatable.
 */
import type { EventBody } from '../event/types.ts';

export interface DemoOptions {
  /** First and last instants of occurred_at. */
  from: Date;
  to: Date;
  seed?: number;
}

const FIRST = [
  'alice',
  'bob',
  'carol',
  'dave',
  'erin',
  'frank',
  'grace',
  'heidi',
  'ivan',
  'judy',
  'mallory',
  'niaj',
  'olivia',
  'peggy',
  'rupert',
  'sybil',
  'trent',
  'victor',
  'walter',
  'zara',
];
const DOCS = [
  'q3-forecast',
  'board-minutes',
  'payroll-2026',
  'customer-list',
  'roadmap',
  'security-policy',
  'contract-acme',
  'pricing',
  'incident-42',
  'hr-handbook',
];
const ROLES = ['viewer', 'editor', 'admin', 'billing', 'owner'];
const AGENTS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0 Safari/537.36',
  'curl/8.5.0',
  'trailproof-sdk/0.1 node/20',
];
const PLACES = ['Berlin, DE', 'Austin, US', 'London, GB', 'Lagos, NG', 'Tokyo, JP', 'São Paulo, BR'];

/** A small fast PRNG (mulberry32): demo data needs speed and repeatability, not secrecy. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function demoEvents(count: number, options: DemoOptions): Generator<EventBody> {
  return generate(count, options);
}

function* generate(count: number, options: DemoOptions): Generator<EventBody> {
  const random = rng(options.seed ?? 42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const start = options.from.getTime();
  const span = Math.max(1, options.to.getTime() - start);
  const users = Array.from({ length: 200 }, (_, i) => ({
    id: `user_${i}`,
    name: `${FIRST[i % FIRST.length]!} ${String.fromCharCode(65 + (i % 26))}.`,
    ip: `10.${i % 8}.${(i * 7) % 250}.${(i * 13) % 250}`,
    ua: AGENTS[i % AGENTS.length]!,
    place: PLACES[i % PLACES.length]!,
  }));
  for (let i = 0; i < count; i++) {
    // Spread evenly over the range, in time order, with jitter.
    const at = new Date(start + Math.floor(((i + random()) / count) * span)).toISOString();
    const user = users[Math.floor(random() ** 1.6 * users.length)]!;
    const context = { ip: user.ip, user_agent: user.ua, location: user.place, request_id: `req_${i.toString(36)}` };
    const actor = { type: 'user' as const, id: user.id, name: user.name };
    const roll = random();
    const doc = pick(DOCS);
    const document = { type: 'document', id: `doc_${doc}`, name: doc };
    if (roll < 0.25) yield { action: 'user.login', occurred_at: at, actor, targets: [], outcome: 'success', context };
    else if (roll < 0.31)
      yield {
        action: 'user.login_failed',
        occurred_at: at,
        actor,
        targets: [],
        outcome: 'failure',
        reason: pick(['bad_password', 'mfa_timeout', 'account_locked']),
        context: { ...context, ip: random() < 0.5 ? `203.0.113.${Math.floor(random() * 8)}` : user.ip },
      };
    else if (roll < 0.6)
      yield {
        action: 'document.read',
        occurred_at: at,
        actor,
        targets: [document, ...(random() < 0.3 ? [{ type: 'customer', id: `cust_${pick(FIRST)}`, name: pick(FIRST) }] : [])],
        outcome: 'success',
        context,
        metadata: { pii: doc === 'customer-list' || doc === 'payroll-2026' },
      };
    else if (roll < 0.8) {
      const field = pick(['title', 'status', 'owner', 'body']);
      yield {
        action: 'document.updated',
        occurred_at: at,
        actor,
        targets: [document],
        outcome: 'success',
        context,
        changes: [{ field, before: `${field}-v${Math.floor(random() * 9)}`, after: `${field}-v${Math.floor(random() * 9) + 1}` }],
      };
    } else if (roll < 0.88)
      yield {
        action: 'document.exported',
        occurred_at: at,
        actor,
        targets: [document],
        outcome: 'success',
        context,
        metadata: { format: pick(['pdf', 'csv', 'docx']), rows: Math.floor(random() * 5000) },
      };
    else if (roll < 0.93) {
      const subject = pick(users);
      yield {
        action: 'member.role_changed',
        occurred_at: at,
        actor,
        targets: [{ type: 'user', id: subject.id, name: subject.name }],
        outcome: 'success',
        context,
        changes: [{ field: 'role', before: pick(ROLES), after: pick(ROLES) }],
      };
    } else
      yield {
        action: 'api.called',
        occurred_at: at,
        actor: { type: 'api_key', id: `key_${Math.floor(random() * 20)}`, name: 'CI deploy key' },
        targets: [{ type: 'api', id: pick(['/v1/invoices', '/v1/users', '/v1/reports']) }],
        outcome: random() < 0.97 ? 'success' : 'failure',
        context: { ip: `198.51.100.${Math.floor(random() * 30)}`, user_agent: 'deploy-bot/2.3' },
      };
  }
}
