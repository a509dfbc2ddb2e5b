import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowBatch, FLOW_TYPE } from '../flow-batch';
import { bytes16ToIpText, parseIpToBytes16 } from '../addr';
import { buildEthernetFrame, buildIpPacket } from '../pcap/pcap-writer';
import { decodeSflow, SFLOW_EXTRA_IE, type SflowInterfaceCounters } from './sflow-decoder';
import { encodeSflowDatagram, type SflowFlowRecordSpec, type SflowFlowSampleSpec } from './sflow-encoder';

const T = Date.UTC(2026, 10, 21, 10, 0, 0, 5);
const EXPORTER = '192.0.2.50';

function ex16(text = EXPORTER): Uint8Array {
  const b = new Uint8Array(16);
  assert.ok(parseIpToBytes16(text, b, 0));
  return b;
}

function header(frame: Uint8Array, frameLength = frame.length + 4, cut = 128): SflowFlowRecordSpec {
  return { kind: 'header', frameLength, header: frame.subarray(0, Math.min(cut, frame.length)) };
}

function flow(records: SflowFlowRecordSpec[], extra: Partial<SflowFlowSampleSpec> = {}): SflowFlowSampleSpec {
  return { kind: 'flow', samplingRate: 512, input: 3, output: 7, records, ...extra };
}

function row(out: FlowBatch, i: number): Record<string, unknown> {
  return {
    time_received: out.time_received[i],
    flow_start: out.flow_start[i],
    flow_end: out.flow_end[i],
    exporter_addr: bytes16ToIpText(out.exporter_addr, i * 16),
    observation_domain: out.observation_domain[i],
    flow_type: out.flow_type[i],
    sampling_rate: out.sampling_rate[i],
    ip_version: out.ip_version[i],
    src_addr: bytes16ToIpText(out.src_addr, i * 16),
    dst_addr: bytes16ToIpText(out.dst_addr, i * 16),
    src_port: out.src_port[i],
    dst_port: out.dst_port[i],
    protocol: out.protocol[i],
    tcp_flags: out.tcp_flags[i],
    tos: out.tos[i],
    bytes: out.bytes[i],
    packets: out.packets[i],
    in_if: out.in_if[i],
    out_if: out.out_if[i],
    src_as: out.src_as[i],
    dst_as: out.dst_as[i],
    next_hop: bytes16ToIpText(out.next_hop, i * 16),
    src_mask: out.src_mask[i],
    dst_mask: out.dst_mask[i],
    vlan: out.vlan[i],
    src_mac: out.src_mac[i],
    dst_mac: out.dst_mac[i],
  };
}

const tcp4 = buildEthernetFrame({
  src: '10.1.2.3',
  dst: '172.16.0.9',
  protocol: 6,
  srcPort: 44321,
  dstPort: 443,
  tcpFlags: 0x12,
  tos: 0xb8,
  vlans: [42],
  srcMac: '00:11:22:33:44:55',
  dstMac: 'aa:bb:cc:dd:ee:ff',
  payload: 1400,
});

