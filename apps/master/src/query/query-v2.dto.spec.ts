import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BadRequestException } from '@nestjs/common';
import { createValidationPipe } from '../validation';
import { ExportRequestDto, QueryV2RequestDto } from './query-v2.dto';
import { afterFor, decodeCursor, encodeCursor } from './federated-query.service';
import { csvCell } from './query-export';

const pipe = createValidationPipe();

async function problems(body: unknown, metatype: new () => object = QueryV2RequestDto): Promise<string[]> {
  try {
    await pipe.transform(body, { type: 'body', metatype, data: '' });
  } catch (e) {
    assert.ok(e instanceof BadRequestException, `expected BadRequestException, got ${String(e)}`);
    return (e.getResponse() as { message: string[] }).message;
  }
  return [];
}

describe('QueryV2RequestDto through the global ValidationPipe', () => {
  test('an empty body gets the defaults', async () => {
    const dto = (await pipe.transform({}, { type: 'body', metatype: QueryV2RequestDto, data: '' })) as QueryV2RequestDto;
    assert.deepEqual({ ...dto }, {
      from: '-1h', to: 'now', filter: '', mode: 'aggregate', groupBy: [], metrics: ['bytes', 'packets', 'flows'], orderBy: 'bytes', top: 10,
      interval: '5m', sort: 'time_received', order: 'desc', limit: 100,
    });
  });

  test('a full valid body passes', async () => {
    assert.deepEqual(await problems({
      from: '2024-05-01T10:00:00Z', to: '-5m', filter: 'src net 10.0.0.0/8 and dst port 443', mode: 'series', groupBy: ['src_addr', 'protocol'],
      metrics: ['bytes', 'bps', 'distinct_dst_addr'], orderBy: 'distinct_dst_addr', top: 5, interval: '1h', nodes: ['n1'],
    }), []);
    assert.deepEqual(await problems({ mode: 'flows', sort: 'bytes', order: 'asc', limit: 10_000, cursor: 'abc' }), []);
    assert.deepEqual(await problems({ format: 'csv', maxRows: 5 }, ExportRequestDto), []);
  });

  test('every bad field is named', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ groupBy: ['payload'] }, /^groupBy: must hold dimensions: src_addr/],
      [{ groupBy: 'src_addr' }, /^groupBy: /],
      [{ groupBy: ['src_addr', 'src_addr'] }, /^groupBy: .*unique/],
      [{ metrics: [] }, /^metrics: /],
      [{ metrics: ['uniq(x)'] }, /^metrics: must hold/],
      [{ orderBy: 'bytes; DROP' }, /^orderBy: must be one of/],
      [{ mode: 'raw' }, /^mode: must be one of: aggregate, series, flows/],
      [{ interval: '7m' }, /^interval: must be one of/],
      [{ sort: 'payload' }, /^sort: must be one of/],
      [{ limit: 0 }, /^limit: /],
      [{ limit: 10_001 }, /^limit: /],
      [{ top: 0 }, /^top: /],
      [{ filter: 5 }, /^filter: /],
      [{ filter: 'x'.repeat(16_385) }, /^filter: /],
      [{ from: 'yesterday' }, /^from: /],
      [{ nodes: ['N 1'] }, /^nodes: /],
      [{ extra: 1 }, /extra/],
    ];
    for (const [body, re] of cases) {
      const p = await problems(body);
      assert.ok(p.some((m) => re.test(m)), `${JSON.stringify(body).slice(0, 60)}: ${JSON.stringify(p)}`);
    }
    assert.ok((await problems({ format: 'xml' }, ExportRequestDto)).some((m) => /^format: /.test(m)));
  });
});

describe('listing cursor', () => {
  const v = ['00000000000000000000FFFF0A000001', ...Array.from({ length: 22 }, (_, i) => i)];
  test('round-trips, and anything else is refused', () => {
    const c = { f: 1, t: 2, q: 'any|bytes|desc', v, n: 'n2', d: 3 };
    assert.deepEqual(decodeCursor(encodeCursor(c)), c);
    for (const bad of ['', 'x', encodeCursor({ ...c, v: v.slice(1) }), encodeCursor({ ...c, v: ["') OR 1=1", ...v.slice(1)] }), encodeCursor({ ...c, d: -1 }), Buffer.from('[1]').toString('base64url')]) {
      assert.equal(decodeCursor(bad), undefined, bad);
    }
  });

  test('nodes before the cursor node continue strictly after it; the cursor node skips what was shown', () => {
    const c = { f: 1, t: 2, q: '', v, n: 'n2', d: 3 };
    assert.deepEqual(afterFor(c, 'n1'), { values: v, inclusive: false, skip: 0 });
    assert.deepEqual(afterFor(c, 'n2'), { values: v, inclusive: true, skip: 3 });
    assert.deepEqual(afterFor(c, 'n3'), { values: v, inclusive: true, skip: 0 });
  });
});

describe('csvCell', () => {
  test('quotes separators and quotes, neutralises formulas', () => {
    assert.equal(csvCell('10.0.0.1'), '10.0.0.1');
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('=cmd()'), "'=cmd()");
    assert.equal(csvCell(-5), '-5');
    assert.equal(csvCell(null), '');
  });
});
