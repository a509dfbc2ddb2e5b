import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { NodeQueryRequest } from '@flowmesh/flow-query';
import { fetchPartial, partialProblem } from './partial-client';

const REQ: NodeQueryRequest = {
  mode: 'aggregate', from: 0, to: 1000, filter: '', groupBy: ['src_addr'], distinct: ['dst_port'], segments: [],
  limits: { timeoutMs: 1000, maxRows: 10, maxMemoryBytes: 1 << 30 },
};
const COLUMNS = ['g_src_addr', 'bytes', 'packets', 'flows', 'd_dst_port'];
const GOOD = { node: 'n1', columns: COLUMNS, rows: [['00000000000000000000FFFF0A000001', 10, 2, 1, '443,53']] };

describe('partialProblem: every cell is checked before the merge', () => {
  test('a valid answer passes', () => assert.equal(partialProblem(GOOD, 'n1', REQ), null));
  test('wrong node, columns, shapes and cell types are named', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ ...GOOD, node: 'n2' }, /answered as node "n2"/],
      [{ ...GOOD, columns: ['bytes'] }, /columns are not/],
      [{ ...GOOD, rows: {} }, /rows is not an array/],
      [{ ...GOOD, rows: [[1, 2]] }, /rows\[0\] is not an array of 5 cells/],
      [{ ...GOOD, rows: [["') OR 1=1 --", 10, 2, 1, '']] }, /rows\[0\]\[0\] \(g_src_addr\) is not a valid addr/],
      [{ ...GOOD, rows: [['00000000000000000000FFFF0A000001', -1, 2, 1, '']] }, /\(bytes\) is not a valid num/],
      [{ ...GOOD, rows: [['00000000000000000000FFFF0A000001', 1.5, 2, 1, '']] }, /\(bytes\) is not a valid num/],
      [{ ...GOOD, rows: [['00000000000000000000FFFF0A000001', 1, 2, 1, "x'"]] }, /\(d_dst_port\) is not a valid set/],
      [[], /not a JSON object/],
    ];
    for (const [body, re] of cases) assert.match(partialProblem(body, 'n1', REQ) ?? 'accepted', re);
  });
});

describe('fetchPartial against a real HTTP server', () => {
  let server: Server;
  let base: string;
  let delay = 0;
  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(GOOD)), delay).unref());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  test('an answer in time is ok; past the deadline it is a timeout, named', async () => {
    delay = 0;
    const ok = await fetchPartial('n1', base, REQ, 1000);
    assert.equal(ok.status, 'ok');
    assert.deepEqual(ok.result, GOOD);
    delay = 1500;
    const late = await fetchPartial('n1', base, REQ, 200);
    assert.equal(late.status, 'timeout');
    assert.match(late.error ?? '', /no answer within 200 ms/);
  });
});
