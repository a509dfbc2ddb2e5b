/**
 * Our decoder vs tshark on captures of REAL exporters (softflowd, pmacctd nfprobe/sfprobe): every
 * canonical field of every record must agree. Captures and how they were made:
 * libs/flow-decoder/testdata/captures.json and regenerate.sh. Needs tshark.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SFLOW_EXTRA_IE, type FlowProtocol } from '@flowmesh/flow-decoder';
import {
  compareFrames,
  decodeCapture,
  expectedCflow,
  expectedSflow,
  readCapture,
  tsharkJson,
  type Mismatch,
} from './tshark-oracle';

function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'nx.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('repo root (nx.json) not found');
    dir = up;
  }
  return dir;
}

interface CaptureEntry {
  file: string;
  port: number;
  protocol: FlowProtocol;
  exporter: string;
}

const testdata = path.join(repoRoot(), 'libs/flow-decoder/testdata');
const manifest = JSON.parse(readFileSync(path.join(testdata, 'captures.json'), 'utf8')) as { captures: CaptureEntry[] };

function describeMismatches(mm: Mismatch[]): string {
  return mm
    .slice(0, 25)
    .map((m) => `frame ${m.frame} record ${m.record} ${m.field}: ours=${JSON.stringify(m.ours)} tshark=${JSON.stringify(m.tshark)}`)
    .join('\n');
}

describe('decoder vs tshark on real exporter captures', () => {
  for (const c of manifest.captures) {
    test(`${c.file} (${c.exporter})`, () => {
      const file = path.join(testdata, c.file);
      const bytes = readCapture(file);
      // auto-detection, as the collector does it (no forced protocol)
      const ours = decodeCapture(bytes);
      const sflow = c.protocol === 'sflow_v5';
      const packets = tsharkJson(file, c.port, sflow ? 'sflow' : 'cflow');
      const expected = sflow ? expectedSflow(packets).frames : expectedCflow(packets);
      const total = expected.reduce((n, f) => n + f.length, 0);
      assert.ok(total >= 20, `tshark found only ${total} records in ${c.file}: the capture is not a useful oracle`);
      const mm = compareFrames(ours.frames, expected);
      assert.equal(mm.length, 0, `${mm.length} mismatches in ${c.file} (${total} records):\n${describeMismatches(mm)}`);
      if (sflow) {
        // the agent address differs from the packet source: kept as exporterIPv4Address in extra
        const { agents } = expectedSflow(packets);
        ours.extras.forEach((frame, fi) => {
          const [a, b, cc, d] = agents[fi].split('.').map(Number);
          const want = ((a << 24) >>> 0) + (b << 16) + (cc << 8) + d;
          for (const ex of frame) {
            const agent = (ex as { id: number; value: unknown }[] | undefined)?.find((e) => e.id === SFLOW_EXTRA_IE.agentIPv4);
            assert.equal(agent?.value, want, `frame ${fi}: agent extra`);
          }
        });
      }
    });
  }
});

describe('the oracle comparison itself', () => {
  test('a single changed field or a missing record is reported', () => {
    const c = manifest.captures.find((e) => e.protocol === 'netflow_v9');
    assert.ok(c);
    const ours = decodeCapture(readCapture(path.join(testdata, c.file))).frames;
    const copy = ours.map((f) => f.map((r) => ({ ...r })));
    const fi = copy.findIndex((f) => f.length > 1);
    copy[fi][1].dst_port = Number(copy[fi][1].dst_port) + 1;
    assert.deepEqual(
      compareFrames(ours, copy).map((m) => [m.frame, m.record, m.field]),
      [[fi, 1, 'dst_port']],
    );
    copy[fi].pop();
    assert.ok(compareFrames(ours, copy).some((m) => m.field === '#records'));
  });
});
