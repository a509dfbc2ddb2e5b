/**
 * The storage schema, in one place, as an ordered list of migrations. Applied versions are recorded in
 * `<db>.schema_migrations`; a store applies the missing ones in order on start.
 *
 * Every statement runs on ClickHouse 18.16 as well as 26.x (chDB): addresses are FixedString(16) (IPv4
 * stored IPv4-mapped), no LowCardinality (there are no string columns to use it on). Modern features —
 * ZSTD codecs, TTL, the batch_id skip index — are emitted only when the server's `SELECT version()`
 * allows them (ServerFeatures). Retention is not a migration (it follows the config): see retention.ts.
 */
export const DATABASE = 'flowmesh';
/** The raw table in the default database (chDB); a server store may use another database (store.database). */
export const FLOWS_TABLE = `${DATABASE}.flows`;
export const MIGRATIONS_TABLE = `${DATABASE}.schema_migrations`;

export interface ColumnDef {
  name: string;
  type: string;
}

/** The flow columns written by the RowBinary encoder, in wire order (canonical field names). */
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

/** Every column of the raw table, in table and RowBinary order: the flow columns, then batch_id. */
export const RAW_COLUMNS: readonly ColumnDef[] = [...FLOW_COLUMNS, { name: 'batch_id', type: 'UInt64' }];

/** The rollups' group-by columns (after the time bucket `ts`), all copied from the raw table. */
export const ROLLUP_DIMENSIONS = ['exporter_addr', 'flow_type', 'ip_version', 'protocol', 'in_if', 'out_if', 'src_as', 'dst_as', 'tos', 'direction'] as const;
/** The rollups' summed columns as queries see them: sums of bytes/packets, the flow count, sampling-scaled sums. */
export const ROLLUP_SUMS = ['bytes', 'packets', 'flows', 'bytes_scaled', 'packets_scaled'] as const;
/**
 * How they are stored. `bytes` and `packets` are ALIAS columns over `sum_bytes` / `sum_packets`: a view
 * `SELECT sum(bytes) AS bytes FROM flows` is refused by both dialects (the old analyzer substitutes the
 * alias into itself), and the way around it — a renaming subquery — cannot be pushed through on 18.16.
 */
export const ROLLUP_STORED_SUMS = ['sum_bytes', 'sum_packets', 'flows', 'bytes_scaled', 'packets_scaled'] as const;

export interface RollupDef {
  table: 'flows_1m' | 'flows_1h';
  /** Bucket function applied to time_received. */
  bucket: 'toStartOfMinute' | 'toStartOfHour';
  /** Coarser time prefix of the sort key (the raw table's `(toStartOfHour(ts), exporter, ts)` pattern). */
  orderPrefix: string;
  partitionBy: string;
}

export const ROLLUPS: readonly RollupDef[] = [
  { table: 'flows_1m', bucket: 'toStartOfMinute', orderPrefix: 'toStartOfHour(ts)', partitionBy: 'toYYYYMMDD(ts)' },
  { table: 'flows_1h', bucket: 'toStartOfHour', orderPrefix: 'toStartOfDay(ts)', partitionBy: 'toYYYYMM(ts)' },
];

/**
 * Address rollups ("top talkers"): per hour, per source (or destination) address and exporter, the same
 * sums as flows_1h. A top-N by address over a long range reads these instead of every raw flow; the
 * planner uses them when the query groups and filters only on that address and the exporter.
 */
export interface AddressRollupDef {
  table: 'flows_src_1h' | 'flows_dst_1h';
  address: 'src_addr' | 'dst_addr';
}
export const ADDRESS_ROLLUPS: readonly AddressRollupDef[] = [
  { table: 'flows_src_1h', address: 'src_addr' },
  { table: 'flows_dst_1h', address: 'dst_addr' },
];

const ROLLUP_SUM_COLUMNS: ColumnDef[] = [
  ...ROLLUP_STORED_SUMS.map((name) => ({ name, type: 'UInt64' })),
  { name: 'bytes', type: 'UInt64 ALIAS sum_bytes' },
  { name: 'packets', type: 'UInt64 ALIAS sum_packets' },
];
const ROLLUP_SUMS_SELECT =
  'sum(bytes) AS sum_bytes, sum(packets) AS sum_packets, count() AS flows, ' +
  'sum(bytes * greatest(sampling_rate, 1)) AS bytes_scaled, sum(packets * greatest(sampling_rate, 1)) AS packets_scaled';

/** What the connected server can do, from `SELECT version()`. */
export interface ServerFeatures {
  version: string;
  major: number;
  minor: number;
  /** Per-column compression codecs (19.x+; we require 20.x for all three). */
  codecs: boolean;
  /** Table TTL and `ttl_only_drop_parts`. */
  ttl: boolean;
  /** Data-skipping indexes without experimental settings. */
  skipIndexes: boolean;
}

export function serverFeatures(version: string): ServerFeatures {
  const m = /^(\d+)\.(\d+)/.exec(version.trim());
  const major = m ? Number(m[1]) : 0;
  const minor = m ? Number(m[2]) : 0;
  const modern = major >= 20;
  return { version: version.trim(), major, minor, codecs: modern, ttl: modern, skipIndexes: modern };
}

