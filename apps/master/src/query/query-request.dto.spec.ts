import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BadRequestException } from '@nestjs/common';
import { createValidationPipe } from '../validation';
import { QueryRequestDto } from './query-request.dto';

const pipe = createValidationPipe();
const meta = { type: 'body' as const, metatype: QueryRequestDto, data: '' };

async function problems(body: unknown): Promise<string[]> {
  try {
    await pipe.transform(body, meta);
  } catch (e) {
    assert.ok(e instanceof BadRequestException, `expected BadRequestException, got ${String(e)}`);
    const res = e.getResponse() as { message: string[] };
    return res.message;
  }
  return [];
}

describe('QueryRequestDto through the global ValidationPipe', () => {
  test('an empty body gets the defaults', async () => {
    const dto = (await pipe.transform({}, meta)) as QueryRequestDto;
    assert.ok(dto instanceof QueryRequestDto);
    assert.deepEqual({ ...dto }, { from: '-1h', to: 'now', by: 'src_addr', top: 10, orderBy: 'bytes' });
  });

  test('a full valid body passes unchanged', async () => {
    const body = { from: '2024-05-01T10:00:00Z', to: '-5m', by: 'dst_port', top: 3, orderBy: 'flows', nodes: ['n1', 'edge-2'] };
    assert.deepEqual({ ...((await pipe.transform(body, meta)) as object) }, body);
  });

  test('each bad field is named in its message', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ top: 0 }, /^top: must not be less than 1/],
      [{ top: 2.5 }, /^top: must be an integer/],
      [{ top: '10' }, /^top: must be an integer/],
      [{ by: 'payload' }, /^by: must be one of: src_addr, dst_addr/],
      [{ orderBy: 'octets' }, /^orderBy: must be one of: bytes, packets, flows/],
      [{ from: 'yesterday' }, /^from: must be an ISO-8601 time/],
      [{ to: '2024-05-01T10:00:00' }, /^to: must include a time zone/],
      [{ nodes: 'n1' }, /^nodes: must be an array/],
      [{ nodes: ['N1!'] }, /^nodes: must hold node ids/],
      [{ nodes: ['a', 'a'] }, /^nodes: .*unique/],
      [{ limit: 5 }, /^limit: unknown key/],
    ];
    for (const [body, expected] of cases) {
      const msgs = await problems(body);
      assert.ok(msgs.some((m) => expected.test(m)), `${JSON.stringify(body)} -> ${JSON.stringify(msgs)}`);
    }
  });

  test('a body that is not an object is refused as such', async () => {
    assert.deepEqual(await problems([]), ['body: must be a JSON object']);
    assert.deepEqual(await problems('x'), ['body: must be a JSON object']);
  });

  test('several problems are all reported', async () => {
    const msgs = await problems({ top: -1, by: 'x', extra: true });
    assert.deepEqual(msgs.map((m) => m.split(':')[0]).sort(), ['by', 'extra', 'top']);
  });
});
