import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { detectCaptureFormat, LINKTYPE, newPcapReadStats, readCaptureUdp, type UdpDatagram } from './pcap-reader';
import { buildEthernetFrame, buildIpPacket, buildUdpFrame, writeClassicPcap, writePcapng, type CaptureFrame } from './pcap-writer';

const T0 = Date.UTC(2026, 10, 21, 10, 0, 0, 123);
const payload = (n: number, seed = 1): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * seed + 3) & 0xff);

function frames(): CaptureFrame[] {
  return [
    { tsMs: T0, subMsNs: 456789, data: buildUdpFrame('192.0.2.1', 40000, '198.51.100.7', 2055, payload(30)) },
    { tsMs: T0 + 1, data: buildUdpFrame('2001:db8::1', 40001, '2001:db8:0:0:1::2', 4739, payload(100, 3)) },
    { tsMs: T0 + 2, data: buildEthernetFrame({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 6, srcPort: 1, dstPort: 2 }) },
  ];
}

function all(bytes: Uint8Array): { ds: UdpDatagram[]; stats: ReturnType<typeof newPcapReadStats> } {
  const stats = newPcapReadStats();
  return { ds: [...readCaptureUdp(bytes, stats)], stats };
}

function assertStandard(ds: UdpDatagram[], tsCheck = true): void {
  assert.equal(ds.length, 2);
  assert.deepEqual(
    ds.map((d) => [d.ipVersion, d.srcAddr, d.srcPort, d.dstAddr, d.dstPort, d.payload.length, d.frame]),
    [
      [4, '192.0.2.1', 40000, '198.51.100.7', 2055, 30, 0],
      [6, '2001:db8::1', 40001, '2001:db8::1:0:0:2', 4739, 100, 1],
    ],
  );
  assert.deepEqual([...ds[0].payload], [...payload(30)]);
  assert.deepEqual([...ds[1].payload], [...payload(100, 3)]);
  if (tsCheck) assert.deepEqual(ds.map((d) => d.tsMs), [T0, T0 + 1]);
}

describe('readCaptureUdp: classic pcap', () => {
  for (const bigEndian of [false, true]) {
    for (const nanos of [false, true]) {
      test(`${bigEndian ? 'big' : 'little'} endian, ${nanos ? 'ns' : 'µs'} magic`, () => {
        const file = writeClassicPcap(frames(), { bigEndian, nanos });
        assert.equal(detectCaptureFormat(file), 'pcap');
        const { ds, stats } = all(file);
        assertStandard(ds);
        assert.equal(stats.frames, 3);
        assert.equal(stats.nonUdp, 1);
        assert.equal(stats.error, undefined);
      });
    }
  }

  test('truncated record stops with a reason, datagrams before it are kept', () => {
    const file = writeClassicPcap(frames());
    const { ds, stats } = all(file.subarray(0, file.length - 5));
    assert.equal(ds.length, 2);
    assert.equal(stats.error, 'pcap_truncated_record');
  });

  test('bad magic and short header', () => {
    assert.equal(all(new Uint8Array(30)).stats.error, 'pcap_bad_magic');
    assert.equal(all(new Uint8Array(2)).stats.error, 'pcap_truncated_header');
    assert.equal(all(writeClassicPcap([]).subarray(0, 10)).stats.error, 'pcap_truncated_header');
  });
});

