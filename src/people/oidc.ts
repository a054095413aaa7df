/**
 * OIDC sign-in (docs/sso.md): the authorization code flow with PKCE (RFC 7636), state and nonce,
 * through `openid-client`. The browser's half of a sign-in in flight (code verifier, state, nonce)
 * travels sealed (AES-256-GCM, the service's secret key) in a short-lived `HttpOnly` cookie, so
 * the callback is accepted only in the browser that started it and the server keeps nothing.
 * The provider's claims map to roles (`TRAILPROOF_OIDC_ROLES`); a person whose claims map to no
 * role and who holds no role given by hand is refused.
 */
import { randomUUID } from 'node:crypto';
import * as client from 'openid-client';
import type { OidcConfig } from '../config.ts';
import { TrailproofError } from '../errors.ts';
import type { SecretBox } from '../stream/secret-box.ts';
import type { Sql } from '../store/db.ts';
import type { RoleGrant } from './roles.ts';
import { replaceGrants } from './users.ts';

/** How long a sign-in may take at the provider. */
const PENDING_TTL_SECONDS = 600;
/** Associated data of the sealed pending sign-in, so no other sealed value passes for one. */
const PENDING_AAD = 'oidc-sign-in';

export const PENDING_COOKIE = 'tp_oidc';
export const PENDING_COOKIE_PATH = '/v1/auth/oidc';

/** What the provider says about a person who signed in. */
export interface OidcIdentity {
  issuer: string;
  subject: string;
  email: string;
  emailVerified: boolean;
  name: string | null;
  grants: RoleGrant[];
}

interface Pending {
  verifier: string;
  state: string;
  nonce: string;
  expires: number;
}

export class OidcSignIn {
  #configuration: Promise<client.Configuration> | undefined;

  constructor(
    private readonly config: OidcConfig,
    private readonly secrets: SecretBox,
  ) {}

  /** The provider's authorization URL, and the sealed pending sign-in for the cookie. */
  async start(): Promise<{ url: string; pending: string }> {
    const configuration = await this.configuration();
    const pending: Pending = {
      verifier: client.randomPKCECodeVerifier(),
      state: client.randomState(),
      nonce: client.randomNonce(),
      expires: Date.now() + PENDING_TTL_SECONDS * 1000,
    };
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.config.redirectUrl,
      scope: this.config.scopes,
      response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    return { url: url.href, pending: this.secrets.seal(JSON.stringify(pending), PENDING_AAD).toString('base64url') };
  }

  /**
   * Completes a sign-in: `query` is the callback's query string, `sealed` the pending cookie.
   * Throws AUTH_REQUIRED for anything that does not check out (no or stale cookie, wrong state,
   * an error from the provider, a token that does not verify).
   */
  async finish(query: string, sealed: string | undefined): Promise<OidcIdentity> {
    const pending = this.open(sealed);
    const configuration = await this.configuration();
    const current = new URL(this.config.redirectUrl);
    current.search = query;
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(configuration, current, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      throw new TrailproofError('AUTH_REQUIRED', `the identity provider's answer did not check out: ${(err as Error).message}`, { cause: err });
    }
    const idClaims = tokens.claims()!;
    // Providers put email and groups in the ID token or only in the userinfo answer: ask for both.
    const info = await client.fetchUserInfo(configuration, tokens.access_token, idClaims.sub);
    const claims: Record<string, unknown> = { ...info, ...idClaims };
    const email = typeof claims.email === 'string' ? claims.email.toLowerCase() : undefined;
    if (!email) throw new TrailproofError('AUTH_REQUIRED', 'the identity provider gave no email address (ask for the `email` scope)');
    return {
      issuer: configuration.serverMetadata().issuer,
      subject: idClaims.sub,
      email,
      emailVerified: claims.email_verified !== false,
      name: typeof claims.name === 'string' ? claims.name.slice(0, 256) : null,
      grants: this.grantsFor(claims[this.config.roleClaim]),
    };
  }