describe('decodeSflow: flow samples', () => {
  test('compact sample: Ethernet + 802.1Q + IPv4 + TCP header, switch/router/gateway records', () => {
    const pkt = encodeSflowDatagram({
      agent: EXPORTER,
      subAgentId: 7,
      sequence: 99,
      samples: [
        flow([
          header(tcp4, 1518),
          { kind: 'switch', srcVlan: 42, dstVlan: 43 },
          { kind: 'router', nextHop: '192.0.2.254', srcMask: 24, dstMask: 16 },
          { kind: 'gateway', nextHop: '198.51.100.1', as: 65000, srcAs: 64512, srcPeerAs: 64513, asPath: [[64600, 64601], [64700]] },
        ]),
      ],
    });
    const out = new FlowBatch(8);
    const res = decodeSflow(pkt, ex16(), T, out);
    assert.equal(res.errors, 0, String(res.error));
    assert.deepEqual([res.records, res.samples, res.flowSamples, res.agentAddr, res.subAgentId, res.sequence], [1, 1, 1, EXPORTER, 7, 99]);
    assert.equal(out.length, 1);
    assert.deepEqual(row(out, 0), {
      time_received: T,
      flow_start: T,
      flow_end: T,
      exporter_addr: EXPORTER,
      observation_domain: 7,
      flow_type: FLOW_TYPE.sflow_v5,
      sampling_rate: 512,
      ip_version: 4,
      src_addr: '10.1.2.3',
      dst_addr: '172.16.0.9',
      src_port: 44321,
      dst_port: 443,
      protocol: 6,
      tcp_flags: 0x12,
      tos: 0xb8,
      bytes: 1518,
      packets: 1,
      in_if: 3,
      out_if: 7,
      src_as: 64512,
      dst_as: 64700,
      next_hop: '192.0.2.254',
      src_mask: 24,
      dst_mask: 16,
      vlan: 42,
      src_mac: 0x001122334455,
      dst_mac: 0xaabbccddeeff,
    });
    // agent == packet source: no agent extra; gateway next hop, peer ASes and dst_vlan are extras
    assert.deepEqual(out.extra[0], [
      { pen: 0, id: SFLOW_EXTRA_IE.postVlanId, value: 43 },
      { pen: 0, id: SFLOW_EXTRA_IE.bgpNextHopIPv4, value: 0xc6336401 },
      { pen: 0, id: SFLOW_EXTRA_IE.bgpPrevAdjacentAs, value: 64513 },
      { pen: 0, id: SFLOW_EXTRA_IE.bgpNextAdjacentAs, value: 64600 },
    ]);
  });

  test('expanded sample: IPv6 with extension headers + UDP, agent differs from the source', () => {
    const f = buildEthernetFrame({
      src: '2001:db8::10',
      dst: '2001:db8:ffff::1',
      protocol: 17,
      srcPort: 5353,
      dstPort: 53,
      tos: 0x28,
      ipv6ExtHeaders: [0, 60],
      payload: 60,
    });
    const pkt = encodeSflowDatagram({
      agent: '2001:db8::a',
      subAgentId: 1,
      samples: [flow([header(f)], { expanded: true, input: 0x40000001, output: 0x50000002, samplingRate: 1000 })],
    });
    const out = new FlowBatch(4);
    const res = decodeSflow(pkt, ex16(), T, out);
    assert.equal(res.errors, 0);
    const r = row(out, 0);
    assert.deepEqual(
      [r.ip_version, r.src_addr, r.dst_addr, r.protocol, r.src_port, r.dst_port, r.tos, r.in_if, r.out_if, r.sampling_rate, r.bytes, r.vlan],
      [6, '2001:db8::10', '2001:db8:ffff::1', 17, 5353, 53, 0x28, 0x40000001, 0x50000002, 1000, f.length + 4, 0],
    );
    assert.equal(res.agentAddr, '2001:db8::a');
    const agent = out.extra[0]?.[0];
    assert.equal(agent?.id, SFLOW_EXTRA_IE.agentIPv6);
    assert.deepEqual([...(agent?.value as Uint8Array)], [...ex16('2001:db8::a')]);
  });

  test('ICMP and ICMPv6: dst_port = type * 256 + code, src_port 0', () => {
    const icmp4 = buildEthernetFrame({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 1, icmpType: 3, icmpCode: 13 });
    const icmp6 = buildEthernetFrame({ src: 'fe80::1', dst: 'fe80::2', protocol: 58, icmpType: 135, icmpCode: 0 });
    const out = new FlowBatch(4);
    decodeSflow(encodeSflowDatagram({ agent: EXPORTER, samples: [flow([header(icmp4)]), flow([header(icmp6)])] }), ex16(), T, out);
    assert.deepEqual([out.protocol[0], out.src_port[0], out.dst_port[0]], [1, 0, 3 * 256 + 13]);
    assert.deepEqual([out.protocol[1], out.src_port[1], out.dst_port[1]], [58, 0, 135 * 256]);
  });

  test('QinQ: outer tag is vlan, inner tag in extra; extended switch overrides the header', () => {
    const qinq = buildEthernetFrame({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17, srcPort: 1, dstPort: 2, vlans: [100, 200] });
    const out = new FlowBatch(4);
    decodeSflow(
      encodeSflowDatagram({
        agent: EXPORTER,
        samples: [flow([header(qinq)]), flow([{ kind: 'switch', srcVlan: 5, dstVlan: 5 }, header(qinq)])],
      }),
      ex16(),
      T,
      out,
    );
    assert.equal(out.vlan[0], 100);
    assert.deepEqual(out.extra[0], [{ pen: 0, id: SFLOW_EXTRA_IE.innerVlanId, value: 200 }]);
    assert.equal(out.vlan[1], 5);
    assert.equal(out.dst_port[1], 2);
  });

  test('sampled IPv4 / IPv6 and ethernet frame data records without a header', () => {
    const out = new FlowBatch(4);
    const res = decodeSflow(
      encodeSflowDatagram({
        agent: EXPORTER,
        samples: [
          flow([
            { kind: 'ethernet', length: 1000, srcMac: 0x020000000001, dstMac: 0x020000000002, type: 0x0800 },
            { kind: 'ipv4', length: 986, protocol: 6, src: '192.0.2.1', dst: '192.0.2.2', srcPort: 80, dstPort: 1025, tcpFlags: 0x10, tos: 4 },
          ]),
          flow([{ kind: 'ipv6', length: 1280, protocol: 17, src: '2001:db8::1', dst: '2001:db8::2', srcPort: 123, dstPort: 123, tcpFlags: 0, tos: 0x20 }]),
        ],
      }),
      ex16(),
      T,
      out,
    );
    assert.equal(res.errors, 0);
    const a = row(out, 0);
    assert.deepEqual(
      [a.ip_version, a.src_addr, a.dst_addr, a.protocol, a.src_port, a.dst_port, a.tcp_flags, a.tos, a.bytes, a.src_mac, a.dst_mac],
      [4, '192.0.2.1', '192.0.2.2', 6, 80, 1025, 0x10, 4, 986, 0x020000000001, 0x020000000002],
    );
    const b = row(out, 1);
    assert.deepEqual([b.ip_version, b.src_addr, b.dst_addr, b.protocol, b.src_port, b.bytes, b.tos], [6, '2001:db8::1', '2001:db8::2', 17, 123, 1280, 0x20]);
  });

  test('header protocol IPv4 (11), non-first fragment has no ports, MPLS is walked', () => {
    const ip = buildIpPacket({ src: '10.9.9.9', dst: '10.8.8.8', protocol: 17, srcPort: 9, dstPort: 10 });
    const frag = buildIpPacket({ src: '10.9.9.9', dst: '10.8.8.8', protocol: 17, srcPort: 9, dstPort: 10 });
    frag[6] = 0x00;
    frag[7] = 0x10; // offset 16*8
    const mpls = new Uint8Array(14 + 8 + ip.length);
    mpls[12] = 0x88;
    mpls[13] = 0x47;
    mpls.set([0, 1, 0x00, 64, 0, 2, 0x01, 64], 14); // two labels, S bit on the second
    mpls.set(ip, 22);
    const out = new FlowBatch(4);
    decodeSflow(
      encodeSflowDatagram({
        agent: EXPORTER,
        samples: [
          flow([{ kind: 'header', headerProtocol: 11, frameLength: 100, header: ip }]),
          flow([{ kind: 'header', headerProtocol: 11, frameLength: 100, header: frag }]),
          flow([header(mpls)]),
        ],
      }),
      ex16(),
      T,
      out,
    );
    assert.equal(out.length, 3);
    assert.deepEqual([out.ip_version[0], out.src_port[0], out.dst_port[0]], [4, 9, 10]);
    assert.deepEqual([out.ip_version[1], out.protocol[1], out.src_port[1], out.dst_port[1]], [4, 17, 0, 0]);
    assert.deepEqual([out.ip_version[2], bytes16ToIpText(out.dst_addr, 32), out.dst_port[2]], [4, '10.8.8.8', 10]);
  });

  test('a header cut short yields what it holds; interface formats other than ifIndex give 0', () => {
    const out = new FlowBatch(4);
    const res = decodeSflow(
      encodeSflowDatagram({
        agent: EXPORTER,
        samples: [
          flow([header(tcp4, 1518, 14 + 4 + 20 + 4)], { outputFormat: 1, output: 256 }), // TCP ports only, no flags
          flow([header(tcp4, 1518, 20)], { input: 0x3fffffff }), // cut inside the IP header
        ],
      }),
      ex16(),
      T,
      out,
    );
    assert.equal(res.errors, 0);
    assert.deepEqual([out.src_port[0], out.dst_port[0], out.tcp_flags[0], out.out_if[0], out.in_if[0]], [44321, 443, 0, 0, 3]);
    assert.deepEqual([out.ip_version[1], out.bytes[1], out.vlan[1], out.in_if[1]], [0, 1518, 42, 0]);
  });

  test('unknown sample and record formats are skipped, not errors', () => {
    const out = new FlowBatch(4);
    const res = decodeSflow(
      encodeSflowDatagram({
        agent: EXPORTER,
        samples: [
          { kind: 'raw', enterprise: 4413, format: 5, data: new Uint8Array(12) },
          flow([{ kind: 'raw', enterprise: 0, format: 1012, data: new Uint8Array(8) }, header(tcp4)]),
        ],
      }),
      ex16(),
      T,
      out,
    );
    assert.deepEqual([res.errors, res.records, res.skipped, res.samples], [0, 1, 2, 2]);
    assert.equal(out.dst_port[0], 443);
  });
});

