/**
 * Our decoder vs tshark on captures of OUR generator (@flowmesh/flow-gen): NetFlow v5, v9, IPFIX and
 * the IPFIX variable-length (applicationName, 1- and 3-octet length forms) and enterprise (PEN 32473)
 * modes. Every canonical field of every record must agree, and for the IPFIX modes every extra field
 * tshark shows (IE 96 by value, enterprise fields as raw values with their PEN and id). The captures
 * are built in a temp dir on each run. Needs tshark.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FlowGenerator, PcapWriter, type GenProto } from '@flowmesh/flow-gen';
import {
  compareExtras,
  compareFrames,
  decodeCapture,
  expectedCflow,
  expectedCflowExtras,
  normaliseOurExtras,
  readCapture,
  tsharkJson,
  type Mismatch,
} from './tshark-oracle';

const PORT = 4739;
const START = Date.UTC(2026, 0, 15, 12, 0, 0);
const dir = mkdtempSync(path.join(tmpdir(), 'flowmesh-gen-oracle-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A capture of the generator's datagrams, as `flowmesh gen` sends them (template refreshes included). */
function capture(proto: GenProto): string {
  const g = new FlowGenerator({
    proto,
    host: '127.0.0.1',
    port: PORT,
    records: 400,
    rate: 2000,
    seed: 11,
    startTimeMs: START,
    distinct: 8,
    templateEvery: 4,
    sourceId: 7,
  });
  const w = new PcapWriter({ src: '192.0.2.9', dst: '192.0.2.1', dstPort: PORT, startTimeMs: START + 3, intervalUs: 1500 });
  for (const p of g.packets()) w.add(p);
  const file = path.join(dir, `${proto}.pcap`);
  writeFileSync(file, w.toBuffer());
  return file;
}

function describeMismatches(mm: Mismatch[]): string {
  return mm
    .slice(0, 25)
    .map((m) => `frame ${m.frame} record ${m.record} ${m.field}: ours=${JSON.stringify(m.ours)} tshark=${JSON.stringify(m.tshark)}`)
    .join('\n');
}

const files = new Map<GenProto, string>();
const fileFor = (proto: GenProto): string => {
  let f = files.get(proto);
  if (f === undefined) files.set(proto, (f = capture(proto)));
  return f;
};

describe('decoder vs tshark on the generator (flow-gen) captures', () => {
  for (const proto of ['v5', 'v9', 'ipfix', 'ipfix-varlen', 'ipfix-ent'] as const) {
    test(`${proto}: every canonical field${proto.startsWith('ipfix') ? ' and every extra field' : ''}`, () => {
      const file = fileFor(proto);
      const ours = decodeCapture(readCapture(file));
      const packets = tsharkJson(file, PORT, 'cflow');
      const expected = expectedCflow(packets);
      const total = expected.reduce((n, f) => n + f.length, 0);
      assert.equal(total, 400, `tshark found ${total} records, the generator sent 400`);
      const mm = compareFrames(ours.frames, expected);
      assert.equal(mm.length, 0, `${mm.length} mismatches in ${proto} (${total} records):\n${describeMismatches(mm)}`);
      const extrasExpected = expectedCflowExtras(packets);
      const mx = compareExtras(normaliseOurExtras(ours.extras), extrasExpected);
      assert.equal(mx.length, 0, `${mx.length} extra-field mismatches in ${proto}:\n${describeMismatches(mx)}`);
      // the modes really carry what they are meant to exercise
      const flat = extrasExpected.flat(2);
      if (proto === 'ipfix-varlen') {
        assert.equal(flat.filter((e) => e.id === 96 && e.pen === 0).length, 400);
        assert.ok(ours.extras.flat().some((l) => (l as { value: unknown }[] | undefined)?.some((e) => e.value instanceof Uint8Array)), 'no value longer than 6 bytes');
      } else if (proto === 'ipfix-ent') {
        assert.equal(flat.filter((e) => e.pen === 32473 && e.id === 1).length, 400);
        assert.equal(flat.filter((e) => e.pen === 32473 && e.id === 2).length, 400);
      } else {
        assert.equal(flat.length, 0);
      }
    });
  }
});

describe('the generator oracle comparison itself', () => {
  test('a single changed canonical field, extra value, extra PEN or a missing record is reported', () => {
    const ours = decodeCapture(readCapture(fileFor('ipfix-ent')));
    const copy = ours.frames.map((f) => f.map((r) => ({ ...r })));
    const fi = copy.findIndex((f) => f.length > 2);
    copy[fi][2].src_as = Number(copy[fi][2].src_as) + 1;
    assert.deepEqual(
      compareFrames(ours.frames, copy).map((m) => [m.frame, m.record, m.field]),
      [[fi, 2, 'src_as']],
    );
    const ex = normaliseOurExtras(ours.extras);
    const planted = ex.map((f) => f.map((r) => r.map((e) => ({ ...e }))));
    planted[fi][1][1].value = typeof planted[fi][1][1].value === 'number' ? planted[fi][1][1].value + 1 : `${planted[fi][1][1].value}00`;
    assert.deepEqual(
      compareExtras(ex, planted).map((m) => [m.frame, m.record, m.field]),
      [[fi, 1, 'extra']],
    );
    const penChanged = ex.map((f) => f.map((r) => r.map((e) => ({ ...e }))));
    penChanged[fi][0][0].pen = 32474;
    assert.equal(compareExtras(ex, penChanged).length, 1);
    copy[fi].pop();
    assert.ok(compareFrames(ours.frames, copy).some((m) => m.field === '#records'));
  });
});
