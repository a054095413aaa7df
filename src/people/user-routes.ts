/**
 * Users and roles by API (docs/api.md#users-and-roles): `POST/GET /v1/users`, `GET/PATCH
 * /v1/users/{id}`, `PUT /v1/users/{id}/roles`, `DELETE /v1/users/{id}/sessions`. Admin keys and
 * people with the roles of roles.ts call them; what each may grant and whom each may change is
 * authority.ts. Every change is recorded in the operator trail and the trail of each tenant the
 * user holds or held a role on.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Static, Type } from '@sinclair/typebox';
import type { Principal } from '../auth/api-keys.ts';
import type { AccessRecord } from '../audit/meta-audit.ts';
import { SYSTEM_TENANT } from '../event/service-records.ts';
import { TrailproofError } from '../errors.ts';
import { authenticate, principalOf, requestContext } from '../http/authenticate.ts';
import { answer, listOf, NoContent, NullableTimestamp, Timestamp } from '../http/responses.ts';
import type { Services } from '../http/services.ts';
import { mayGrantOn, mayManage, mayView, visibleTenants } from './authority.ts';
import { ROLES, type RoleGrant } from './roles.ts';
import { endUserSessions } from './sessions.ts';
import { createUser, getUser, listUsers, replaceGrants, updateUser, type User } from './users.ts';

const NO_CONTROL = '^[^\\u0000-\\u001f\\u007f]*$';
const Email = Type.String({ minLength: 3, maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+$', description: 'Kept lower case; unique' });
const Grant = Type.Object(
  {
    role: Type.Union(ROLES.map((r) => Type.Literal(r))),
    tenant: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 63 }), Type.Null()], { description: 'Omit (or null) for every tenant' })),
  },
  { additionalProperties: false },
);
const Roles = Type.Array(Grant, { maxItems: 100 });
const CreateBody = Type.Object(
  { email: Email, name: Type.Optional(Type.String({ minLength: 1, maxLength: 256, pattern: NO_CONTROL })), roles: Roles },
  { additionalProperties: false },
);
const UpdateBody = Type.Object(
  {
    name: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 256, pattern: NO_CONTROL }), Type.Null()])),
    disabled: Type.Optional(Type.Boolean({ description: 'true ends every session of the user at once' })),
  },
  { additionalProperties: false, minProperties: 1 },
);
const RolesBody = Type.Object({ roles: Roles }, { additionalProperties: false });
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
/** A user as the API shows it (users.ts `User`). */
export const UserAnswer = answer(
  {
    id: Type.String(),
    email: Type.String(),
    name: Type.Union([Type.String(), Type.Null()]),
    disabled: Type.Boolean(),
    roles: Type.Array(
      answer({
        role: Type.Union(ROLES.map((r) => Type.Literal(r))),
        tenant: Type.Union([Type.String(), Type.Null()], { description: 'null: every tenant' }),
        source: Type.Union([Type.Literal('manual'), Type.Literal('oidc')]),
      }),
    ),
    created_at: Timestamp,
    last_sign_in_at: NullableTimestamp,
  },
  { title: 'User' },
);

