import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { Command } from 'commander';
import { formatNodeList, NodeList, registerNodes } from './nodes.command';
import { CliIo } from './query.command';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const LIST: NodeList = {
  nodes: [
    {
      id: 'edge-1', group: 'edge', status: 'up', version: '0.1.0', apiUrl: 'http://127.0.0.1:9101',
      listeners: [{ protocol: 'netflow', port: 2055 }, { protocol: 'ipfix', port: 4739 }],
      lastHeartbeat: '2024-05-01T11:59:58Z', ingest: { flowsPerSecond: 1234.4, packetsPerSecond: 12.25 },
      totals: { packets: 100, flows: 5000, storedRows: 5000, decodeErrors: 2 },
      loss: { droppedPackets: 3, droppedFlows: 50, kernelDrops: 10, spoolBytes: 3 * 1024 ** 2, spoolAgeSeconds: 2 },
    },
    { id: 'edge-2', group: null, status: 'down', version: '0.1.0', apiUrl: 'http://127.0.0.1:9102', listeners: [], lastHeartbeat: null, ingest: null, totals: null },
  ],
  up: 1,
  down: 1,
};

describe('flowmesh nodes', () => {
  test('prints one aligned row per node', () => {
    assert.equal(
      formatNodeList(LIST, NOW),
      [
        'id      group  status  version  api                    listeners                flows/s  pkts/s  flows  errors  dropped   spool  heartbeat',
        'edge-1  edge   up      0.1.0    http://127.0.0.1:9101  netflow:2055,ipfix:4739     1234    12.3   5000       2       63  3.0MiB     2s ago',
        'edge-2  -      down    0.1.0    http://127.0.0.1:9102  -                              -       -      -       -        -       -      never',
        '1 up, 1 down',
        '',
      ].join('\n'),
    );
    assert.equal(formatNodeList({ nodes: [], up: 0, down: 0 }), 'no nodes registered\n');
  });

  test('asks the master and prints --json unchanged', async () => {
    const server = createServer((req, res) => {
      assert.equal(req.url, '/api/v1/nodes');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(LIST));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      let out = '';
      const io: CliIo = { out: (t) => (out += t), err: () => undefined };
      const program = new Command('flowmesh').exitOverride();
      registerNodes(program, io);
      await program.parseAsync(['node', 'flowmesh', 'nodes', '--master', `http://127.0.0.1:${(server.address() as AddressInfo).port}`, '--json']);
      assert.deepEqual(JSON.parse(out), LIST);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