describe('readCaptureUdp: pcapng', () => {
  for (const bigEndian of [false, true]) {
    test(`${bigEndian ? 'big' : 'little'} endian EPB, µs and ns resolution`, () => {
      for (const tsResolDigits of [6, 9]) {
        const file = writePcapng(frames(), { bigEndian, tsResolDigits });
        assert.equal(detectCaptureFormat(file), 'pcapng');
        const { ds, stats } = all(file);
        assertStandard(ds);
        assert.equal(stats.error, undefined);
      }
    });
    test(`${bigEndian ? 'big' : 'little'} endian SPB`, () => {
      const { ds, stats } = all(writePcapng(frames(), { bigEndian, simple: true }));
      assertStandard(ds, false);
      assert.equal(stats.error, undefined);
    });
  }

  test('two sections of different byte order concatenated', () => {
    const a = writePcapng(frames().slice(0, 1), { bigEndian: true });
    const b = writePcapng(frames().slice(1, 2), { bigEndian: false });
    const file = new Uint8Array(a.length + b.length);
    file.set(a);
    file.set(b, a.length);
    const { ds, stats } = all(file);
    assert.equal(ds.length, 2);
    assert.equal(stats.error, undefined);
  });

  test('bad block length and missing section header are reported', () => {
    const file = writePcapng(frames());
    const broken = file.slice();
    new DataView(broken.buffer).setUint32(28 + 4, 7, true); // IDB length not a multiple of 4
    assert.equal(all(broken).stats.error, 'pcapng_bad_block');
    assert.equal(all(file.subarray(0, file.length - 3)).stats.error, 'pcapng_truncated_block');
  });
});

describe('readCaptureUdp: link types', () => {
  const ip4 = buildIpPacket({ src: '192.0.2.9', dst: '192.0.2.10', protocol: 17, srcPort: 9, dstPort: 6343, payload: payload(12) });
  const ip6 = buildIpPacket({ src: 'fe80::1', dst: 'ff02::fb', protocol: 17, srcPort: 5353, dstPort: 5353, payload: payload(5) });
  const cases: [string, number, (ip: Uint8Array) => Uint8Array][] = [
    ['raw (101)', LINKTYPE.raw, (ip) => ip],
    ['ipv4/ipv6 (228/229)', -1, (ip) => ip],
    [
      'null, little endian family',
      LINKTYPE.null,
      (ip) => {
        const f = new Uint8Array(4 + ip.length);
        new DataView(f.buffer).setUint32(0, ip[0] >> 4 === 6 ? 30 : 2, true);
        f.set(ip, 4);
        return f;
      },
    ],
    [
      'null, big endian family (Linux AF_INET6 = 10)',
      LINKTYPE.null,
      (ip) => {
        const f = new Uint8Array(4 + ip.length);
        new DataView(f.buffer).setUint32(0, ip[0] >> 4 === 6 ? 10 : 2, false);
        f.set(ip, 4);
        return f;
      },
    ],
    [
      'linux SLL (113)',
      LINKTYPE.linux_sll,
      (ip) => {
        const f = new Uint8Array(16 + ip.length);
        new DataView(f.buffer).setUint16(14, ip[0] >> 4 === 6 ? 0x86dd : 0x0800);
        f.set(ip, 16);
        return f;
      },
    ],
    [
      'linux SLL2 (276)',
      LINKTYPE.linux_sll2,
      (ip) => {
        const f = new Uint8Array(20 + ip.length);
        new DataView(f.buffer).setUint16(0, ip[0] >> 4 === 6 ? 0x86dd : 0x0800);
        f.set(ip, 20);
        return f;
      },
    ],
  ];
  for (const [name, linkType, wrap] of cases) {
    test(name, () => {
      for (const [ip, v] of [[ip4, 4], [ip6, 6]] as const) {
        const lt = linkType >= 0 ? linkType : v === 4 ? LINKTYPE.ipv4 : LINKTYPE.ipv6;
        for (const file of [writeClassicPcap([{ tsMs: T0, data: wrap(ip) }], { linkType: lt }), writePcapng([{ tsMs: T0, data: wrap(ip) }], { linkType: lt })]) {
          const { ds, stats } = all(file);
          assert.equal(ds.length, 1, `${name} v${v}`);
          assert.equal(ds[0].ipVersion, v);
          assert.equal(ds[0].dstPort, v === 4 ? 6343 : 5353);
          assert.equal(ds[0].srcAddr, v === 4 ? '192.0.2.9' : 'fe80::1');
          assert.equal(stats.error, undefined);
        }
      }
    });
  }

  test('unsupported link type is counted', () => {
    const { ds, stats } = all(writeClassicPcap([{ tsMs: T0, data: ip4 }], { linkType: 105 }));
    assert.equal(ds.length, 0);
    assert.equal(stats.unsupportedLinkType, 1);
  });
});