export function userRoutes(services: Services) {
  const tags = ['users'];
  const security = [{ bearer: [] }];

  return async function registerUserRoutes(app: FastifyInstance): Promise<void> {
    const admin = authenticate(services, 'admin');

    app.post(
      '/v1/users',
      { onRequest: admin, schema: { summary: 'Create a user with roles', tags, security, body: CreateBody, response: { 201: UserAnswer } } },
      async (request, reply) => {
        const body = request.body as Static<typeof CreateBody>;
        const principal = principalOf(request);
        const roles = await checkGrants(principal, body.roles);
        const user = await createUser(services.sql, { email: body.email, name: body.name ?? null, roles, grantedBy: principal.keyId });
        if (!user) {
          throw new TrailproofError('USER_EXISTS', `a user with email ${body.email.toLowerCase()} exists already`, {
            details: [{ pointer: '/email', code: 'exists', message: 'a user with this email exists already' }],
          });
        }
        await recordUserChange(request, 'trailproof.user.created', user, { roles: describe(user.roles) });
        return reply.code(201).send(user);
      },
    );

    app.get(
      '/v1/users',
      { onRequest: admin, schema: { summary: 'Users and their roles', tags, security, response: { 200: listOf(UserAnswer) } } },
      async (request) => {
        const tenants = visibleTenants(principalOf(request));
        return { data: await listUsers(services.sql, tenants === 'all' ? {} : { tenants }) };
      },
    );

    app.get(
      '/v1/users/:id',
      { onRequest: admin, schema: { summary: 'A user and their roles', tags, security, params: IdParams, response: { 200: UserAnswer } } },
      async (request) => visibleUser(request),
    );

    app.patch(
      '/v1/users/:id',
      {
        onRequest: admin,
        schema: {
          summary: 'Rename, disable (ending every session) or enable a user',
          tags,
          security,
          params: IdParams,
          body: UpdateBody,
          response: { 200: UserAnswer },
        },
      },
      async (request) => {
        const body = request.body as Static<typeof UpdateBody>;
        const before = await manageableUser(request);
        const user = (await updateUser(services.sql, before.id, body))!;
        const action =
          body.disabled === true && !before.disabled
            ? 'trailproof.user.disabled'
            : body.disabled === false && before.disabled
              ? 'trailproof.user.enabled'
              : 'trailproof.user.updated';
        await recordUserChange(request, action, user, body.name !== undefined ? { name: body.name ?? '' } : {});
        return user;
      },
    );

    app.put(
      '/v1/users/:id/roles',
      {
        onRequest: admin,
        schema: {
          summary: "Replace the user's roles (those the caller may grant)",
          tags,
          security,
          params: IdParams,
          body: RolesBody,
          response: { 200: UserAnswer },
        },
      },
      async (request) => {
        const body = request.body as Static<typeof RolesBody>;
        const principal = principalOf(request);
        const before = await visibleUser(request);
        const requested = await checkGrants(principal, body.roles);
        // Grants the caller could not have made stay as they are; the rest become `requested`.
        const kept = before.roles.filter((g) => g.source === 'manual' && !mayGrantOn(principal, g));
        await replaceGrants(services.sql, before.id, [...kept, ...requested], { source: 'manual', grantedBy: principal.keyId, scope: 'all' });
        const user = (await getUser(services.sql, before.id))!;
        await recordUserChange(request, 'trailproof.user.roles_changed', user, { before: describe(before.roles), after: describe(user.roles) }, before);
        return user;
      },
    );

    app.delete(
      '/v1/users/:id/sessions',
      { onRequest: admin, schema: { summary: 'Sign the user out everywhere', tags, security, params: IdParams, response: { 204: NoContent } } },
      async (request, reply) => {
        const user = await manageableUser(request);
        const ended = await endUserSessions(services.sql, user.id, 'ended by an administrator');
        await recordUserChange(request, 'trailproof.user.sessions_ended', user, { sessions: ended });
        return reply.code(204).send();
      },
    );
  };

  /** The grants asked for, checked: each tenant exists and the caller may grant each role there. */
  async function checkGrants(principal: Principal, grants: Static<typeof Roles>): Promise<RoleGrant[]> {
    const checked: RoleGrant[] = [];
    for (const [i, g] of grants.entries()) {
      const grant: RoleGrant = { role: g.role, tenant: g.tenant ?? null };
      if (grant.tenant !== null && !(await services.tenants.exists(grant.tenant))) {
        throw new TrailproofError('TENANT_NOT_FOUND', `tenant "${grant.tenant}" does not exist`, {
          details: [{ pointer: `/roles/${i}/tenant`, code: 'not_found', message: `tenant "${grant.tenant}" does not exist` }],
        });
      }
      if (!mayGrantOn(principal, grant)) {
        const where = grant.tenant === null ? 'on every tenant' : `on tenant ${grant.tenant}`;
        throw new TrailproofError('AUTH_FORBIDDEN', `you may not grant the role ${grant.role} ${where}`, {
          details: [{ pointer: `/roles/${i}`, code: 'role_forbidden', message: `you may not grant ${grant.role} ${where}` }],
        });
      }
      checked.push(grant);
    }
    return checked;
  }

  async function visibleUser(request: FastifyRequest): Promise<User> {
    const { id } = request.params as { id: string };
    const user = await getUser(services.sql, id);
    if (!user || !mayView(principalOf(request), user)) throw new TrailproofError('NOT_FOUND', `no user ${id}`);
    return user;
  }

  async function manageableUser(request: FastifyRequest): Promise<User> {
    const user = await visibleUser(request);
    if (!mayManage(principalOf(request), user))
      throw new TrailproofError('AUTH_FORBIDDEN', `you may not change ${user.email}: they hold roles you cannot grant`);
    return user;
  }

  async function recordUserChange(request: FastifyRequest, action: string, user: User, metadata: Record<string, unknown>, before?: User): Promise<void> {
    await recordForUser(services, request, action, user, metadata, before);
  }
}

/**
 * Records `action` about `user` in the operator trail and in the trail of each tenant the user holds
 * (or, `before` a change, held) a role on; a principal bound to tenants records in those only.
 */
export async function recordForUser(
  services: Services,
  request: FastifyRequest,
  action: string,
  user: User,
  metadata: Record<string, unknown>,
  before?: User,
  principal: AccessRecord['principal'] = principalOf(request),
): Promise<void> {
  const tenants = new Set<string>([SYSTEM_TENANT]);
  for (const g of [...user.roles, ...(before?.roles ?? [])]) if (g.tenant !== null) tenants.add(g.tenant);
  if ('keyId' in principal && principal.tenant !== null && !principal.user) tenants.delete(SYSTEM_TENANT);
  const targets = [{ type: 'user', id: user.id, name: user.email }];
  await Promise.all(
    [...tenants].map((tenant) =>
      services.audit.record({ tenant, principal, action, targets, metadata: { email: user.email, ...metadata }, context: requestContext(request) }),
    ),
  );
}

/** Grants as short text for records: `admin@acme`, `auditor@*`. */
function describe(grants: readonly RoleGrant[]): string[] {
  return grants.map((g) => `${g.role}@${g.tenant ?? '*'}`);
}