describe('decodeSflow: counter samples', () => {
  test('generic interface counters go to the sink, not to the batch', () => {
    const got: SflowInterfaceCounters[] = [];
    const out = new FlowBatch(4);
    const res = decodeSflow(
      encodeSflowDatagram({
        agent: EXPORTER,
        subAgentId: 2,
        uptimeMs: 123456,
        samples: [
          {
            kind: 'counters',
            sequence: 17,
            interfaces: [{ ifIndex: 3, ifSpeed: 10e9, ifInOctets: 2 ** 40 + 5, ifInUcastPkts: 1000, ifInErrors: 2, ifOutOctets: 77, ifOutDiscards: 9 }],
            raw: [{ format: 2, data: new Uint8Array(52) }],
          },
          { kind: 'counters', expanded: true, sourceIdIndex: 70000, interfaces: [{ ifIndex: 70000 }] },
        ],
      }),
      ex16(),
      T,
      out,
      undefined,
      { interfaceCounters: (c) => got.push(c) },
    );
    assert.deepEqual([res.errors, res.counterSamples, res.records, out.length, res.skipped], [0, 2, 0, 0, 1]);
    assert.equal(got.length, 2);
    const c = got[0];
    assert.deepEqual(
      [c.agentAddr, c.subAgentId, c.sampleSequence, c.sourceIdIndex, c.uptimeMs, c.ifIndex, c.ifSpeed, c.ifInOctets, c.ifInUcastPkts, c.ifInErrors, c.ifOutOctets, c.ifOutDiscards, c.timeReceivedMs],
      [EXPORTER, 2, 17, 3, 123456, 3, 10e9, 2 ** 40 + 5, 1000, 2, 77, 9, T],
    );
    assert.deepEqual([got[1].sourceIdIndex, got[1].ifIndex], [70000, 70000]);
  });
});

