/**
 * Signing people in and out of the console (docs/security.md#sessions): `GET /v1/auth/session` (who
 * is signed in, and the session's CSRF token), `POST /v1/auth/sign-out`, `POST
 * /v1/auth/sign-out-everywhere`, `GET /v1/auth/link` (a one-time sign-in link, `trailproof users
 * create`/`link`), `GET /v1/auth/providers` (what the sign-in page offers) and the OIDC flow,
 * `GET /v1/auth/oidc/start` and `/callback` (oidc.ts). Every sign-in makes a
 * new session token and ends any session the browser presented (no session fixation).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { TrailproofError } from '../errors.ts';
import { requestContext } from '../http/authenticate.ts';
import { answer, NoContent } from '../http/responses.ts';
import type { Services } from '../http/services.ts';
import { checkCsrf, readCookie, SESSION_COOKIE, setCookie } from './session-cookies.ts';
import { createSession, endSession, endUserSessions, lookupSession, redeemSignInLink, type Session } from './sessions.ts';
import { recordForUser } from './user-routes.ts';
import { getUser, type User } from './users.ts';
import { UserAnswer } from './user-routes.ts';
import { PENDING_COOKIE, PENDING_COOKIE_PATH, userForIdentity, type OidcIdentity } from './oidc.ts';

const tags = ['sessions'];
const SessionAnswer = answer(
  {
    user: answer({ id: Type.String(), email: Type.String(), name: Type.Union([Type.String(), Type.Null()]) }),
    roles: Type.Index(UserAnswer, ['roles']),
    session_id: Type.String(),
    csrf_token: Type.String({ description: 'Send it as the X-CSRF-Token header of every change made with the session' }),
  },
  { title: 'Session' },
);
/** A browser redirect, the answer of the sign-in routes. */
const Redirect = { 302: Type.Null({ description: 'To the identity provider' }) };
const BackToConsole = { 303: Type.Null({ description: 'To the console (with `sign_in_error` when refused)' }) };