describe('readCaptureUdp: IP layer', () => {
  test('VLAN and QinQ tags are skipped', () => {
    const f1 = buildEthernetFrame({ src: '10.1.1.1', dst: '10.1.1.2', protocol: 17, srcPort: 1, dstPort: 2055, vlans: [100] });
    const f2 = buildEthernetFrame({ src: '10.1.1.1', dst: '10.1.1.2', protocol: 17, srcPort: 1, dstPort: 2055, vlans: [200, 300] });
    const { ds } = all(writeClassicPcap([{ tsMs: T0, data: f1 }, { tsMs: T0, data: f2 }]));
    assert.equal(ds.length, 2);
  });

  test('IPv6 extension headers are walked, fragments are counted and skipped', () => {
    const ext = buildEthernetFrame({ src: '2001:db8::a', dst: '2001:db8::b', protocol: 17, srcPort: 7, dstPort: 4739, payload: payload(9), ipv6ExtHeaders: [0, 60, 43] });
    const frag4 = buildUdpFrame('192.0.2.1', 1, '192.0.2.2', 2, payload(20));
    frag4[14 + 6] = 0x20; // MF set
    const frag6 = buildEthernetFrame({ src: '2001:db8::a', dst: '2001:db8::b', protocol: 17, srcPort: 7, dstPort: 4739, payload: payload(9), ipv6ExtHeaders: [44] });
    frag6[14 + 40 + 3] = 1; // M flag in the fragment header
    const atomic6 = buildEthernetFrame({ src: '2001:db8::a', dst: '2001:db8::b', protocol: 17, srcPort: 7, dstPort: 4739, payload: payload(9), ipv6ExtHeaders: [44] });
    const { ds, stats } = all(writeClassicPcap([ext, frag4, frag6, atomic6].map((data) => ({ tsMs: T0, data }))));
    assert.equal(ds.length, 2);
    assert.deepEqual([...ds[0].payload], [...payload(9)]);
    assert.equal(stats.ipFragments, 2);
  });

  test('snap-length cut and lying length fields are counted as truncated, never thrown', () => {
    const good = buildUdpFrame('192.0.2.1', 1, '192.0.2.2', 2, payload(50));
    const cut = good.subarray(0, 40);
    const lyingUdp = good.slice();
    new DataView(lyingUdp.buffer).setUint16(14 + 20 + 4, 500);
    const lyingIp = good.slice();
    new DataView(lyingIp.buffer).setUint16(14 + 2, 10);
    const nonIp = good.slice();
    new DataView(nonIp.buffer).setUint16(12, 0x0806);
    const { ds, stats } = all(writeClassicPcap([cut, lyingUdp, lyingIp, nonIp, good].map((data) => ({ tsMs: T0, data }))));
    assert.equal(ds.length, 1);
    assert.equal(stats.truncated, 3);
    assert.equal(stats.nonIp, 1);
    assert.equal(stats.udpDatagrams, 1);
  });

  test('random garbage never throws', () => {
    let seed = 12345;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    const base = writePcapng(frames());
    const base2 = writeClassicPcap(frames());
    for (let i = 0; i < 3000; i++) {
      const src = i % 2 ? base : base2;
      const b = src.slice(0, src.length - (rnd() % 20));
      for (let k = 0; k < 4; k++) b[(rnd() * 256 + rnd()) % b.length] = rnd();
      for (let k = 0; k < 2; k++) b[(rnd() * 256 + rnd()) % b.length] = rnd();
      const stats = newPcapReadStats();
      for (const d of readCaptureUdp(b, stats)) assert.ok(d.payload.length >= 0);
    }
  });
});