describe('decodeSflow: malformed input and batch limits', () => {
  const good = encodeSflowDatagram({ agent: EXPORTER, samples: [flow([header(tcp4)]), flow([header(tcp4)])] });

  test('datagram-level reasons', () => {
    const out = new FlowBatch(4);
    assert.equal(decodeSflow(good.subarray(0, 6), ex16(), T, out).error, 'too_short');
    assert.equal(decodeSflow(good.subarray(0, 20), ex16(), T, out).error, 'too_short');
    const v4 = good.slice();
    v4[3] = 4;
    assert.equal(decodeSflow(v4, ex16(), T, out).error, 'bad_version');
    const badAddr = good.slice();
    badAddr[7] = 3;
    assert.equal(decodeSflow(badAddr, ex16(), T, out).error, 'bad_address');
    assert.equal(out.length, 0);
  });

  test('a truncated second sample keeps the first', () => {
    const out = new FlowBatch(4);
    const res = decodeSflow(good.subarray(0, good.length - 10), ex16(), T, out);
    assert.deepEqual([res.records, res.errors, res.error, out.length], [1, 1, 'truncated', 1]);
  });

  test('record count and lengths that lie are counted, the next sample still decodes', () => {
    // sample 1: a header record whose header_size exceeds its record
    const lie = encodeSflowDatagram({ agent: EXPORTER, samples: [flow([header(tcp4)]), flow([header(tcp4)])] });
    const dv = new DataView(lie.buffer);
    // datagram header 28 bytes, sample header 8, compact flow sample fields 32, record header 8 -> header_size at +12
    dv.setUint32(28 + 8 + 32 + 8 + 12, 5000);
    let out = new FlowBatch(4);
    let res = decodeSflow(lie, ex16(), T, out);
    assert.deepEqual([res.records, res.errors, res.error, out.length, out.dst_port[0]], [1, 1, 'bad_flow_record', 1, 443]);
    // sample 1: record count says 3, only 1 present
    const count = good.slice();
    new DataView(count.buffer).setUint32(28 + 8 + 28, 3);
    out = new FlowBatch(4);
    res = decodeSflow(count, ex16(), T, out);
    assert.deepEqual([res.records, res.error, out.length], [1, 'bad_sample', 1]);
    // sample 1 too short for its own fields
    const short = encodeSflowDatagram({ agent: EXPORTER, samples: [{ kind: 'raw', format: 1, data: new Uint8Array(16) }, flow([header(tcp4)])] });
    out = new FlowBatch(4);
    res = decodeSflow(short, ex16(), T, out);
    assert.deepEqual([res.records, res.error, out.length], [1, 'bad_sample', 1]);
    // counter record too short
    const ctr = encodeSflowDatagram({ agent: EXPORTER, samples: [{ kind: 'counters', raw: [{ format: 1, data: new Uint8Array(40) }] }] });
    res = decodeSflow(ctr, ex16(), T, out, undefined, { interfaceCounters: () => assert.fail('no counters expected') });
    assert.equal(res.error, 'bad_counter_record');
  });

  test('batch full: onFull is called and decoding continues; without onFull the rest is dropped', () => {
    const pkt = encodeSflowDatagram({ agent: EXPORTER, samples: [1, 2, 3, 4, 5].map(() => flow([header(tcp4)])) });
    const out = new FlowBatch(2);
    let flushed = 0;
    const res = decodeSflow(pkt, ex16(), T, out, (b) => {
      flushed += b.length;
      b.clear();
    });
    assert.deepEqual([res.records, res.errors, flushed, out.length], [5, 0, 4, 1]);
    const out2 = new FlowBatch(2);
    const res2 = decodeSflow(pkt, ex16(), T, out2);
    assert.deepEqual([res2.records, res2.error, out2.length], [2, 'batch_full', 2]);
  });

  test('mutated datagrams never throw', () => {
    const seeds = [
      good,
      encodeSflowDatagram({
        agent: '2001:db8::1',
        samples: [
          flow([header(tcp4), { kind: 'gateway', nextHop: '2001:db8::fe', as: 1, srcAs: 2, srcPeerAs: 3, asPath: [[4, 5]] }, { kind: 'router', nextHop: '10.0.0.1', srcMask: 8, dstMask: 8 }], { expanded: true }),
          { kind: 'counters', interfaces: [{ ifIndex: 1 }] },
        ],
      }),
    ];
    let s = 42;
    const rnd = (n: number): number => {
      s = (s * 1664525 + 1013904223) >>> 0;
      return s % n;
    };
    const out = new FlowBatch(16);
    let decoded = 0;
    for (let i = 0; i < 20000; i++) {
      const seed = seeds[i % seeds.length];
      const m = seed.slice(0, seed.length - rnd(8));
      const flips = 1 + rnd(4);
      for (let k = 0; k < flips; k++) {
        const at = rnd(m.length);
        m[at] = rnd(3) === 0 ? 0xff : m[at] ^ (1 << rnd(8));
      }
      out.clear();
      const res = decodeSflow(m, ex16(), T, out, (b) => b.clear(), { interfaceCounters: () => undefined });
      decoded += res.records;
      assert.ok(out.length <= out.capacity);
    }
    assert.ok(decoded > 0);
  });
});