export function sessionRoutes(services: Services) {
  return async function registerSessionRoutes(app: FastifyInstance): Promise<void> {
    app.get(
      '/v1/auth/session',
      { schema: { summary: 'The signed-in person, their roles and the CSRF token of their session', tags, response: { 200: SessionAnswer } } },
      async (request) => {
        const session = await currentSession(request);
        return {
          user: { id: session.userId, email: session.email, name: session.name },
          roles: session.grants,
          session_id: session.id,
          csrf_token: session.csrfToken,
        };
      },
    );

    app.post('/v1/auth/sign-out', { schema: { summary: 'End this session', tags, response: { 204: NoContent } } }, async (request, reply) => {
      const session = await currentSession(request);
      checkCsrf(request, session.csrfToken);
      await endSession(services.sql, session.id, 'signed out');
      await record(request, 'trailproof.session.ended', session, { reason: 'signed out' });
      setCookie(request, reply, SESSION_COOKIE, '', 0);
      return reply.code(204).send();
    });

    app.post(
      '/v1/auth/sign-out-everywhere',
      { schema: { summary: 'End every session of the signed-in person', tags, response: { 204: NoContent } } },
      async (request, reply) => {
        const session = await currentSession(request);
        checkCsrf(request, session.csrfToken);
        const ended = await endUserSessions(services.sql, session.userId, 'signed out everywhere');
        await record(request, 'trailproof.session.ended', session, { reason: 'signed out everywhere', sessions: ended });
        setCookie(request, reply, SESSION_COOKIE, '', 0);
        return reply.code(204).send();
      },
    );

    app.get(
      '/v1/auth/providers',
      { schema: { summary: 'How people can sign in (the sign-in page asks)', tags, response: { 200: answer({ oidc: Type.Boolean() }) } } },
      async () => ({
        oidc: services.oidc !== undefined,
      }),
    );

    app.get(
      '/v1/auth/oidc/start',
      { schema: { summary: 'Start an OIDC sign-in: redirects to the identity provider', tags, response: Redirect } },
      async (request, reply) => {
        if (!services.oidc) throw new TrailproofError('NOT_FOUND', 'OIDC sign-in is not configured (TRAILPROOF_OIDC_ISSUER)');
        const { url, pending } = await services.oidc.start();
        setCookie(request, reply, PENDING_COOKIE, pending, 600, PENDING_COOKIE_PATH);
        return reply.redirect(url, 302);
      },
    );

    app.get(
      '/v1/auth/oidc/callback',
      {
        schema: {
          summary: 'Where the identity provider sends the browser back',
          tags,
          // The provider chooses the parameters (code, state, iss, session_state, error, …): all are passed to openid-client.
          querystring: Type.Record(Type.String(), Type.String()),
          response: BackToConsole,
        },
      },
      async (request, reply) => {
        if (!services.oidc) throw new TrailproofError('NOT_FOUND', 'OIDC sign-in is not configured (TRAILPROOF_OIDC_ISSUER)');
        const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
        setCookie(request, reply, PENDING_COOKIE, '', 0, PENDING_COOKIE_PATH);
        let identity: OidcIdentity;
        try {
          identity = await services.oidc.finish(query, readCookie(request, PENDING_COOKIE));
        } catch (err) {
          request.log.warn({ err: (err as Error).message }, 'OIDC sign-in failed');
          return reply.redirect('/?sign_in_error=oidc_failed', 303);
        }
        const found = await userForIdentity(services.sql, identity);
        const user = (await getUser(services.sql, found.id))!;
        const refusal = found.disabled ? 'user_disabled' : user.roles.length === 0 ? 'no_role' : undefined;
        if (refusal) {
          await recordForUser(services, request, 'trailproof.session.denied', user, { reason: refusal, method: 'oidc' }, undefined, {
            actor: { type: 'user', id: user.id, name: user.email },
          });
          return reply.redirect(`/?sign_in_error=${refusal}`, 303);
        }
        await startSession(services, request, reply, user.id, 'oidc');
        return reply.redirect('/', 303);
      },
    );

    app.get(
      '/v1/auth/link',
      {
        schema: {
          summary: 'Sign in with a one-time link (then redirected to the console)',
          tags,
          querystring: Type.Object({ token: Type.String({ maxLength: 128 }) }),
          response: BackToConsole,
        },
      },
      async (request, reply) => {
        const userId = await redeemSignInLink(services.sql, (request.query as { token: string }).token);
        if (!userId) return reply.redirect('/?sign_in_error=link_invalid', 303);
        await startSession(services, request, reply, userId, 'link');
        return reply.redirect('/', 303);
      },
    );
  };

  async function currentSession(request: FastifyRequest): Promise<Session> {
    const token = readCookie(request, SESSION_COOKIE);
    const session = token === undefined ? undefined : await lookupSession(services.sql, token, services.config.sessions);
    if (!session) throw new TrailproofError('AUTH_REQUIRED', 'not signed in, or the session has ended or expired');
    return session;
  }

  async function record(request: FastifyRequest, action: string, session: Session, metadata: Record<string, unknown>): Promise<void> {
    const user = await getUser(services.sql, session.userId);
    if (user) await recordForUser(services, request, action, user, { session_id: session.id, ...metadata }, undefined, actorOf(user, session.id));
  }
}

/**
 * Signs `userId` in: ends whatever session the browser presented, makes a new one, sets its
 * cookie, and records `trailproof.session.started`.
 */
export async function startSession(services: Services, request: FastifyRequest, reply: FastifyReply, userId: string, method: string): Promise<void> {
  const presented = readCookie(request, SESSION_COOKIE);
  if (presented !== undefined) {
    const previous = await lookupSession(services.sql, presented, services.config.sessions);
    if (previous) await endSession(services.sql, previous.id, 'replaced by a new sign-in');
  }
  const context = requestContext(request);
  const session = await createSession(services.sql, userId, services.config.sessions, {
    ...(context.ip ? { ip: context.ip } : {}),
    ...(context.userAgent ? { userAgent: context.userAgent } : {}),
  });
  setCookie(request, reply, SESSION_COOKIE, session.token, services.config.sessions.maxSeconds);
  const user = (await getUser(services.sql, userId))!;
  await recordForUser(services, request, 'trailproof.session.started', user, { session_id: session.id, method }, undefined, actorOf(user, session.id));
}

/** The person as the actor of a record about their own session. */
function actorOf(user: User, sessionId: string) {
  return {
    keyId: `user:${user.id}`,
    name: user.email,
    scope: 'read' as const,
    tenant: null,
    user: { id: user.id, email: user.email, name: user.name, sessionId, grants: user.roles },
  };
}
