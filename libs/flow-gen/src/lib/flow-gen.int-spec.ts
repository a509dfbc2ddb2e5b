import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowGenerator } from './flow-generator';
import { GEN_PROTOS, type GenSummary } from './gen-options';
import { PcapWriter, writePcap } from './pcap-writer';

// Cross-check against a decoder nobody here wrote: Wireshark's cflow dissector.
const tshark = (() => {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function run(args: string[]): string {
  return execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
}

describe('tshark decodes the generated exports', { skip: !tshark && !process.env.CI && 'tshark not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'flow-gen-'));
  test.after(() => rmSync(dir, { recursive: true, force: true }));

  test('v5, v9, ipfix, ipfix-varlen, ipfix-ent: record count, octet and packet sums equal the summary; no expert info', async () => {
    // One capture, one tshark run: each mode goes to its own port, so template caches stay apart.
    const t0 = Date.UTC(2026, 2, 3, 4, 5, 6);
    const port = (i: number): number => 2055 + i;
    const w = new PcapWriter({ startTimeMs: t0 });
    const summaries = new Map<number, GenSummary>();
    GEN_PROTOS.forEach((proto, i) => {
      const gen = new FlowGenerator({
        proto, host: '127.0.0.1', port: port(i), records: 2017, rate: 0, seed: 5 + i, startTimeMs: t0, templateEvery: 25,
      });
      summaries.set(port(i), gen.plannedSummary());
      for (const d of gen.packets()) w.add({ payload: d, dstPort: port(i) });
    });
    const file = join(dir, 'all-modes.pcap');
    await w.writeFile(file);

    const decodeAs = GEN_PROTOS.flatMap((_, i) => ['-d', `udp.port==${port(i)},cflow`]);
    const out = run(['-r', file, ...decodeAs, '-T', 'fields', '-E', 'aggregator=;', '-e', 'udp.dstport', '-e', 'cflow.octets',
      '-e', 'cflow.packets', '-e', '_ws.expert.message', '-e', '_ws.malformed']);
    const seen = new Map<number, { frames: number; records: number; octets: number; packets: number }>();
    for (const line of out.split('\n')) {
      if (!line) continue;
      const [dport, o, p, expert, malformed] = line.split('\t');
      assert.equal(expert + malformed, '', `tshark: ${line}`);
      const acc = seen.get(Number(dport)) ?? { frames: 0, records: 0, octets: 0, packets: 0 };
      acc.frames++;
      for (const v of o ? o.split(';') : []) {
        acc.records++;
        acc.octets += Number(v);
      }
      for (const v of p ? p.split(';') : []) acc.packets += Number(v);
      seen.set(Number(dport), acc);
    }
    GEN_PROTOS.forEach((proto, i) => {
      const s = summaries.get(port(i)) as GenSummary;
      assert.deepEqual(seen.get(port(i)), { frames: s.packets, records: s.records, octets: s.bytes, packets: s.packets_field }, proto);
      assert.equal(s.records, 2017);
    });
  });

  test('a sequence gap is visible to tshark (the expert check above can fail)', async () => {
    const gen = new FlowGenerator({ proto: 'ipfix', host: '127.0.0.1', port: 4739, records: 300, rate: 0, seed: 1, startTimeMs: Date.UTC(2026, 0, 1) });
    const pk = [...gen.packets()];
    pk.splice(3, 1); // drop one data message
    const file = join(dir, 'gap.pcap');
    await writePcap(file, pk, { dstPort: 4739 });
    assert.match(run(['-r', file, '-T', 'fields', '-e', '_ws.expert.message']), /Unexpected flow sequence/);
  });

  test('pcap writer: IPv4 and IPv6 UDP checksums pass tshark validation', async () => {
    const payloads = [Buffer.from('hello'), Buffer.alloc(1001, 7), Buffer.alloc(0)];
    for (const [src, dst] of [['127.0.0.1', '127.0.0.2'], ['::1', '2001:db8::5']]) {
      const file = join(dir, `ck-${src.length}.pcap`);
      await writePcap(file, payloads, { src, dst, srcPort: 1234, dstPort: 9999 });
      const out = run(['-r', file, '-o', 'udp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-T', 'fields',
        '-e', 'udp.checksum.status', '-e', 'ip.checksum.status', '-e', 'udp.length', '-e', 'ipv6.dst', '-e', 'ip.dst']);
      const rows = out.trim().split('\n').map((l) => l.split('\t'));
      assert.equal(rows.length, 3);
      for (const [i, r] of rows.entries()) {
        assert.equal(r[0], '1', `udp checksum good (${src})`); // 1 = Good
        if (src === '127.0.0.1') assert.equal(r[1], '1');
        assert.equal(Number(r[2]), 8 + payloads[i].length);
        assert.equal(r[3] || r[4], dst);
      }
    }
  });
});
