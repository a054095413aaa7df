import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { SecretBox } from '../stream/secret-box.ts';
import { OidcSignIn } from './oidc.ts';

const BASE = { TRAILPROOF_OIDC_ISSUER: 'https://id.example.com', TRAILPROOF_OIDC_CLIENT_ID: 'console' };

describe('OIDC configuration', () => {
  it('maps claim values to roles, on a tenant or every tenant, `*` for everyone', () => {
    const config = loadConfig({ ...BASE, TRAILPROOF_OIDC_ROLES: 'admins=owner, sec=auditor@acme *=viewer@acme' });
    const oidc = new OidcSignIn(config.oidc!, new SecretBox({ secretKey: undefined, dataDir: '/nonexistent' }));
    expect(oidc.grantsFor(['admins', 'other'])).toEqual([
      { role: 'owner', tenant: null },
      { role: 'viewer', tenant: 'acme' },
    ]);
    expect(oidc.grantsFor('sec')).toEqual([
      { role: 'auditor', tenant: 'acme' },
      { role: 'viewer', tenant: 'acme' },
    ]);
    expect(oidc.grantsFor(undefined)).toEqual([{ role: 'viewer', tenant: 'acme' }]);
  });

  it('defaults the redirect to the public URL, and keeps the secret out of logs', () => {
    const config = loadConfig({ ...BASE, TRAILPROOF_PUBLIC_URL: 'https://audit.example.com/', TRAILPROOF_OIDC_CLIENT_SECRET: 's3cret' });
    expect(config.oidc!.redirectUrl).toBe('https://audit.example.com/v1/auth/oidc/callback');
    expect(JSON.stringify(config)).not.toContain('s3cret');
    expect(loadConfig({}).oidc).toBeUndefined();
  });

  it.each([
    [{ TRAILPROOF_OIDC_ISSUER: 'http://id.example.com', TRAILPROOF_OIDC_CLIENT_ID: 'c' }, /https:\/\/ URL/],
    [{ TRAILPROOF_OIDC_ISSUER: 'https://id.example.com' }, /TRAILPROOF_OIDC_CLIENT_ID is required/],
    [{ ...BASE, TRAILPROOF_OIDC_ROLES: 'admins=superuser' }, /TRAILPROOF_OIDC_ROLES: "admins=superuser"/],
    [{ ...BASE, TRAILPROOF_OIDC_ROLES: 'admins' }, /TRAILPROOF_OIDC_ROLES/],
    [{ TRAILPROOF_PUBLIC_URL: 'audit.example.com' }, /TRAILPROOF_PUBLIC_URL/],
  ])('refuses %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('allows plain HTTP to a provider on a loopback host only', () => {
    expect(loadConfig({ TRAILPROOF_OIDC_ISSUER: 'http://127.0.0.1:9000', TRAILPROOF_OIDC_CLIENT_ID: 'c' }).oidc!.issuer).toBe('http://127.0.0.1:9000');
  });
});
