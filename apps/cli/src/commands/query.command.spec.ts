import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Command } from 'commander';
import { CliIo, formatQueryAnswer, QueryAnswer, QueryV2Answer, registerQuery } from './query.command';

const V2: QueryV2Answer = {
  mode: 'aggregate',
  from: '2024-05-01T10:00:00.000Z',
  to: '2024-05-01T11:00:00.000Z',
  filter: 'src net 10.0.0.0/8 and dst port 443',
  plan: { reason: 'raw: src_addr not in the rollups' },
  groupBy: ['src_addr'],
  metrics: ['bytes', 'packets', 'flows'],
  orderBy: 'bytes',
  rows: [
    { key: { src_addr: '10.0.0.3' }, metrics: { bytes: 180, packets: 16, flows: 6 } },
    { key: { src_addr: '10.0.0.9' }, metrics: { bytes: 100, packets: 10, flows: 3 } },
  ],
  other: { bytes: 120, packets: 14, flows: 1 },
  totals: { bytes: 400, packets: 40, flows: 10 },
  nodes: [
    { id: 'n1', status: 'ok', elapsedMs: 4 },
    { id: 'n2', status: 'timeout', error: 'no answer within 10000 ms', elapsedMs: 10000 },
  ],
  partial: true,
  elapsedMs: 10012,
};

const ANSWER: QueryAnswer = {
  from: '2024-05-01T10:00:00.000Z',
  to: '2024-05-01T11:00:00.000Z',
  by: 'src_addr',
  orderBy: 'bytes',
  totals: { bytes: 400, packets: 40, flows: 10 },
  top: [
    { key: '10.0.0.3', bytes: 180, packets: 16, flows: 6 },
    { key: '2001:db8::1', bytes: 100, packets: 10, flows: 3 },
  ],
  other: { bytes: 120, packets: 14, flows: 1 },
  nodes: [
    { id: 'n1', status: 'ok', elapsedMs: 4 },
    { id: 'n2', status: 'timeout', error: 'no answer within 10000 ms', elapsedMs: 10000 },
  ],
  partial: true,
  elapsedMs: 10012,
};

describe('flowmesh query', () => {
  let server: Server;
  let master: string;
  let received: Array<{ url?: string; body: unknown }> = [];
  let reply: { status: number; body: unknown } = { status: 200, body: V2 };

  before(async () => {
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        received.push({ url: req.url, body: text ? JSON.parse(text) : undefined });
        res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    master = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => new Promise((r) => server.close(r)));

  async function run(args: string[]): Promise<{ out: string; err: string }> {
    const io: CliIo & { o: string; e: string } = { o: '', e: '', out: (t) => (io.o += t), err: (t) => (io.e += t) };
    const program = new Command('flowmesh').exitOverride().configureOutput({ writeErr: () => undefined });
    registerQuery(program, io);
    await program.parseAsync(['node', 'flowmesh', 'query', ...args]);
    return { out: io.o, err: io.e };
  }

  test('sends the filter and options as a v2 query and prints an aligned table with other and total', async () => {
    received = [];
    reply = { status: 200, body: V2 };
    const { out, err } = await run(['--master', master, '--from', '-1h', 'src net 10.0.0.0/8 and dst port 443', '--top', '2', '--by', 'src_addr', '--nodes', 'n1,n2']);
    assert.deepEqual(received, [
      { url: '/api/v2/query', body: { from: '-1h', to: 'now', filter: 'src net 10.0.0.0/8 and dst port 443', mode: 'aggregate', groupBy: ['src_addr'], top: 2, orderBy: 'bytes', nodes: ['n1', 'n2'] } },
    ]);
    assert.equal(
      out,
      [
        'aggregate by src_addr where src net 10.0.0.0/8 and dst port 443, 2024-05-01T10:00:00.000Z -> 2024-05-01T11:00:00.000Z, 1/2 nodes, 10012 ms (raw: src_addr not in the rollups)',
        'src_addr  bytes  packets  flows  share% (bytes)',
        '10.0.0.3    180       16      6            45.0',
        '10.0.0.9    100       10      3            25.0',
        '(other)     120       14      1            30.0',
        '(total)     400       40     10           100.0',
        '',
      ].join('\n'),
    );
    assert.equal(err, 'warning: partial result: node n2 timeout: no answer within 10000 ms\n');
  });

  test('--json prints the raw answer', async () => {
    reply = { status: 200, body: V2 };
    const { out } = await run(['--master', master, '--json']);
    assert.deepEqual(JSON.parse(out), V2);
  });

  test('--series and --flows choose the mode; a distinct order-by adds its metric', async () => {
    received = [];
    reply = { status: 200, body: { ...V2, mode: 'series', series: [{ t: '2024-05-01T10:00:00.000Z', key: null, metrics: { bytes: 1, packets: 1, flows: 1 } }] } };
    const s = await run(['--master', master, '--series', '5m', '--order-by', 'distinct_dst_addr']);
    assert.equal((received[0].body as Record<string, unknown>).mode, 'series');
    assert.equal((received[0].body as Record<string, unknown>).interval, '5m');
    assert.deepEqual((received[0].body as Record<string, unknown>).metrics, ['bytes', 'packets', 'flows', 'distinct_dst_addr']);
    assert.match(s.out, /2024-05-01T10:00:00.000Z +\(other\)/);
    reply = { status: 200, body: { ...V2, mode: 'flows', groupBy: [], flows: [{ time_received: 't', src_addr: '10.0.0.1', bytes: 5, node: 'n1' }], nextCursor: 'abc' } };
    const f = await run(['--master', master, '--flows', '--sort', 'bytes', '--limit', '5']);
    assert.deepEqual(received[1].body, { from: '-1h', to: 'now', filter: '', mode: 'flows', groupBy: [], top: 10, orderBy: 'bytes', sort: 'bytes', order: 'desc', limit: 5 });
    assert.match(f.out, /next page: --cursor abc/);
  });

  test("the master's 400 messages are shown", async () => {
    reply = { status: 400, body: { statusCode: 400, message: ["filter: at 4: expected 'ip', 'net', found 'x'"], error: 'Bad Request' } };
    await assert.rejects(run(['--master', master, 'src x']), /HTTP 400\): filter: at 4/);
  });

  test('a bad --top is refused before any request', async () => {
    received = [];
    await assert.rejects(run(['--master', master, '--top', '0']), /positive integer/);
    assert.equal(received.length, 0);
  });

  test('an unreachable master is named', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const gone = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
    await new Promise((r) => probe.close(r));
    await assert.rejects(run(['--master', gone]), new RegExp(`cannot reach the master at ${gone}: ECONNREFUSED`));
  });

  test('share is of the orderBy metric', () => {
    const text = formatQueryAnswer({ ...ANSWER, orderBy: 'flows' });
    assert.match(text, /^10\.0\.0\.3 +180 +16 +6 +60\.0$/m);
  });
});
