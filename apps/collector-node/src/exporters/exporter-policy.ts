import { isIP } from 'node:net';
import { parseIpToBytes16 } from '@flowmesh/flow-decoder';

/** What a worker needs of an exporter's settings (plain data: it crosses to the decode workers). */
export interface ExporterSettings {
  name?: string;
  samplingRate?: number;
  defaultSamplingRate?: number;
  interfaces?: Record<string, string>;
}

export interface ExporterRule extends ExporterSettings {
  address: string;
  /** false: senders matching this rule are refused (a deny entry); default true. */
  allow?: boolean;
}

interface CompiledRule {
  net: Uint8Array;
  bits: number;
  allow: boolean;
  settings: ExporterSettings;
}

/** 'a.b.c.d', an IPv6 address, or either with '/prefix' -> 16-byte network (IPv4-mapped) and prefix bits. */
export function parseCidr(text: string): { net: Uint8Array; bits: number } | undefined {
  const [addr, len, more] = text.trim().split('/');
  if (more !== undefined) return undefined;
  const family = isIP(addr);
  if (!family) return undefined;
  const max = family === 4 ? 32 : 128;
  let bits = max;
  if (len !== undefined) {
    if (!/^\d{1,3}$/.test(len)) return undefined;
    bits = Number(len);
    if (bits > max) return undefined;
  }
  const net = new Uint8Array(16);
  if (!parseIpToBytes16(addr, net, 0)) return undefined;
  return { net, bits: family === 4 ? bits + 96 : bits };
}

function matches(addr: Uint8Array, net: Uint8Array, bits: number): boolean {
  let i = 0;
  for (; bits >= 8; bits -= 8, i++) if (addr[i] !== net[i]) return false;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return (addr[i] & mask) === (net[i] & mask);
}

export type ExporterDecision = { allowed: true; settings: ExporterSettings | undefined } | { allowed: false };

const NOT_ALLOWED: ExporterDecision = { allowed: false };
const UNKNOWN_ALLOWED: ExporterDecision = { allowed: true, settings: undefined };

/**
 * The exporter allow-list, checked on the receiving thread before a datagram reaches a decoder, so a
 * sender that is not allowed creates no decoder state. Decisions are cached per source address (the
 * cache is bounded: cleared when it reaches maxCached).
 */
export class ExporterPolicy {
  private readonly rules: CompiledRule[];
  private readonly cache = new Map<string, ExporterDecision>();
  private readonly scratch = new Uint8Array(16);

  constructor(
    rules: readonly ExporterRule[],
    readonly allowUnknown: boolean,
    private readonly maxCached = 65_536,
  ) {
    this.rules = rules.map((r) => {
      const c = parseCidr(r.address);
      if (!c) throw new Error(`exporters: bad address ${r.address}`);
      const { address: _a, allow, ...settings } = r;
      void _a;
      return { ...c, allow: allow !== false, settings };
    });
  }

  decide(address: string): ExporterDecision {
    let d = this.cache.get(address);
    if (d) return d;
    d = this.compute(address);
    if (this.cache.size >= this.maxCached) this.cache.clear();
    this.cache.set(address, d);
    return d;
  }

  /** Settings for an allowed exporter (undefined when it matched no rule or is not allowed). */
  settings(address: string): ExporterSettings | undefined {
    const d = this.decide(address);
    return d.allowed ? d.settings : undefined;
  }

  interfaceName(address: string, ifIndex: number): string | undefined {
    return this.settings(address)?.interfaces?.[String(ifIndex)];
  }

  private compute(address: string): ExporterDecision {
    const a = this.scratch;
    a.fill(0);
    if (!parseIpToBytes16(address, a, 0)) return this.allowUnknown ? UNKNOWN_ALLOWED : NOT_ALLOWED;
    for (const r of this.rules) if (matches(a, r.net, r.bits)) return r.allow ? { allowed: true, settings: r.settings } : NOT_ALLOWED;
    return this.allowUnknown ? UNKNOWN_ALLOWED : NOT_ALLOWED;
  }
}
