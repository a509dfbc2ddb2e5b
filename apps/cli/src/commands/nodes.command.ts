import { Command } from 'commander';
import { CliIo, DEFAULT_MASTER_URL, masterRequest, processIo, renderTable } from './query.command';

/** One node from the master's GET /api/v1/nodes (see apps/master/README.md). */
export interface NodeRow {
  id: string;
  group: string | null;
  status: 'up' | 'down';
  version: string;
  apiUrl: string;
  listeners: Array<{ protocol: string; port: number }>;
  lastHeartbeat: string | null;
  ingest: { flowsPerSecond: number; packetsPerSecond: number } | null;
  totals: { packets: number; flows: number; storedRows: number; decodeErrors: number } | null;
  loss?: { droppedPackets: number; droppedFlows: number; kernelDrops: number; spoolBytes: number; spoolAgeSeconds: number } | null;
}

/** Bytes as B, KiB, MiB, GiB (one decimal from KiB on). */
function size(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n}B` : `${n.toFixed(1)}${units[i]}`;
}

export interface NodeList {
  nodes: NodeRow[];
  up: number;
  down: number;
}

function age(iso: string | null, now: number): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

const rate = (n: number | undefined) => (n === undefined ? '-' : n >= 100 ? String(Math.round(n)) : n.toFixed(1));

export function formatNodeList(list: NodeList, now = Date.now()): string {
  if (list.nodes.length === 0) return 'no nodes registered\n';
  const rows = list.nodes.map((n) => [
    n.id,
    n.group ?? '-',
    n.status,
    n.version,
    n.apiUrl,
    n.listeners.map((l) => `${l.protocol}:${l.port}`).join(',') || '-',
    rate(n.ingest?.flowsPerSecond),
    rate(n.ingest?.packetsPerSecond),
    n.totals ? String(n.totals.flows) : '-',
    n.totals ? String(n.totals.decodeErrors) : '-',
    // Datagrams and flows the node dropped plus the kernel's socket drops; the spool's unacknowledged bytes.
    n.loss ? String(n.loss.droppedPackets + n.loss.droppedFlows + n.loss.kernelDrops) : '-',
    n.loss ? size(n.loss.spoolBytes) : '-',
    age(n.lastHeartbeat, now),
  ]);
  const table = renderTable(['id', 'group', 'status', 'version', 'api', 'listeners', 'flows/s', 'pkts/s', 'flows', 'errors', 'dropped', 'spool', 'heartbeat'], rows, [0, 1, 2, 3, 4, 5]);
  return table + `${list.up} up, ${list.down} down\n`;
}

/** `flowmesh nodes`: the master's node registry. */
export function registerNodes(program: Command, io: CliIo = processIo): Command {
  return program
    .command('nodes')
    .description('list the collector nodes registered with the master')
    .option('-m, --master <url>', 'master API base URL (env FLOWMESH_MASTER_URL)', DEFAULT_MASTER_URL)
    .option('--json', 'print the raw JSON answer')
    .action(async (opts: { master: string; json?: boolean }) => {
      const list = await masterRequest<NodeList>(opts.master, 'api/v1/nodes', undefined, 10_000);
      io.out(opts.json ? JSON.stringify(list, null, 2) + '\n' : formatNodeList(list));
    });
}
