/**
 * The storage schema, in one place, as an ordered list of migrations. Applied versions are recorded in
 * `flowmesh.schema_migrations`; a store applies the missing ones in order on start.
 *
 * Every statement must run on ClickHouse 18.16 as well as chDB 26.x: no IPv4/IPv6 types (addresses are
 * FixedString(16), IPv4 stored IPv4-mapped), no LowCardinality, no TTL/codecs, no DateTime64. A later
 * migration may add modern features only behind a server-version check.
 */
export const DATABASE = 'flowmesh';
export const FLOWS_TABLE = `${DATABASE}.flows`;
export const MIGRATIONS_TABLE = `${DATABASE}.schema_migrations`;

export interface ColumnDef {
  name: string;
  type: string;
}

/** The columns written by the RowBinary encoder, in wire order (schema version 1). */
export const FLOW_COLUMNS: readonly ColumnDef[] = [
  { name: 'time_received', type: 'DateTime' },
  { name: 'flow_start', type: 'DateTime' },
  { name: 'flow_end', type: 'DateTime' },
  { name: 'exporter_addr', type: 'FixedString(16)' },
  { name: 'observation_domain', type: 'UInt32' },
  { name: 'flow_type', type: 'UInt8' },
  { name: 'sampling_rate', type: 'UInt32' },
  { name: 'ip_version', type: 'UInt8' },
  { name: 'src_addr', type: 'FixedString(16)' },
  { name: 'dst_addr', type: 'FixedString(16)' },
  { name: 'src_port', type: 'UInt16' },
  { name: 'dst_port', type: 'UInt16' },
  { name: 'protocol', type: 'UInt8' },
  { name: 'tcp_flags', type: 'UInt8' },
  { name: 'tos', type: 'UInt8' },
  { name: 'bytes', type: 'UInt64' },
  { name: 'packets', type: 'UInt64' },
  { name: 'in_if', type: 'UInt32' },
  { name: 'out_if', type: 'UInt32' },
  { name: 'src_as', type: 'UInt32' },
  { name: 'dst_as', type: 'UInt32' },
  { name: 'next_hop', type: 'FixedString(16)' },
  { name: 'src_mask', type: 'UInt8' },
  { name: 'dst_mask', type: 'UInt8' },
  { name: 'direction', type: 'UInt8' },
  { name: 'vlan', type: 'UInt16' },
  { name: 'src_mac', type: 'UInt64' },
  { name: 'dst_mac', type: 'UInt64' },
];

export interface Migration {
  version: number;
  description: string;
  statements: readonly string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'flows table',
    statements: [
      `CREATE TABLE IF NOT EXISTS ${FLOWS_TABLE} (\n${FLOW_COLUMNS.map((c) => `  ${c.name} ${c.type}`).join(',\n')}\n)` +
        ' ENGINE = MergeTree PARTITION BY toYYYYMMDD(time_received)' +
        ' ORDER BY (toStartOfHour(time_received), exporter_addr, time_received)',
    ],
  },
];

/** What a store must offer the migration runner (chDB and a ClickHouse server alike). */
export interface SqlRunner {
  exec(sql: string): Promise<void>;
  /** Rows of a SELECT as text cells. */
  select(sql: string): Promise<{ rows: string[][] }>;
}

/** Creates the database and applies every migration not yet recorded; returns the versions applied now. */
export async function migrate(db: SqlRunner, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  await db.exec(`CREATE DATABASE IF NOT EXISTS ${DATABASE}`);
  await db.exec(
    `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version UInt32, description String, applied_at DateTime)` +
      ' ENGINE = MergeTree ORDER BY version',
  );
  const done = new Set((await db.select(`SELECT version FROM ${MIGRATIONS_TABLE}`)).rows.map((r) => Number(r[0])));
  const applied: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(m.version)) continue;
    for (const sql of m.statements) await db.exec(sql);
    const description = m.description.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
    await db.exec(`INSERT INTO ${MIGRATIONS_TABLE} (version, description, applied_at) VALUES (${m.version}, '${description}', now())`);
    applied.push(m.version);
  }
  return applied;
}

/** The latest schema version this build knows. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
