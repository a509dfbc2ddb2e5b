import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, CommanderError } from 'commander';
import { registerGen } from './gen.command';

function cli(): { program: Command; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const program = new Command('flowmesh').exitOverride().configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => err.push(s) });
  registerGen(program);
  return { program, out, err };
}

async function fails(args: string[]): Promise<string> {
  const { program, err } = cli();
  await assert.rejects(program.parseAsync(['gen', ...args], { from: 'user' }), CommanderError);
  return err.join('');
}

describe('flowmesh gen', () => {
  test('--help lists the options', async () => {
    const { program, out } = cli();
    await assert.rejects(program.parseAsync(['gen', '--help'], { from: 'user' }), (e: CommanderError) => e.code === 'commander.helpDisplayed');
    const help = out.join('');
    for (const flag of ['--proto', '--host', '--port', '--records', '--rate', '--seed', '--template-every', '--start-time']) {
      assert.match(help, new RegExp(flag));
    }
    assert.match(help, /ipfix-varlen/);
  });

  test('bad options are refused with a message naming the option', async () => {
    assert.match(await fails(['--proto', 'v7']), /--proto/);
    assert.match(await fails(['--records', '10']), /--proto/); // mandatory
    assert.match(await fails(['--proto', 'v9', '--port', 'abc']), /--port/);
    assert.match(await fails(['--proto', 'v9', '--port', '70000']), /--port/);
    assert.match(await fails(['--proto', 'v9', '--records', '-3']), /--records/);
    assert.match(await fails(['--proto', 'v9', '--rate', 'fast']), /--rate/);
    assert.match(await fails(['--proto', 'v9', '--host', '10.1.2.3']), /--host.*non-loopback/);
    assert.match(await fails(['--proto', 'v5', '--per-packet', '31']), /--per-packet/);
    assert.match(await fails(['--proto', 'v9', '--start-time', 'yesterday']), /--start-time/);
  });

  test('sends to a loopback socket and prints the summary as one JSON line', async () => {
    const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    let received = 0;
    sock.on('message', () => received++);
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    try {
      const { program, out } = cli();
      await program.parseAsync(
        ['gen', '--proto', 'ipfix-ent', '--host', '127.0.0.1', '--port', String(sock.address().port), '--records', '2000', '--rate', '50000', '--seed', '3'],
        { from: 'user' },
      );
      assert.equal(out.length, 1);
      assert.ok(out[0].endsWith('\n') && !out[0].slice(0, -1).includes('\n'));
      const s = JSON.parse(out[0]);
      assert.equal(s.proto, 'ipfix-ent');
      assert.equal(s.records, 2000);
      assert.equal(s.seed, 3);
      assert.ok(s.bytes > 0 && s.packets_field > 0);
      for (let i = 0; i < 100 && received < s.packets; i++) await sleep(20);
      assert.equal(received, s.packets);
    } finally {
      sock.close();
    }
  });
});
