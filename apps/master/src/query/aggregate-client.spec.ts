import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { aggregateProblem, fetchAggregate } from './aggregate-client';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

describe('fetchAggregate against real HTTP servers', () => {
  let server: Server;
  let base: string;
  let handler: Handler;
  const seen: Array<{ url?: string; method?: string; body: string }> = [];

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ url: req.url, method: req.method, body });
        handler(req, body, res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const reply = (status: number, body: unknown): Handler => (_req, _body, res) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const good = { node: 'n1', totals: { bytes: 10, packets: 2, flows: 1 }, groups: [{ key: '10.0.0.1', bytes: 10, packets: 2, flows: 1 }], elapsedMs: 3 };

  test('posts the contract body to /internal/v1/aggregate and returns the answer', async () => {
    handler = reply(200, good);
    seen.length = 0;
    const o = await fetchAggregate('n1', base + '/', { from: 1000, to: 2000, by: 'dst_port' }, 2000);
    assert.equal(o.status, 'ok');
    assert.deepEqual(o.result, good);
    assert.equal(seen[0].method, 'POST');
    assert.equal(seen[0].url, '/internal/v1/aggregate');
    assert.deepEqual(JSON.parse(seen[0].body), { from: 1000, to: 2000, by: 'dst_port' });
  });

  test('an HTTP error is an error with the status and body', async () => {
    handler = reply(400, { message: ['by: must be one of ...'] });
    const o = await fetchAggregate('n1', base, { from: 1, to: 2, by: 'src_addr' }, 2000);
    assert.equal(o.status, 'error');
    assert.match(o.error ?? '', /^HTTP 400: .*by: must be one of/);
  });

  test('a body breaking the contract is an error naming what is wrong', async () => {
    handler = reply(200, 'not json');
    assert.match((await fetchAggregate('n1', base, { from: 1, to: 2, by: null }, 2000)).error ?? '', /not JSON/);
    handler = reply(200, { ...good, node: 'n2' });
    assert.match((await fetchAggregate('n1', base, { from: 1, to: 2, by: null }, 2000)).error ?? '', /answered as node "n2"/);
    handler = reply(200, { ...good, groups: [{ key: 'a', bytes: -1, packets: 0, flows: 0 }] });
    assert.match((await fetchAggregate('n1', base, { from: 1, to: 2, by: null }, 2000)).error ?? '', /groups\[0\]\.bytes/);
  });

  test('no answer within the deadline is a timeout', async () => {
    handler = (_req, _body, res) => setTimeout(() => res.writeHead(200).end(JSON.stringify(good)), 1500).unref();
    const o = await fetchAggregate('n1', base, { from: 1, to: 2, by: null }, 200);
    assert.equal(o.status, 'timeout');
    assert.ok(o.elapsedMs >= 190 && o.elapsedMs < 1000, `elapsed ${o.elapsedMs}`);
  });

  test('a closed port is an error, not a throw', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const o = await fetchAggregate('n9', `http://127.0.0.1:${port}`, { from: 1, to: 2, by: null }, 2000);
    assert.equal(o.status, 'error');
    assert.match(o.error ?? '', /ECONNREFUSED/);
  });
});

describe('aggregateProblem', () => {
  test('numeric keys become text; missing parts are named', () => {
    const body = { node: 'a', totals: { bytes: 1, packets: 1, flows: 1 }, groups: [{ key: 443, bytes: 1, packets: 1, flows: 1 }] };
    assert.equal(aggregateProblem(body, 'a'), null);
    assert.equal(body.groups[0].key, '443');
    assert.match(aggregateProblem({ node: 'a', groups: [] }, 'a') ?? '', /totals is missing/);
    assert.match(aggregateProblem({ node: 'a', totals: { bytes: 1, packets: 1, flows: 1.5 }, groups: [] }, 'a') ?? '', /totals\.flows/);
    assert.match(aggregateProblem({ node: 'a', totals: { bytes: 1, packets: 1, flows: 1 } }, 'a') ?? '', /groups is not an array/);
    assert.match(aggregateProblem([], 'a') ?? '', /not a JSON object/);
  });
});
