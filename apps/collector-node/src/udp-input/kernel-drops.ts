import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Inodes of the sockets this process holds open (from /proc/self/fd). */
export function ownSocketInodes(): Set<string> {
  const out = new Set<string>();
  let fds: string[] = [];
  try {
    fds = readdirSync('/proc/self/fd');
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) out.add(m[1]);
    } catch {
      /* closed meanwhile */
    }
  }
  return out;
}

/**
 * The kernel's per-socket drop counter (the last column of /proc/net/udp and /proc/net/udp6) for the
 * sockets bound to `port` that this process owns (matched by inode). Undefined where /proc is missing.
 */
export function kernelDrops(port: number, inodes: Set<string>, text?: { udp?: string; udp6?: string }): number | undefined {
  let total = 0;
  let seen = false;
  for (const f of ['udp', 'udp6'] as const) {
    let body = text?.[f];
    if (body === undefined) {
      try {
        body = readFileSync(`/proc/net/${f}`, 'utf8');
      } catch {
        continue;
      }
    }
    for (const line of body.split('\n').slice(1)) {
      const c = line.trim().split(/\s+/);
      if (c.length < 13) continue;
      const local = c[1];
      const p = parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
      if (p !== port || !inodes.has(c[9])) continue;
      total += Number(c[c.length - 1]) || 0;
      seen = true;
    }
  }
  return seen ? total : undefined;
}