  /** The roles `TRAILPROOF_OIDC_ROLES` maps the role claim's values to (`*` maps everyone). */
  grantsFor(claim: unknown): RoleGrant[] {
    const values = new Set(Array.isArray(claim) ? claim.filter((v): v is string => typeof v === 'string') : typeof claim === 'string' ? [claim] : []);
    const grants = new Map<string, RoleGrant>();
    for (const entry of this.config.roleMap) {
      if (entry.value === '*' || values.has(entry.value)) grants.set(`${entry.role}@${entry.tenant ?? ''}`, { role: entry.role, tenant: entry.tenant });
    }
    return [...grants.values()];
  }

  private open(sealed: string | undefined): Pending {
    if (sealed === undefined) throw new TrailproofError('AUTH_REQUIRED', 'no sign-in in progress in this browser: start again');
    let pending: Pending;
    try {
      pending = JSON.parse(this.secrets.open(Buffer.from(sealed, 'base64url'), PENDING_AAD)) as Pending;
    } catch {
      throw new TrailproofError('AUTH_REQUIRED', 'the sign-in in progress is unreadable: start again');
    }
    if (pending.expires < Date.now()) throw new TrailproofError('AUTH_REQUIRED', 'the sign-in took too long: start again');
    return pending;
  }

  private configuration(): Promise<client.Configuration> {
    this.#configuration ??= this.discover().catch((err: unknown) => {
      // Try discovery again on the next sign-in: the provider may be back.
      this.#configuration = undefined;
      throw new TrailproofError('UNAVAILABLE', `the identity provider at ${this.config.issuer} cannot be reached: ${(err as Error).message}`, { cause: err });
    });
    return this.#configuration;
  }

  private async discover(): Promise<client.Configuration> {
    const issuer = new URL(this.config.issuer);
    const secret = this.config.clientSecret?.reveal();
    const auth = secret === undefined ? client.None() : client.ClientSecretPost(secret);
    // Plain HTTP is allowed by the configuration only for a provider on a loopback host.
    const execute = issuer.protocol === 'http:' ? [client.allowInsecureRequests] : [];
    return client.discovery(issuer, this.config.clientId, secret, auth, { execute });
  }
}

/**
 * The user an OIDC identity signs in as: found by its (issuer, subject), else by a verified email
 * address not yet linked to another identity (a user an admin made before their first sign-in),
 * else made. Its `oidc` grants become those of the claims, less those on tenants that do not exist.
 */
export async function userForIdentity(sql: Sql, identity: OidcIdentity): Promise<{ id: string; created: boolean; disabled: boolean }> {
  const user = await sql.begin(async (tx) => {
    const found = await tx<UserRef[]>`
      select id, false as created, disabled_at is not null as disabled from users
      where oidc_issuer = ${identity.issuer} and oidc_subject = ${identity.subject}`;
    if (found[0]) return found[0];
    if (identity.emailVerified) {
      const linked = await tx<UserRef[]>`
        update users set oidc_issuer = ${identity.issuer}, oidc_subject = ${identity.subject}, updated_at = now()
        where email = ${identity.email} and oidc_subject is null
        returning id, false as created, disabled_at is not null as disabled`;
      if (linked[0]) return linked[0];
    }
    const made = await tx<UserRef[]>`
      insert into users (id, email, name, oidc_issuer, oidc_subject)
      values (${`usr_${randomUUID().replaceAll('-', '')}`}, ${identity.email}, ${identity.name}, ${identity.issuer}, ${identity.subject})
      on conflict (email) do nothing returning id, true as created, false as disabled`;
    if (!made[0]) throw new TrailproofError('AUTH_FORBIDDEN', `${identity.email} belongs to a user who signs in with another identity`);
    return made[0];
  });
  const tenants = identity.grants.flatMap((g) => (g.tenant === null ? [] : [g.tenant]));
  const known = new Set(tenants.length ? (await sql<{ id: string }[]>`select id from tenants where id = any(${tenants})`).map((r) => r.id) : []);
  const grants = identity.grants.filter((g) => g.tenant === null || known.has(g.tenant));
  await replaceGrants(sql, user.id, grants, { source: 'oidc', grantedBy: 'oidc', scope: 'all' });
  return user;
}

interface UserRef {
  id: string;
  created: boolean;
  disabled: boolean;
}