export interface Migration {
  version: number;
  description: string;
  /** The statements for this server; none means "nothing to do on this server version" (not recorded). */
  statements: readonly string[];
}

function column(c: ColumnDef, f: ServerFeatures): string {
  if (!f.codecs || c.type.includes(' ALIAS ')) return `${c.name} ${c.type}`;
  const codec = c.name === 'time_received' || c.name === 'ts' ? 'CODEC(Delta, ZSTD(1))' : 'CODEC(ZSTD(1))';
  return `${c.name} ${c.type} ${codec}`;
}

function settings(f: ServerFeatures): string {
  // TTL removes whole parts only (a part never spans two partitions, so no part is rewritten).
  return f.ttl ? ' SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1' : '';
}

function rollupColumns(): ColumnDef[] {
  const byName = new Map(FLOW_COLUMNS.map((c) => [c.name, c.type]));
  return [
    { name: 'ts', type: 'DateTime' },
    ...ROLLUP_DIMENSIONS.map((name) => ({ name, type: byName.get(name) as string })),
    ...ROLLUP_SUM_COLUMNS,
  ];
}

/** The rollup target table: SummingMergeTree keyed by (time prefix, exporter, bucket, other dimensions). */
export function rollupTableDdl(db: string, r: RollupDef, f: ServerFeatures): string {
  const cols = rollupColumns().map((c) => `  ${column(c, f)}`);
  const key = [r.orderPrefix, 'exporter_addr', 'ts', ...ROLLUP_DIMENSIONS.filter((d) => d !== 'exporter_addr')].join(', ');
  return (
    `CREATE TABLE IF NOT EXISTS ${db}.${r.table} (\n${cols.join(',\n')}\n)` +
    ` ENGINE = SummingMergeTree((${ROLLUP_STORED_SUMS.join(', ')})) PARTITION BY ${r.partitionBy} ORDER BY (${key})${settings(f)}`
  );
}

/**
 * The view feeding a rollup, FROM THE RAW TABLE (on 18.16 a view reading another view's target never
 * fires). It pre-aggregates each insert block; SummingMergeTree folds equal keys across blocks on merge.
 * A sampling rate of 0 (unknown) scales by 1.
 */
export function rollupViewDdl(db: string, r: RollupDef): string {
  const dims = ROLLUP_DIMENSIONS.join(', ');
  return (
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.${r.table}_mv TO ${db}.${r.table} AS SELECT ` +
    `${r.bucket}(time_received) AS ts, ${dims}, ${ROLLUP_SUMS_SELECT} FROM ${db}.flows GROUP BY ts, ${dims}`
  );
}

/** An address rollup's table: SummingMergeTree keyed by (day, hour, exporter, address), partitioned by month. */
export function addressRollupTableDdl(db: string, r: AddressRollupDef, f: ServerFeatures): string {
  const cols: ColumnDef[] = [
    { name: 'ts', type: 'DateTime' },
    { name: 'exporter_addr', type: 'FixedString(16)' },
    { name: r.address, type: 'FixedString(16)' },
    ...ROLLUP_SUM_COLUMNS,
  ];
  return (
    `CREATE TABLE IF NOT EXISTS ${db}.${r.table} (\n${cols.map((c) => `  ${column(c, f)}`).join(',\n')}\n)` +
    ` ENGINE = SummingMergeTree((${ROLLUP_STORED_SUMS.join(', ')})) PARTITION BY toYYYYMM(ts)` +
    ` ORDER BY (toStartOfDay(ts), ts, exporter_addr, ${r.address})${settings(f)}`
  );
}

/**
 * Fills an address rollup from the flows stored before its view existed (a node upgraded with data).
 * Migrations run before the node ingests, so no row can be counted by both the view and this; the
 * emptiness guard keeps a re-run (a crash before the version was recorded) from adding the rows twice.
 */
export function addressRollupBackfill(db: string, r: AddressRollupDef): string {
  return (
    `INSERT INTO ${db}.${r.table} (ts, exporter_addr, ${r.address}, ${ROLLUP_STORED_SUMS.join(', ')}) ` +
    `SELECT toStartOfHour(time_received) AS ts, exporter_addr, ${r.address}, ${ROLLUP_SUMS_SELECT} FROM ${db}.flows ` +
    `WHERE (SELECT count() FROM ${db}.${r.table}) = 0 GROUP BY ts, exporter_addr, ${r.address}`
  );
}

/** The view feeding an address rollup, from the raw table (as the other rollups). */
export function addressRollupViewDdl(db: string, r: AddressRollupDef): string {
  return (
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.${r.table}_mv TO ${db}.${r.table} AS SELECT ` +
    `toStartOfHour(time_received) AS ts, exporter_addr, ${r.address}, ${ROLLUP_SUMS_SELECT} FROM ${db}.flows GROUP BY ts, exporter_addr, ${r.address}`
  );
}

