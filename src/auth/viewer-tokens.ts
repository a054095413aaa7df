/**
 * Viewer tokens: short-lived, read-only credentials for one tenant, minted by an admin key for the
 * embeddable viewer (`<trailproof-viewer token="…">`), optionally narrowed to some actions or
 * targets. Stateless: `tpv_<base64url(JSON claims)>.<base64url(HMAC-SHA256(secret, claims))>`, so
 * any server process sharing the secret accepts them without a database row. The secret comes from
 * TRAILPROOF_VIEWER_SECRET or `<dataDir>/viewer.secret` (created 0600 on first use), never the DB:
 * whoever can read the database must not be able to mint tokens.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';
import { TrailproofError } from '../errors.ts';

export const VIEWER_TOKEN_PREFIX = 'tpv_';
export const DEFAULT_VIEWER_TTL_SECONDS = 15 * 60;
export const MAX_VIEWER_TTL_SECONDS = 24 * 60 * 60;
export const VIEWER_SECRET_FILE = 'viewer.secret';

/** What a viewer token allows: one tenant, until `expiresAt`, optionally only some actions or targets. */
export interface ViewerGrant {
  /** Token id (random), the actor id of the reads it makes in the meta-audit. */
  id: string;
  tenant: string;
  expiresAt: Date;
  issuedAt: Date;
  /** Action patterns (`user.login`, `document.*`); an event must match one. Absent: every action. */
  actions?: string[];
  /** Targets (`type` + `id`); an event must name one of them. Absent: every event. */
  targets?: { type: string; id: string }[];
  /** The key that minted it. */
  mintedBy: string;
  /** Whether it may also list the tenant's alert firings (`GET /v1/alert-firings`). Absent: no. */
  alerts?: true;
}

interface Claims {
  v: 1;
  id: string;
  t: string;
  iat: number;
  exp: number;
  k: string;
  a?: string[];
  g?: [string, string][];
  al?: 1;
}

export class ViewerTokens {
  #secret: Buffer | undefined;

  constructor(private readonly config: Pick<Config, 'viewerSecret' | 'dataDir'>) {}

  mint(grant: Omit<ViewerGrant, 'id'>): { token: string; grant: ViewerGrant } {
    const id = randomBytes(12).toString('base64url');
    const claims: Claims = {
      v: 1,
      id,
      t: grant.tenant,
      iat: Math.floor(grant.issuedAt.getTime() / 1000),
      exp: Math.floor(grant.expiresAt.getTime() / 1000),
      k: grant.mintedBy,
      ...(grant.actions ? { a: grant.actions } : {}),
      ...(grant.targets ? { g: grant.targets.map((t): [string, string] => [t.type, t.id]) } : {}),
      ...(grant.alerts ? { al: 1 as const } : {}),
    };
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return { token: `${VIEWER_TOKEN_PREFIX}${payload}.${this.sign(payload)}`, grant: { ...grant, id } };
  }

  /** The grant of a presented token; VIEWER_TOKEN_INVALID if forged or malformed, VIEWER_TOKEN_EXPIRED after its expiry. */
  verify(token: string, now = new Date()): ViewerGrant {
    // Attacker-controlled: the signature is checked before anything in the payload is believed.
    const [payload, signature, ...rest] = token.slice(VIEWER_TOKEN_PREFIX.length).split('.');
    if (!token.startsWith(VIEWER_TOKEN_PREFIX) || payload === undefined || signature === undefined || rest.length > 0) throw invalidToken();
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalidToken();
    let claims: Claims;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Claims;
    } catch {
      throw invalidToken();
    }
    if (claims.v !== 1 || typeof claims.t !== 'string' || !Number.isSafeInteger(claims.exp)) throw invalidToken();
    if (claims.exp * 1000 <= now.getTime()) {
      throw new TrailproofError('VIEWER_TOKEN_EXPIRED', `the viewer token expired at ${new Date(claims.exp * 1000).toISOString()}; ask for a new one`);
    }
    return {
      id: claims.id,
      tenant: claims.t,
      issuedAt: new Date(claims.iat * 1000),
      expiresAt: new Date(claims.exp * 1000),
      mintedBy: claims.k,
      ...(claims.a ? { actions: claims.a } : {}),
      ...(claims.g ? { targets: claims.g.map(([type, id]) => ({ type, id })) } : {}),
      ...(claims.al === 1 ? { alerts: true as const } : {}),
    };
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.secret()).update(`trailproof viewer token v1\n${payload}`).digest('base64url');
  }

  private secret(): Buffer {
    if (this.#secret) return this.#secret;
    const fromEnv = this.config.viewerSecret?.reveal();
    this.#secret = Buffer.from(fromEnv ?? readOrCreateSecret(path.join(this.config.dataDir, VIEWER_SECRET_FILE)));
    return this.#secret;
  }
}

function invalidToken(): TrailproofError {
  return new TrailproofError('VIEWER_TOKEN_INVALID', 'the viewer token is not one this server issued');
}

/** Reads the secret file, creating it first (mode 0600) if missing; a concurrent creator's file wins. */
export function readOrCreateSecret(file: string): string {
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
    try {
      fs.linkSync(temp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      fs.rmSync(temp, { force: true });
    }
  }
  const secret = fs.readFileSync(file, 'utf8').trim();
  if (secret.length < 32) throw new TrailproofError('CONFIG_INVALID', `${file} must hold at least 32 characters`);
  return secret;
}
