import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Command } from 'commander';
import { CliIo, formatQueryAnswer, QueryAnswer, registerQuery } from './query.command';

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
  let reply: { status: number; body: unknown } = { status: 200, body: ANSWER };

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

  test('sends the options as the query body and prints an aligned table with shares and totals', async () => {
    received = [];
    reply = { status: 200, body: ANSWER };
    const { out, err } = await run(['--master', master, '--from', '-2h', '--to', 'now', '--top', '2', '--by', 'src_addr', '--order-by', 'bytes', '--nodes', 'n1,n2']);
    assert.deepEqual(received, [{ url: '/api/v1/query', body: { from: '-2h', to: 'now', by: 'src_addr', top: 2, orderBy: 'bytes', nodes: ['n1', 'n2'] } }]);
    assert.equal(
      out,
      [
        'top 2 src_addr by bytes, 2024-05-01T10:00:00.000Z -> 2024-05-01T11:00:00.000Z, 1/2 nodes, 10012 ms',
        'src_addr     bytes  packets  flows  share% (bytes)',
        '10.0.0.3       180       16      6            45.0',
        '2001:db8::1    100       10      3            25.0',
        '(other)        120       14      1            30.0',
        '(total)        400       40     10           100.0',
        '',
      ].join('\n'),
    );
    assert.equal(err, 'warning: partial result: node n2 timeout: no answer within 10000 ms\n');
  });

  test('--json prints the raw answer', async () => {
    reply = { status: 200, body: ANSWER };
    const { out } = await run(['--master', master, '--json']);
    assert.deepEqual(JSON.parse(out), ANSWER);
  });

  test('defaults: last hour, src_addr, top 10 by bytes', async () => {
    received = [];
    await run(['--master', master]);
    assert.deepEqual(received[0].body, { from: '-1h', to: 'now', by: 'src_addr', top: 10, orderBy: 'bytes' });
  });

  test("the master's 400 messages are shown", async () => {
    reply = { status: 400, body: { statusCode: 400, message: ['by: must be one of: src_addr, ...'], error: 'Bad Request' } };
    await assert.rejects(run(['--master', master, '--by', 'payload']), /HTTP 400\): by: must be one of/);
  });

  test('a filter expression is refused clearly', async () => {
    await assert.rejects(run(['--master', master, 'proto', 'tcp']), /filters are not supported yet/);
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
