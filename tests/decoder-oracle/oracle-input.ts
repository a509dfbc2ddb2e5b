/**
 * The traffic the real exporters (softflowd, pmacctd) meter: a deterministic pcap of TCP, UDP and
 * ICMP conversations over IPv4 and IPv6 (one VLAN-tagged). Run directly to write the file:
 *   node oracle-input.js OUT.pcap
 */
import { writeFileSync } from 'node:fs';
import { buildEthernetFrame, writeClassicPcap, type CaptureFrame, type PacketSpec } from '@flowmesh/flow-decoder';

export const ORACLE_INPUT_START_MS = Date.UTC(2026, 0, 15, 12, 0, 0);

export function buildOracleInput(): Uint8Array {
  const frames: CaptureFrame[] = [];
  let t = ORACLE_INPUT_START_MS;
  const push = (spec: PacketSpec, gapMs = 7): void => {
    t += gapMs;
    frames.push({ tsMs: t, data: buildEthernetFrame(spec) });
  };
  // Deterministic pseudo-random numbers (LCG) so the capture is byte-identical on every run.
  let seed = 20260115;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };

  for (let f = 0; f < 40; f++) {
    const v6 = f % 3 === 2;
    const a = v6 ? `2001:db8:${f}::1` : `10.${f}.0.1`;
    const b = v6 ? `2001:db8:ffff::${f + 2}` : `192.168.${f}.2`;
    const kind = f % 5;
    const tos = (f % 4) * 0x20;
    const vlans = f === 7 ? [42] : undefined;
    if (kind <= 1) {
      const sp = 30000 + rnd(30000);
      const dp = [80, 443, 22, 25][f % 4];
      push({ src: a, dst: b, protocol: 6, srcPort: sp, dstPort: dp, tcpFlags: 0x02, tos, vlans });
      push({ src: b, dst: a, protocol: 6, srcPort: dp, dstPort: sp, tcpFlags: 0x12, tos, vlans });
      const n = 2 + rnd(6);
      for (let i = 0; i < n; i++) {
        push({ src: a, dst: b, protocol: 6, srcPort: sp, dstPort: dp, tcpFlags: 0x18, tos, payload: 50 + rnd(1200), vlans });
        push({ src: b, dst: a, protocol: 6, srcPort: dp, dstPort: sp, tcpFlags: 0x10, tos, payload: rnd(3) * 300, vlans });
      }
      push({ src: a, dst: b, protocol: 6, srcPort: sp, dstPort: dp, tcpFlags: 0x11, tos, vlans });
      push({ src: b, dst: a, protocol: 6, srcPort: dp, dstPort: sp, tcpFlags: 0x11, tos, vlans });
    } else if (kind <= 3) {
      const sp = 1024 + rnd(60000);
      const dp = [53, 123, 514, 4789][f % 4];
      const n = 1 + rnd(5);
      for (let i = 0; i < n; i++) {
        push({ src: a, dst: b, protocol: 17, srcPort: sp, dstPort: dp, tos, payload: 20 + rnd(500), vlans });
        if (i % 2 === 0) push({ src: b, dst: a, protocol: 17, srcPort: dp, dstPort: sp, tos, payload: 40 + rnd(900), vlans });
      }
    } else {
      const proto = v6 ? 58 : 1;
      const echo = v6 ? 128 : 8;
      const reply = v6 ? 129 : 0;
      push({ src: a, dst: b, protocol: proto, icmpType: echo, icmpCode: 0, payload: 56, tos });
      push({ src: b, dst: a, protocol: proto, icmpType: reply, icmpCode: 0, payload: 56, tos });
      push({ src: b, dst: a, protocol: proto, icmpType: v6 ? 1 : 3, icmpCode: v6 ? 4 : 3, payload: 28, tos });
    }
  }
  return writeClassicPcap(frames);
}

if (require.main === module) {
  const path = process.argv[2];
  if (!path) {
    process.stderr.write('usage: node oracle-input.js OUT.pcap\n');
    process.exit(2);
  }
  writeFileSync(path, buildOracleInput());
}
