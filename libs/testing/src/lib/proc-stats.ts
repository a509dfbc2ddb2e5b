/**
 * Linux /proc readings for the ingest benchmark and tests: per-socket UDP queue and drop counters, CPU ticks of a
 * process tree, RSS, and net.core.rmem_max (raised for the run when root, restored afterwards).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat (100 on every Linux this runs on). */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface UdpSock {
  /** Bytes queued in the receive buffer right now. */
  rxQueue: number;
  /** Datagrams the kernel dropped for this socket since it was opened (last column of /proc/net/udp). */
  drops: number;
}

/** UDP sockets bound to local `port` (IPv4 and IPv6 tables). */
export function udpSockets(port: number): UdpSock[] {
  const out: UdpSock[] = [];
  for (const f of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const p = line.trim().split(/\s+/);
      if (p.length < 13) continue;
      const local = p[1];
      if (parseInt(local.slice(local.lastIndexOf(':') + 1), 16) !== port) continue;
      out.push({ rxQueue: parseInt(p[4].split(':')[1], 16), drops: Number(p[12]) });
    }
  }
  return out;
}

export function udpDrops(port: number): number {
  return udpSockets(port).reduce((n, s) => n + s.drops, 0);
}

export function udpRxQueue(port: number): number {
  return udpSockets(port).reduce((n, s) => n + s.rxQueue, 0);
}

/** Udp counters of /proc/net/snmp (InDatagrams, RcvbufErrors, ...), whole host. */
export function snmpUdp(): Record<string, number> {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  if (lines.length < 2) return {};
  const k = lines[0].split(/\s+/).slice(1);
  const v = lines[1].split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(k.map((name, i) => [name, v[i]]));
}

/** Datagrams dropped because a CPU's input backlog (net.core.netdev_max_backlog) was full: loopback traffic passes it too. */
export function softnetDrops(): number {
  try {
    return readFileSync('/proc/net/softnet_stat', 'utf8')
      .split('\n')
      .filter(Boolean)
      .reduce((n, l) => n + parseInt(l.trim().split(/\s+/)[1], 16), 0);
  } catch {
    return 0;
  }
}

/** utime + stime (all threads) of one process, in ticks; 0 when it is gone. */
export function procTicks(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

/** The process and all its descendants (by PPid). */
export function processTree(pid: number): number[] {
  const parent = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]);
      const kids = parent.get(ppid) ?? [];
      kids.push(Number(d));
      parent.set(ppid, kids);
    } catch {
      /* gone meanwhile */
    }
  }
  const out: number[] = [];
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop() as number;
    out.push(p);
    todo.push(...(parent.get(p) ?? []));
  }
  return out;
}

export function treeTicks(pids: number[]): number {
  return pids.reduce((n, p) => n + procTicks(p), 0);
}

/** VmRSS of a process in bytes (undefined when it is gone). */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const RMEM = '/proc/sys/net/core/rmem_max';

export function rmemMax(): number {
  return Number(readFileSync(RMEM, 'utf8').trim());
}

/**
 * Raises net.core.rmem_max to at least `bytes` (root only) and returns a restore function; when it
 * cannot (not root, read-only /proc), returns undefined and the caller prints why.
 */
export function raiseRmemMax(bytes: number): { before: number; after: number; restore: () => void } | string {
  const before = rmemMax();
  if (before >= bytes) return { before, after: before, restore: () => undefined };
  if (process.getuid?.() !== 0) return `not root: net.core.rmem_max stays ${before}`;
  try {
    writeFileSync(RMEM, String(bytes));
  } catch (e) {
    return `cannot raise net.core.rmem_max (${(e as Error).message}); stays ${before}`;
  }
  let restored = false;
  return {
    before,
    after: rmemMax(),
    restore: () => {
      if (restored) return;
      restored = true;
      try {
        writeFileSync(RMEM, String(before));
      } catch {
        /* best effort */
      }
    },
  };
}

/** `taskset -c LIST` when taskset exists and a list is given, else nothing. */
export function pinPrefix(cpus: string): string[] {
  if (!cpus) return [];
  return hasTaskset() ? ['taskset', '-c', cpus] : [];
}

let tasksetFound: boolean | undefined;
export function hasTaskset(): boolean {
  tasksetFound ??= ['/usr/bin/taskset', '/bin/taskset', '/usr/local/bin/taskset'].some((p) => existsSync(p));
  return tasksetFound;
}

/** Total size of the regular files under a directory (symlinks followed once at the top). */
export function dirBytes(dir: string): number {
  let n = 0;
  const walk = (d: string): void => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        try {
          n += statSync(p).size;
        } catch {
          /* gone */
        }
      }
    }
  };
  walk(dir);
  return n;
}

