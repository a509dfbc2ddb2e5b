import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { kernelDrops, ownSocketInodes } from './kernel-drops';

const HEAD = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n';

describe('kernel drops from /proc/net/udp', () => {
  test('sums the drops column of our sockets on the port, by inode', () => {
    const udp =
      HEAD +
      '  1: 0100007F:0807 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 111 2 0000000000000000 5\n' +
      '  2: 00000000:0807 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 222 2 0000000000000000 7\n' +
      '  3: 0100007F:1F90 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 111 2 0000000000000000 100\n';
    const udp6 = HEAD + '  4: 00000000000000000000000001000000:0807 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000  1000  0 333 2 0000000000000000 11\n';
    assert.equal(kernelDrops(2055, new Set(['111', '333']), { udp, udp6 }), 16, 'inode 222 is another process');
    assert.equal(kernelDrops(2056, new Set(['111']), { udp, udp6 }), undefined);
  });

  test('finds a real socket of this process', async () => {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    try {
      assert.equal(kernelDrops(s.address().port, ownSocketInodes()), 0);
    } finally {
      s.close();
    }
  });
});
