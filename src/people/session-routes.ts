/**
 * Signing people in and out of the console (docs/security.md#sessions): `GET /v1/auth/session` (who
 * is signed in, and the session's CSRF token), `POST /v1/auth/sign-out`, `POST
 * /v1/auth/sign-out-everywhere`, `GET /v1/auth/link` (a one-time sign-in link, `trailproof users
 * create`/`link`). Every sign-in makes a
 * new session token and ends any session the browser presented (no session fixation).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { TrailproofError } from '../errors.ts';
import { requestContext } from '../http/authenticate.ts';
import type { Services } from '../http/services.ts';
import { checkCsrf, readCookie, SESSION_COOKIE, setCookie } from './session-cookies.ts';
import { createSession, endSession, endUserSessions, lookupSession, redeemSignInLink, type Session } from './sessions.ts';
import { recordForUser } from './user-routes.ts';
import { getUser, type User } from './users.ts';

const tags = ['sessions'];

export function sessionRoutes(services: Services) {
  return async function registerSessionRoutes(app: FastifyInstance): Promise<void> {
    app.get('/v1/auth/session', { schema: { summary: 'The signed-in person, their roles and the CSRF token of their session', tags } }, async (request) => {
      const session = await currentSession(request);
      return {
        user: { id: session.userId, email: session.email, name: session.name },
        roles: session.grants,
        session_id: session.id,
        csrf_token: session.csrfToken,
      };
    });

    app.post('/v1/auth/sign-out', { schema: { summary: 'End this session', tags } }, async (request, reply) => {
      const session = await currentSession(request);
      checkCsrf(request, session.csrfToken);
      await endSession(services.sql, session.id, 'signed out');
      await record(request, 'trailproof.session.ended', session, { reason: 'signed out' });
      setCookie(request, reply, SESSION_COOKIE, '', 0);
      return reply.code(204).send();
    });

    app.post('/v1/auth/sign-out-everywhere', { schema: { summary: 'End every session of the signed-in person', tags } }, async (request, reply) => {
      const session = await currentSession(request);
      checkCsrf(request, session.csrfToken);
      const ended = await endUserSessions(services.sql, session.userId, 'signed out everywhere');
      await record(request, 'trailproof.session.ended', session, { reason: 'signed out everywhere', sessions: ended });
      setCookie(request, reply, SESSION_COOKIE, '', 0);
      return reply.code(204).send();
    });

    app.get(
      '/v1/auth/link',
      {
        schema: {
          summary: 'Sign in with a one-time link (then redirected to the console)',
          tags,
          querystring: Type.Object({ token: Type.String({ maxLength: 128 }) }),
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
