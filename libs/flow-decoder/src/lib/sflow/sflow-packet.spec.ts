import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowBatch } from '../flow-batch';
import { FlowDecoder } from '../flow-decoder';
import { buildEthernetFrame } from '../pcap/pcap-writer';
import type { SflowInterfaceCounters } from './sflow-decoder';
import { encodeSflowDatagram, type SflowFlowSampleSpec } from './sflow-encoder';

const frame = buildEthernetFrame({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 6, srcPort: 1000, dstPort: 22 });
const sample: SflowFlowSampleSpec = {
  kind: 'flow',
  samplingRate: 100,
  input: 1,
  output: 2,
  records: [{ kind: 'header', frameLength: 90, header: frame }],
};

describe('FlowDecoder routes sFlow v5', () => {
  test('records, per sub-agent packets, sequence loss, errors by reason and counter samples', () => {
    const dec = new FlowDecoder();
    const counters: SflowInterfaceCounters[] = [];
    dec.onSflowCounters = (c) => counters.push(c);
    const out = new FlowBatch(64);
    const pkt = (seq: number, sub = 0): Uint8Array =>
      encodeSflowDatagram({
        agent: '192.0.2.1',
        subAgentId: sub,
        sequence: seq,
        samples: [sample, sample, { kind: 'counters', interfaces: [{ ifIndex: 1, ifInOctets: 5 }] }],
      });
    const r1 = dec.decode(pkt(10), '192.0.2.1', 1000, out);
    assert.deepEqual(r1, { protocol: 'sflow_v5', records: 2, errors: 0 });
    dec.decode(pkt(11), '192.0.2.1', 1001, out);
    dec.decode(pkt(14), '192.0.2.1', 1002, out); // 12, 13 lost
    dec.decode(pkt(1, 3), '192.0.2.1', 1003, out); // another sub-agent
    const broken = pkt(15).slice();
    broken[broken.length - 200] ^= 0xff; // inside a record length: the sample is dropped, not the datagram
    const r5 = dec.decode(broken.subarray(0, broken.length - 1), '192.0.2.1', 1004, out);
    assert.ok(r5.errors >= 1);
    assert.equal(out.length, 8 + r5.records);
    assert.equal(counters.length, 4);
    const stats = dec.exporterStats().filter((s) => s.protocol === 'sflow_v5');
    const d0 = stats.find((s) => s.observation_domain === 0);
    const d3 = stats.find((s) => s.observation_domain === 3);
    assert.ok(d0 && d3);
    assert.deepEqual([d0.packets, d0.records, d0.sequence_lost], [4, 6 + r5.records, 2]);
    assert.equal(Object.values(d0.errors).reduce((a, b) => a + b, 0), r5.errors);
    assert.deepEqual([d3.packets, d3.records, d3.sequence_lost], [1, 2, 0]);
    assert.equal(out.observation_domain[6], 3);
  });

  test('auto-detected from the header; garbage is counted, never thrown', () => {
    const dec = new FlowDecoder();
    const out = new FlowBatch(8);
    const p = encodeSflowDatagram({ agent: '2001:db8::1', samples: [sample] });
    assert.equal(dec.decode(p, '2001:db8::1', 0, out).records, 1);
    const bad = dec.decode(p.subarray(0, 10), '2001:db8::1', 0, out, undefined, 'sflow_v5');
    assert.deepEqual([bad.records, bad.error], [0, 'too_short']);
  });

  test('an exception thrown by onFull reaches the caller', () => {
    const dec = new FlowDecoder();
    const out = new FlowBatch(1);
    const p = encodeSflowDatagram({ agent: '192.0.2.1', samples: [sample, sample] });
    assert.throws(
      () =>
        dec.decode(p, '192.0.2.1', 0, out, () => {
          throw new Error('sink down');
        }),
      /sink down/,
    );
  });
});