/** The migrations for database `db` on a server with features `f`, in order. */
export function migrations(db: string, f: ServerFeatures): Migration[] {
  const [m1, m1h] = ROLLUPS;
  return [
    {
      version: 1,
      description: 'flows table',
      statements: [
        `CREATE TABLE IF NOT EXISTS ${db}.flows (\n${FLOW_COLUMNS.map((c) => `  ${column(c, f)}`).join(',\n')}\n)` +
          ' ENGINE = MergeTree PARTITION BY toYYYYMMDD(time_received)' +
          ` ORDER BY (toStartOfHour(time_received), exporter_addr, time_received)${settings(f)}`,
      ],
    },
    {
      version: 2,
      description: 'flows.batch_id (exactly-once replay)',
      statements: [`ALTER TABLE ${db}.flows ADD COLUMN IF NOT EXISTS ${column({ name: 'batch_id', type: 'UInt64' }, f)}`],
    },
    { version: 3, description: '1-minute rollup', statements: [rollupTableDdl(db, m1, f), rollupViewDdl(db, m1)] },
    { version: 4, description: '1-hour rollup', statements: [rollupTableDdl(db, m1h, f), rollupViewDdl(db, m1h)] },
    {
      version: 5,
      description: 'batch_id skip index (committed() reads a few granules, not the column)',
      statements: f.skipIndexes ? [`ALTER TABLE ${db}.flows ADD INDEX IF NOT EXISTS batch_id_idx batch_id TYPE minmax GRANULARITY 1`] : [],
    },
    {
      version: 6,
      description: 'hourly address rollups (top talkers by source and by destination)',
      statements: ADDRESS_ROLLUPS.flatMap((r) => [addressRollupTableDdl(db, r, f), addressRollupViewDdl(db, r), addressRollupBackfill(db, r)]),
    },
  ];
}

/** The latest schema version this build knows. */
export const SCHEMA_VERSION = 6;

/** What a store must offer the migration runner (chDB and a ClickHouse server alike). */
export interface SqlRunner {
  exec(sql: string): Promise<void>;
  /** Rows of a SELECT as text cells. */
  select(sql: string): Promise<{ rows: string[][] }>;
}

/** An error a concurrent runner causes by getting there first (the IF NOT EXISTS check raced). */
function alreadyThere(e: unknown): boolean {
  return /already exists|Code: (44|57|15)\b/i.test((e as Error).message ?? '');
}

function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

const ADD_COLUMN = /^ALTER TABLE (\w+)\.(\w+) ADD COLUMN IF NOT EXISTS (\w+) /;

/**
 * Runs one statement. 18.16 has no `ADD COLUMN IF NOT EXISTS`: such a statement becomes a look-up in
 * system.columns and a plain ADD COLUMN (a concurrent runner's duplicate is then "already exists").
 */
async function run(db: SqlRunner, sql: string): Promise<void> {
  const m = ADD_COLUMN.exec(sql);
  if (!m) return db.exec(sql);
  const [, database, table, name] = m;
  const have = await db.select(`SELECT count() FROM system.columns WHERE database = '${database}' AND table = '${table}' AND name = '${name}'`);
  if (Number(have.rows[0]?.[0]) > 0) return;
  try {
    await db.exec(sql.replace(' IF NOT EXISTS', ''));
  } catch (e) {
    if (!alreadyThere(e)) throw e;
  }
}

/** The server's version string. */
export async function serverVersion(db: SqlRunner): Promise<string> {
  return (await db.select('SELECT version()')).rows[0]?.[0] ?? '';
}

/**
 * Creates the database and applies every migration not yet recorded; returns the versions applied now.
 * Safe to run twice at once (a restart racing the old process, two nodes on one server): every statement
 * is IF [NOT] EXISTS, a race's "already exists" counts as done, and a version recorded twice reads once.
 * A migration with no statements on this server is not recorded, so it applies after a server upgrade.
 */
export async function migrate(db: SqlRunner, database: string, f: ServerFeatures, list: readonly Migration[] = migrations(database, f)): Promise<number[]> {
  await db.exec(`CREATE DATABASE IF NOT EXISTS ${database}`);
  const table = `${database}.schema_migrations`;
  await db.exec(`CREATE TABLE IF NOT EXISTS ${table} (version UInt32, description String, applied_at DateTime, server_version String) ENGINE = MergeTree ORDER BY version`);
  await run(db, `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS server_version String`); // tables of the first build lack it
  const done = new Set((await db.select(`SELECT DISTINCT version FROM ${table}`)).rows.map((r) => Number(r[0])));
  const applied: number[] = [];
  for (const m of [...list].sort((a, b) => a.version - b.version)) {
    if (done.has(m.version) || m.statements.length === 0) continue;
    for (const sql of m.statements) {
      try {
        await run(db, sql);
      } catch (e) {
        if (!alreadyThere(e)) throw new Error(`migration ${m.version} (${m.description}) failed: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    await db.exec(`INSERT INTO ${table} (version, description, applied_at, server_version) VALUES (${m.version}, ${quote(m.description)}, now(), ${quote(f.version)})`);
    applied.push(m.version);
  }
  return applied;
}
