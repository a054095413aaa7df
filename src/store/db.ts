/** The PostgreSQL connection (postgres.js): one pool per process, int8 parsed as number. */
import postgres from 'postgres';

export type Sql = postgres.Sql<Record<string, never>>;
export type TxSql = postgres.TransactionSql<Record<string, never>>;

export interface ConnectOptions {
  max?: number;
  /** Application name shown in pg_stat_activity. */
  name?: string;
}

export function connect(url: string, options: ConnectOptions = {}): Sql {
  return postgres(url, {
    max: options.max ?? 20,
    onnotice: () => {},
    connection: { application_name: options.name ?? 'trailproof' },
    // Sequence numbers and sizes are bigint in SQL; every value we store stays below 2^53.
    types: {
      bigint: { to: 20, from: [20], serialize: (v: number | bigint) => v.toString(), parse: (v: string) => Number(v) },
    },
  }) as unknown as Sql;
}
