import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, Socket } from 'node:dgram';
import { SocketAddress } from 'node:net';
import { formatIpv6, loadUdpMmsg, MmsgBatch, MmsgUdpSocket, UdpMmsgBinding } from './mmsg-socket';

function binding(): UdpMmsgBinding {
  const b = loadUdpMmsg();
  if (b instanceof Error) throw b; // the suite's machine builds it (scripts/test.sh installs a compiler)
  return b;
}

interface Got {
  payload: Buffer;
  address: string;
  port: number;
}

function collect(s: MmsgUdpSocket): { got: Got[]; calls: number[] } {
  const out = { got: [] as Got[], calls: [] as number[] };
  s.start(
    (b: MmsgBatch) => {
      out.calls.push(b.count);
      for (let i = 0; i < b.count; i++) out.got.push({ payload: Buffer.from(b.payload(i)), address: b.address(i), port: b.port(i) });
    },
    (e) => assert.fail(e),
  );
  return out;
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
}

function sender(type: 'udp4' | 'udp6', address: string): Promise<Socket> {
  const s = createSocket(type);
  return new Promise((r) => s.bind(0, address, () => r(s)));
}

function send(s: Socket, payload: Buffer, port: number, address: string): Promise<void> {
  return new Promise((r, j) => s.send(payload, port, address, (e) => (e ? j(e) : r())));
}

describe('formatIpv6', () => {
  test('writes every address as Node (libuv inet_ntop) does', () => {
    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 0xffff;
    const cases: number[][] = [
      [0, 0, 0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 0, 1],
      [0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304],
      [0, 0, 0, 0, 0, 0, 0x0102, 0x0304],
      [0x2001, 0xdb8, 0, 0, 1, 0, 0, 1],
      [1, 0, 0, 2, 0, 0, 0, 3],
      [0xfe80, 0, 0, 0, 1, 0, 0, 0],
      [1, 0, 2, 0, 3, 0, 4, 0],
    ];
    // Random words, each zero with probability 1/2, so zero runs of every length and position occur.
    for (let n = 0; n < 5000; n++) cases.push(Array.from({ length: 8 }, () => (rnd() & 1 ? 0 : rnd())));
    for (const w of cases) {
      const bytes = new Uint8Array(16);
      w.forEach((x, i) => {
        bytes[2 * i] = x >> 8;
        bytes[2 * i + 1] = x & 255;
      });
      const full = w.map((x) => x.toString(16)).join(':');
      assert.equal(formatIpv6(bytes), new SocketAddress({ address: full, family: 'ipv6' }).address, full);
    }
  });
});

describe('MmsgUdpSocket (recvmmsg)', () => {
  test('reads every datagram with its sender, sizes 0 to 65507, more than one recvmmsg call per burst', async () => {
    const native = binding();
    const s = MmsgUdpSocket.open(native, { address: '127.0.0.1', port: 0, recvBufferBytes: 8 << 20 });
    const r = collect(s);
    const tx = await sender('udp4', '127.0.0.1');
    try {
      assert.ok(s.port > 0);
      assert.ok(s.recvBufferBytes >= 1 << 20, `granted ${s.recvBufferBytes}`);
      const sizes = [0, 1, 1400, 9000, 65507];
      for (let i = 0; i < 300; i++) sizes.push((i * 7919) % 1500);
      const sent = sizes.map((n, i) => Buffer.alloc(n, i & 255).fill(i >> 8, 0, Math.min(n, 1)));
      for (const p of sent) await send(tx, p, s.port, '127.0.0.1');
      await until(() => r.got.length >= sent.length);
      assert.equal(r.got.length, sent.length);
      r.got.forEach((g, i) => {
        assert.ok(g.payload.equals(sent[i]), `datagram ${i} (${sent[i].length} bytes)`);
        assert.equal(g.address, '127.0.0.1');
        assert.equal(g.port, tx.address().port);
      });
      assert.ok(r.calls.every((n) => n >= 1 && n <= native.SLOTS));
    } finally {
      tx.close();
      s.close();
    }
  });

  test('IPv6 and dual-stack senders are named as Node names them', async () => {
    const native = binding();
    const s = MmsgUdpSocket.open(native, { address: '::', port: 0, recvBufferBytes: 1 << 20 });
    const r = collect(s);
    const v6 = await sender('udp6', '::1');
    const v4 = await sender('udp4', '127.0.0.1');
    try {
      await send(v6, Buffer.from('six'), s.port, '::1');
      await send(v4, Buffer.from('four'), s.port, '127.0.0.1');
      await until(() => r.got.length >= 2);
      const by = new Map(r.got.map((g) => [g.payload.toString(), g]));
      assert.equal(by.get('six')?.address, '::1');
      assert.equal(by.get('six')?.port, v6.address().port);
      assert.equal(by.get('four')?.address, '::ffff:127.0.0.1');
    } finally {
      v6.close();
      v4.close();
      s.close();
    }
  });

  test('a taken port is refused with EADDRINUSE; close frees the port at once; SO_REUSEPORT shares it', async () => {
    const native = binding();
    const a = MmsgUdpSocket.open(native, { address: '127.0.0.1', port: 0, recvBufferBytes: 1 << 20 });
    collect(a);
    assert.throws(() => MmsgUdpSocket.open(native, { address: '127.0.0.1', port: a.port, recvBufferBytes: 1 << 20 }), (e: NodeJS.ErrnoException) => e.code === 'EADDRINUSE' && /Address already in use/.test(e.message));
    a.close();
    const b = MmsgUdpSocket.open(native, { address: '127.0.0.1', port: a.port, recvBufferBytes: 1 << 20 });
    b.close();
    const c1 = MmsgUdpSocket.open(native, { address: '127.0.0.1', port: 0, recvBufferBytes: 1 << 20, reusePort: true });
    const c2 = MmsgUdpSocket.open(native, { address: '127.0.0.1', port: c1.port, recvBufferBytes: 1 << 20, reusePort: true });
    const r1 = collect(c1);
    const r2 = collect(c2);
    const senders = await Promise.all(Array.from({ length: 16 }, () => sender('udp4', '127.0.0.1')));
    try {
      for (const t of senders) for (let i = 0; i < 5; i++) await send(t, Buffer.from(`${t.address().port}`), c1.port, '127.0.0.1');
      await until(() => r1.got.length + r2.got.length >= 80);
      assert.equal(r1.got.length + r2.got.length, 80);
      // The kernel keeps each sender (4-tuple) on one socket.
      const on1 = new Set(r1.got.map((g) => g.port));
      assert.ok(r2.got.every((g) => !on1.has(g.port)));
    } finally {
      for (const t of senders) t.close();
      c1.close();
      c2.close();
    }
  });

  test('a bad address is refused before any socket is bound', () => {
    assert.throws(() => MmsgUdpSocket.open(binding(), { address: '300.1.1.1', port: 0, recvBufferBytes: 1 << 20 }), /bad IPv4 address/);
  });
});
