/**
 * `GET/PUT /v1/tenants/{tenant}/redaction`: a tenant's redaction rules (docs/redaction.md). Reading
 * them needs `read` (an auditor may see what is kept out of the trail); changing them needs `admin`
 * and is recorded in the tenant's trail as `tenant.redaction_updated`.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { authenticate, principalOf, requestContext, tenantFor } from '../http/authenticate.ts';
import type { Services } from '../http/services.ts';
import { DEFAULT_RULES, MAX_RULES, parseSettings, type RedactionSettings } from './rules.ts';

const Rule = Type.Union([
  Type.Object({ path: Type.String(), action: Type.Union([Type.Literal('remove'), Type.Literal('hash')]) }, { additionalProperties: false }),
  Type.Object({ key: Type.String(), action: Type.Union([Type.Literal('remove'), Type.Literal('hash')]) }, { additionalProperties: false }),
  Type.Object({ detect: Type.Literal('card_number'), action: Type.Union([Type.Literal('remove'), Type.Literal('hash')]) }, { additionalProperties: false }),
]);
const Settings = Type.Object({
  defaults: Type.Boolean({ description: 'Whether the built-in rules apply after these (default true)' }),
  rules: Type.Array(Rule, { maxItems: MAX_RULES }),
});
const Answer = Type.Composite([Settings, Type.Object({ tenant: Type.String(), default_rules: Type.Array(Rule) })]);
const Params = Type.Object({ tenant: Type.String() });

export function redactionRoutes(services: Services) {
  return async function registerRedactionRoutes(app: FastifyInstance): Promise<void> {
    const answer = (tenant: string, settings: RedactionSettings) => ({ tenant, ...settings, default_rules: DEFAULT_RULES });

    app.get(
      '/v1/tenants/:tenant/redaction',
      {
        onRequest: authenticate(services, 'read'),
        schema: {
          summary: "A tenant's redaction rules",
          tags: ['operator'],
          security: [{ bearer: [] }],
          params: Params,
          response: { 200: Answer },
        },
      },
      async (request) => {
        const tenant = await tenantFor(services, request, (request.params as { tenant: string }).tenant, '/tenant');
        return answer(tenant, await services.redaction.settings(tenant));
      },
    );

    app.put(
      '/v1/tenants/:tenant/redaction',
      {
        onRequest: authenticate(services, 'admin'),
        // Validation is parseSettings': every error names its rule's pointer.
        validatorCompiler: () => () => true,
        schema: {
          summary: "Replace a tenant's redaction rules",
          description: 'Applies to events received from then on (within seconds on every server process); stored events are not changed.',
          tags: ['operator'],
          security: [{ bearer: [] }],
          params: Params,
          body: Type.Partial(Settings),
          response: { 200: Answer },
        },
      },
      async (request) => {
        const tenant = await tenantFor(services, request, (request.params as { tenant: string }).tenant, '/tenant');
        const settings = parseSettings(request.body);
        if (await services.redaction.replace(tenant, settings)) {
          await services.audit.record({
            tenant,
            principal: principalOf(request),
            action: 'tenant.redaction_updated',
            metadata: { defaults: settings.defaults, rules: settings.rules.length },
            context: requestContext(request),
          });
        }
        return answer(tenant, settings);
      },
    );
  };
}
