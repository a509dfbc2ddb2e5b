import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Command, CommanderError } from 'commander';
import { buildUdpFrame, encodeSflowDatagram, readCaptureUdp, writePcapng } from '@flowmesh/flow-decoder';
import { readInput, registerDecode } from './decode.command';

function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'nx.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('repo root not found');
    dir = up;
  }
  return dir;
}

const testdata = path.join(repoRoot(), 'libs/flow-decoder/testdata');

function cli(): { program: Command; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const program = new Command('flowmesh').exitOverride().configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => err.push(s) });
  registerDecode(program);
  return { program, out, err };
}

async function run(args: string[]): Promise<{ lines: Record<string, unknown>[]; err: string }> {
  const { program, out, err } = cli();
  await program.parseAsync(['decode', ...args], { from: 'user' });
  const text = out.join('');
  const lines = text === '' ? [] : text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  return { lines, err: err.join('') };
}

/** Records announced by the v5 headers (count field), independent of the decoder. */
function v5Count(file: string): number {
  let n = 0;
  for (const d of readCaptureUdp(new Uint8Array(readFileSync(file)))) n += (d.payload[2] << 8) | d.payload[3];
  return n;
}

describe('flowmesh decode', () => {
  test('--help lists the options', async () => {
    const { program, out } = cli();
    await assert.rejects(program.parseAsync(['decode', '--help'], { from: 'user' }), (e: CommanderError) => e.code === 'commander.helpDisplayed');
    for (const flag of ['--proto', '--port', '--stats', '<file>']) assert.match(out.join(''), new RegExp(flag));
  });

  test('NetFlow v5 capture (softflowd): one canonical NDJSON line per record', async () => {
    const file = path.join(testdata, 'softflowd-v5.pcapng');
    const { lines, err } = await run([file]);
    assert.equal(err, '');
    assert.equal(lines.length, v5Count(file));
    const r = lines[0];
    assert.deepEqual(Object.keys(r).slice(0, 4), ['time_received', 'flow_start', 'flow_end', 'exporter_addr']);
    assert.equal(r.flow_type, 'netflow_v5');
    assert.equal(r.exporter_addr, '127.0.0.1');
    // softflowd -s 3 sampled the first TCP conversation away; the first record is a UDP flow
    assert.equal(r.src_addr, '10.3.0.1');
    assert.equal(r.dst_port, 4789);
    assert.equal(r.protocol, 17);
    // ICMP echo: softflowd puts type * 256 + code in the v5 dst port
    assert.ok(lines.some((l) => l.protocol === 1 && l.dst_port === 8 * 256));
    assert.equal(r.sampling_rate, 3);
    assert.match(String(r.flow_start), /^2026-01-15T12:00:00\.\d{3}Z$/);
    assert.match(String(r.time_received), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(typeof r.bytes, 'number');
    assert.equal(r.src_mac, '00:00:00:00:00:00');
  });

  test('v9 and IPFIX captures carry IPv6 flows in RFC 5952 text', async () => {
    for (const f of ['softflowd-v9.pcapng', 'pmacctd-nfprobe-ipfix.pcap']) {
      const { lines } = await run([path.join(testdata, f)]);
      assert.ok(lines.length >= 20, f);
      const v6 = lines.filter((l) => l.ip_version === 6);
      assert.ok(v6.length > 0, f);
      for (const l of v6) assert.match(String(l.src_addr), /^2001:db8:[0-9a-f:]+$/);
    }
  });

  test('sFlow capture (pmacctd sfprobe): agent address under extra, MACs as text', async () => {
    const { lines } = await run([path.join(testdata, 'pmacctd-sfprobe.pcap')]);
    assert.ok(lines.length > 100);
    const r = lines[0];
    assert.equal(r.flow_type, 'sflow_v5');
    assert.equal(r.observation_domain, 7);
    assert.deepEqual(r.extra, { exporterIPv4Address: '192.0.2.77' });
    assert.equal(r.src_mac, '02:00:00:00:00:01');
    assert.equal(r.flow_start, r.time_received);
  });

  test('--stats prints per-exporter counters on stderr; --proto forces the protocol', async () => {
    const file = path.join(testdata, 'softflowd-ipfix.pcapng');
    const { lines, err } = await run([file, '--stats']);
    const stats = JSON.parse(err);
    assert.equal(stats.records, lines.length);
    const exp = stats.exporters.find((e: { protocol: string }) => e.protocol === 'ipfix');
    assert.equal(exp.exporter, '127.0.0.1');
    assert.equal(exp.packets, stats.datagrams);
    assert.equal(exp.records, lines.length);
    assert.ok(exp.templates >= 4);
    assert.equal(typeof exp.sequence_lost, 'number');
    const forced = await run([file, '--proto', 'sflow', '--stats']);
    assert.equal(forced.lines.length, 0);
    const fs = JSON.parse(forced.err);
    assert.deepEqual(fs.datagrams_by_protocol, { sflow_v5: fs.datagrams });
    const sf = fs.exporters.find((e: { protocol: string }) => e.protocol === 'sflow_v5');
    assert.equal(sf.errors.bad_version, fs.datagrams);
  });

  test('--port filters datagrams; a non-capture file is refused', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'decode-spec-'));
    try {
      const hdr = { kind: 'header' as const, frameLength: 60, header: new Uint8Array(14) };
      const sample = { kind: 'flow' as const, samplingRate: 10, input: 1, output: 2, records: [hdr] };
      const p1 = encodeSflowDatagram({ agent: '192.0.2.1', samples: [sample] });
      const p2 = encodeSflowDatagram({ agent: '192.0.2.1', samples: [sample, sample] });
      const cap = path.join(dir, 'two.pcapng');
      writeFileSync(
        cap,
        writePcapng([
          { tsMs: 1000, data: buildUdpFrame('192.0.2.1', 5000, '192.0.2.9', 6343, p1) },
          { tsMs: 2000, data: buildUdpFrame('192.0.2.1', 5000, '192.0.2.9', 6344, p2) },
        ]),
      );
      assert.equal((await run([cap])).lines.length, 3);
      const only = await run([cap, '--port', '6344']);
      assert.equal(only.lines.length, 2);
      assert.equal(only.lines[0].time_received, '1970-01-01T00:00:02.000Z');
      const junk = path.join(dir, 'junk.pcap');
      writeFileSync(junk, 'not a capture at all');
      const { program, err } = cli();
      await assert.rejects(program.parseAsync(['decode', junk], { from: 'user' }), CommanderError);
      assert.match(err.join(''), /not a readable pcap\/pcapng capture \(pcap_bad_magic\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("'-' reads the capture from stdin", async () => {
    const bytes = readFileSync(path.join(testdata, 'softflowd-v5.pcapng'));
    const got = await readInput('-', Readable.from([bytes.subarray(0, 100), bytes.subarray(100)]));
    assert.deepEqual(Buffer.from(got), bytes);
  });
});
