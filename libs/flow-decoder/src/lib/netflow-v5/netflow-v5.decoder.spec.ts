import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowBatch, FLOW_TYPE } from '../flow-batch';
import { FlowDecoder } from '../flow-decoder';
import { v5Packet, type V5Record } from '../../testing/packets';
import { row, rows } from '../../testing/rows';

const SECS = 1_700_000_000;
const REC: V5Record = {
  src: '10.0.0.1',
  dst: '192.168.1.2',
  nextHop: '10.0.0.254',
  inIf: 3,
  outIf: 7,
  packets: 12,
  bytes: 3400,
  first: 990_000,
  last: 999_500,
  srcPort: 51000,
  dstPort: 443,
  tcpFlags: 0x1b,
  protocol: 6,
  tos: 0x28,
  srcAs: 64512,
  dstAs: 65001,
  srcMask: 24,
  dstMask: 16,
};

function stats(d: FlowDecoder) {
  return d.exporterStats().find((s) => s.protocol === 'netflow_v5')!;
}

describe('NetFlow v5', () => {
  test('decodes every field and converts uptime-relative times to epoch ms', () => {
    const d = new FlowDecoder();
    const out = new FlowBatch(16);
    const pkt = v5Packet({ uptime: 1_000_000, secs: SECS, nsecs: 250_000_000, seq: 100, sampling: 0 }, [REC, { ...REC, src: '10.0.0.9', first: 1_000_100, last: 1_000_100 }]);
    const res = d.decode(pkt, '198.51.100.7', 1_700_000_000_900, out);
    assert.deepEqual(res, { protocol: 'netflow_v5', records: 2, errors: 0 });
    assert.equal(out.length, 2);
    const exportMs = SECS * 1000 + 250;
    assert.deepEqual(row(out, 0), {
      time_received: 1_700_000_000_900,
      flow_start: exportMs - 10_000,
      flow_end: exportMs - 500,
      exporter_addr: '198.51.100.7',
      observation_domain: 0,
      flow_type: FLOW_TYPE.netflow_v5,
      sampling_rate: 1,
      ip_version: 4,
      src_addr: '10.0.0.1',
      dst_addr: '192.168.1.2',
      src_port: 51000,
      dst_port: 443,
      protocol: 6,
      tcp_flags: 0x1b,
      tos: 0x28,
      bytes: 3400,
      packets: 12,
      in_if: 3,
      out_if: 7,
      src_as: 64512,
      dst_as: 65001,
      next_hop: '10.0.0.254',
      src_mask: 24,
      dst_mask: 16,
      direction: 0,
      vlan: 0,
      src_mac: '00:00:00:00:00:00',
      dst_mac: '00:00:00:00:00:00',
      extra: [],
    });
    // a "first" after the header's uptime (clock skew) is in the future, not 49 days back
    assert.equal(row(out, 1).flow_start, exportMs + 100);
    assert.equal(row(out, 1).src_addr, '10.0.0.9');
    const s = stats(d);
    assert.equal(s.packets, 1);
    assert.equal(s.records, 2);
    assert.deepEqual(s.errors, {});
  });

  test('uptime wrap-around: first just before 2^32, header uptime just after', () => {
    const d = new FlowDecoder();
    const out = new FlowBatch(4);
    d.decode(v5Packet({ uptime: 1000, secs: SECS, seq: 0 }, [{ ...REC, first: 0xffffffff - 999, last: 500 }]), '10.9.9.9', 0, out);
    assert.equal(out.flow_start[0], SECS * 1000 - 2000);
    assert.equal(out.flow_end[0], SECS * 1000 - 500);
  });

  test('sampling interval: low 14 bits, mode bits ignored, 0 and 1 mean unsampled', () => {
    const d = new FlowDecoder();
    const out = new FlowBatch(8);
    d.decode(v5Packet({ uptime: 1, secs: SECS, seq: 0, sampling: (1 << 14) | 100 }, [REC]), '10.1.1.1', 0, out);
    d.decode(v5Packet({ uptime: 1, secs: SECS, seq: 1, sampling: 0 }, [REC]), '10.1.1.1', 0, out);
    d.decode(v5Packet({ uptime: 1, secs: SECS, seq: 2, sampling: 1 }, [REC]), '10.1.1.1', 0, out);
    d.decode(v5Packet({ uptime: 1, secs: SECS, seq: 3, sampling: (3 << 14) | 0x3fff }, [REC]), '10.1.1.1', 0, out);
    assert.deepEqual([...out.sampling_rate.subarray(0, 4)], [100, 1, 1, 16383]);
  });

  test('sequence counts flows: loss, reordering and restart', () => {
    const d = new FlowDecoder();
    const out = new FlowBatch(64);
    const send = (seq: number, n: number, uptime = 5_000_000) =>
      d.decode(v5Packet({ uptime, secs: SECS, seq }, Array(n).fill(REC)), '10.2.2.2', 0, out, (b) => b.clear());
    send(0, 2); // expect 2
    send(2, 3); // expect 5
    send(10, 1); // 5 flows lost (5..9), expect 11
    assert.equal(stats(d).sequence_lost, 5);
    send(5, 2); // late: out of order, its 2 flows were not lost after all
    assert.equal(stats(d).sequence_out_of_order, 1);
    assert.equal(stats(d).sequence_lost, 3);
    send(11, 1);
    send(0, 1, 1_000); // uptime went back: restart, not loss
    assert.equal(stats(d).sequence_resets, 1);
    assert.equal(stats(d).sequence_lost, 3);
    send(1, 1, 2_000);
    assert.equal(stats(d).sequence_lost, 3);
    assert.equal(stats(d).sequence_out_of_order, 1);
  });

  test('engines behind one address keep their own sequence', () => {
    const d = new FlowDecoder();
    const out = new FlowBatch(64);
    d.decode(v5Packet({ uptime: 1, secs: SECS, seq: 0, engineId: 1 }, [REC]), '10.3.3.3', 0, out);
    d.decode(v5Packet({ uptime: 1, secs: SECS, seq: 500, engineId: 2 }, [REC]), '10.3.3.3', 0, out);
    d.decode(v5Packet({ uptime: 1, secs: SECS, seq: 1, engineId: 1 }, [REC]), '10.3.3.3', 0, out);
    d.decode(v5Packet({ uptime: 1, secs: SECS, seq: 501, engineId: 2 }, [REC]), '10.3.3.3', 0, out);
    assert.equal(stats(d).sequence_lost, 0);
    assert.equal(stats(d).sequence_out_of_order, 0);
  });

  test('truncated packet: complete records decoded, counted once', () => {
    const d = new FlowDecoder();
    const out = new FlowBatch(8);
    const pkt = v5Packet({ uptime: 1, secs: SECS, seq: 0 }, [REC, REC, REC]);
    const res = d.decode(pkt.subarray(0, 24 + 48 * 2 + 20), '10.4.4.4', 0, out);
    assert.deepEqual(res, { protocol: 'netflow_v5', records: 2, errors: 1, error: 'truncated' });
    assert.deepEqual(stats(d).errors, { truncated: 1 });
    // a count that lies upward is the same case
    const liar = v5Packet({ uptime: 1, secs: SECS, seq: 3, count: 30 }, [REC]);
    assert.equal(d.decode(liar, '10.4.4.4', 0, out).records, 1);
    assert.deepEqual(stats(d).errors, { truncated: 2 });
    // a header alone
    assert.deepEqual(d.decode(pkt.subarray(0, 10), '10.4.4.4', 0, out), { protocol: 'netflow_v5', records: 0, errors: 1, error: 'too_short' });
  });

  test('a full batch is flushed through onFull and decoding continues', () => {
    const d = new FlowDecoder();
    const out = new FlowBatch(2);
    const seen: string[] = [];
    const pkt = v5Packet({ uptime: 1, secs: SECS, seq: 0 }, [1, 2, 3, 4, 5].map((i) => ({ ...REC, src: `10.0.0.${i}` })));
    const res = d.decode(pkt, '10.5.5.5', 0, out, (b) => {
      seen.push(...rows(b).map((r) => r.src_addr));
      b.clear();
    });
    seen.push(...rows(out).map((r) => r.src_addr));
    assert.equal(res.records, 5);
    assert.deepEqual(seen, ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5']);
    // without onFull the rest is dropped and counted
    const small = new FlowBatch(2);
    const res2 = d.decode(pkt, '10.5.5.5', 0, small);
    assert.deepEqual(res2, { protocol: 'netflow_v5', records: 2, errors: 1, error: 'batch_full' });
  });
});

describe('NetFlow v5 decode paths', () => {
  test('aligned (word reads) and unaligned (byte reads) payloads give identical rows', () => {
    const recs: V5Record[] = [];
    for (let k = 0; k < 30; k++) {
      recs.push({
        ...REC,
        src: `10.${k}.${255 - k}.1`,
        dst: `192.168.${k}.${k * 7}`,
        nextHop: `172.16.${k}.254`,
        inIf: 65535 - k,
        outIf: 256 + k,
        packets: 0xfffffff0 + (k % 15),
        bytes: 0x80000000 + k,
        first: 990_000 + k,
        last: 4_294_967_000 + k, // past the header uptime: wraps to the future, as signed 32-bit
        srcPort: 0xff00 + k,
        dstPort: k,
        tcpFlags: 0xff - k,
        protocol: 250 + (k % 6),
        tos: 0x80 | k,
        srcAs: 65535 - k,
        dstAs: 0x0102 + k,
        srcMask: 32 - k,
        dstMask: k,
      });
    }
    const pkt = v5Packet({ uptime: 1_000_000, secs: SECS, nsecs: 999_999_999, seq: 7, sampling: 0x4000 | 100 }, recs);
    const shifted = new Uint8Array(pkt.length + 3);
    shifted.set(pkt, 3);
    const variants = [pkt, shifted.subarray(3), new Uint8Array(pkt.buffer.slice(0), pkt.byteOffset, pkt.length)];
    const results = variants.map((p) => {
      const d = new FlowDecoder();
      const out = new FlowBatch(64);
      assert.deepEqual(d.decode(p, '198.51.100.7', 1, out), { protocol: 'netflow_v5', records: 30, errors: 0 });
      return rows(out);
    });
    assert.equal(variants[0].byteOffset & 3, 0);
    assert.equal(variants[1].byteOffset & 3, 3);
    assert.deepEqual(results[1], results[0]);
    assert.deepEqual(results[2], results[0]);
    const r = results[0];
    for (let k = 0; k < 30; k++) {
      assert.equal(r[k].src_addr, `10.${k}.${255 - k}.1`);
      assert.equal(r[k].next_hop, `172.16.${k}.254`);
      assert.equal(r[k].in_if, 65535 - k);
      assert.equal(r[k].out_if, 256 + k);
      assert.equal(r[k].packets, 0xfffffff0 + (k % 15));
      assert.equal(r[k].bytes, 0x80000000 + k);
      assert.equal(r[k].src_port, 0xff00 + k);
      assert.equal(r[k].dst_port, k);
      assert.equal(r[k].tcp_flags, 0xff - k);
      assert.equal(r[k].protocol, 250 + (k % 6));
      assert.equal(r[k].tos, 0x80 | k);
      assert.equal(r[k].src_as, 65535 - k);
      assert.equal(r[k].dst_as, 0x0102 + k);
      assert.equal(r[k].src_mask, 32 - k);
      assert.equal(r[k].dst_mask, k);
      assert.equal(r[k].sampling_rate, 100);
    }
    const exportMs = SECS * 1000 + 999;
    assert.equal(r[0].flow_start, exportMs - 10_000);
    assert.equal(r[0].flow_end, exportMs - ((1_000_000 - 4_294_967_000) | 0));
  });
});
