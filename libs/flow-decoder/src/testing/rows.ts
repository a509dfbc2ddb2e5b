/** Test-only: FlowBatch rows as records (the library's record view). */
import type { FlowBatch } from '../lib/flow-batch';
import { flowRecordAt, type FlowRecord } from '../lib/flow-record';

export type Row = FlowRecord;

export function row(b: FlowBatch, i: number): Row {
  return flowRecordAt(b, i);
}

export function rows(b: FlowBatch): Row[] {
  const list: Row[] = [];
  for (let i = 0; i < b.length; i++) list.push(flowRecordAt(b, i));
  return list;
}
