/**
 * `POST /v1/viewer-tokens` (admin key, or an admin key bound to the tenant) mints a viewer token;
 * `POST /v1/viewer/sessions` is what the embedded viewer calls with its token when it starts: it
 * records the session in the tenant's trail and tells the viewer what its token allows.
 * `GET /v1/whoami` tells the console which key signed in (scope, tenant).
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { TrailproofError } from '../errors.ts';
import { authenticate, principalOf, requestContext, tenantFor } from '../http/authenticate.ts';
import type { Services } from '../http/services.ts';
import { DEFAULT_VIEWER_TTL_SECONDS, MAX_VIEWER_TTL_SECONDS, type ViewerGrant } from './viewer-tokens.ts';

const IDENT = '^[^\\u0000-\\u001f\\u007f-\\u009f]+$';
const MintBody = Type.Object(
  {
    tenant: Type.Optional(Type.String({ description: 'Required with an admin key bound to no tenant' })),
    ttl_seconds: Type.Optional(
      Type.Integer({
        minimum: 60,
        maximum: MAX_VIEWER_TTL_SECONDS,
        default: DEFAULT_VIEWER_TTL_SECONDS,
        description: 'Lifetime; default 900 (15 min), at most 86400 (24 h)',
      }),
    ),
    actions: Type.Optional(
      Type.Array(Type.String({ pattern: '^[a-z0-9_]+(\\.[a-z0-9_]+)*(\\.\\*)?$', maxLength: 130 }), {
        minItems: 1,
        maxItems: 50,
        description: 'Only events with one of these actions (`user.*` = prefix)',
      }),
    ),
    targets: Type.Optional(
      Type.Array(
        Type.Object(
          { type: Type.String({ minLength: 1, maxLength: 64, pattern: IDENT }), id: Type.String({ minLength: 1, maxLength: 256, pattern: IDENT }) },
          { additionalProperties: false },
        ),
        { minItems: 1, maxItems: 50, description: 'Only events naming one of these targets' },
      ),
    ),
    alerts: Type.Optional(
      Type.Boolean({
        default: false,
        description: "Also show the tenant's alert firings (`GET /v1/alert-firings`); not with actions or targets",
      }),
    ),
  },
  { additionalProperties: false },
);

export function viewerRoutes(services: Services) {
  return async function registerViewerRoutes(app: FastifyInstance): Promise<void> {
    app.post(
      '/v1/viewer-tokens',
      {
        onRequest: authenticate(services, 'admin'),
        schema: {
          summary: 'Mint a read-only viewer token for one tenant (for the embeddable viewer)',
          tags: ['viewer'],
          security: [{ bearer: [] }],
          body: MintBody,
        },
      },
      async (request, reply) => {
        const body = request.body as Static<typeof MintBody>;
        // A firing summarises events of the whole tenant, so a narrowed token cannot be shown them.
        if (body.alerts && (body.actions || body.targets)) {
          const message = 'alerts cannot be combined with actions or targets: firings summarise events outside the narrowing';
          throw new TrailproofError('REQUEST_INVALID', message, { details: [{ pointer: '/alerts', code: 'conflict', message }] });
        }
        const principal = principalOf(request);
        const tenant = await tenantFor(services, request, body.tenant);
        const issuedAt = new Date();
        const ttl = body.ttl_seconds ?? DEFAULT_VIEWER_TTL_SECONDS;
        const { token, grant } = services.viewerTokens.mint({
          tenant,
          issuedAt,
          expiresAt: new Date(issuedAt.getTime() + ttl * 1000),
          mintedBy: principal.keyId,
          ...(body.actions ? { actions: body.actions } : {}),
          ...(body.targets ? { targets: body.targets } : {}),
          ...(body.alerts ? { alerts: true as const } : {}),
        });
        await services.audit.record({
          tenant,
          principal,
          action: 'viewer_token.created',
          targets: [{ type: 'viewer_token', id: grant.id }],
          metadata: { ttl_seconds: ttl, ...narrowing(grant) },
          context: requestContext(request),
        });
        return reply.code(201).send({ token, ...describe(grant) });
      },
    );

    app.get(
      '/v1/whoami',
      {
        onRequest: authenticate(services, 'read'),
        schema: { summary: 'The presenting key: id, name, scope and tenant (the console signs in with it)', tags: ['operator'], security: [{ bearer: [] }] },
      },
      async (request) => {
        const { keyId, name, scope, tenant, user, tenants } = principalOf(request);
        // A person signed in also gets who they are and their roles (src/people/).
        if (user)
          return { key_id: keyId, name, scope, tenant: tenants ? null : tenant, user: { id: user.id, email: user.email, name: user.name }, roles: user.grants };
        return { key_id: keyId, name, scope, tenant };
      },
    );

    app.post(
      '/v1/viewer/sessions',
      {
        onRequest: authenticate(services, 'read'),
        schema: { summary: 'Start a viewer session (records it; says what the token allows)', tags: ['viewer'], security: [{ bearer: [] }] },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const tenant = await tenantFor(services, request, undefined);
        const grant = principal.viewer;
        await services.audit.record({
          tenant,
          principal,
          action: 'viewer.session_started',
          targets: [{ type: grant ? 'viewer_token' : 'api_key', id: grant ? grant.id : principal.keyId }],
          metadata: grant ? narrowing(grant) : {},
          context: requestContext(request),
        });
        return reply.code(201).send(grant ? describe(grant) : { tenant, expires_at: null });
      },
    );
  };
}

function narrowing(grant: ViewerGrant): Record<string, string> {
  return {
    ...(grant.actions ? { actions: grant.actions.join(',') } : {}),
    ...(grant.targets ? { targets: grant.targets.map((t) => `${t.type}:${t.id}`).join(',') } : {}),
    ...(grant.alerts ? { alerts: 'true' } : {}),
  };
}

function describe(grant: ViewerGrant) {
  return {
    id: grant.id,
    tenant: grant.tenant,
    expires_at: grant.expiresAt.toISOString(),
    actions: grant.actions ?? null,
    targets: grant.targets ?? null,
    alerts: grant.alerts ?? false,
  };
}
