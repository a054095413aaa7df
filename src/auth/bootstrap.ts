/**
 * First run: make sure an operator can get in. `TRAILPROOF_ADMIN_KEY` is installed as an unbound
 * admin key if absent (automation); otherwise, when no unbound admin key exists, one is generated
 * and returned so `serve` can print it once.
 */
import type { Sql } from '../store/db.ts';
import { createApiKey, hasAdminKey, keyIdentity, getApiKey } from './api-keys.ts';

export async function bootstrapAdminKey(sql: Sql, configuredKey: string | undefined): Promise<string | undefined> {
  if (configuredKey !== undefined) {
    const existing = await getApiKey(sql, keyIdentity(configuredKey).id);
    if (!existing) {
      // Processes starting together on one database race to install it: the first insert wins.
      await createApiKey(sql, { name: 'admin (TRAILPROOF_ADMIN_KEY)', scope: 'admin', secret: configuredKey }).catch((err: unknown) => {
        if ((err as { code?: string }).code !== '23505') throw err;
      });
    }
    return undefined;
  }
  if (await hasAdminKey(sql)) return undefined;
  const { secret } = await createApiKey(sql, { name: 'first admin key', scope: 'admin' });
  return secret;
}
