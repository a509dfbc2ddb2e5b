// Shared templates between nodes (issue 5): TemplateSyncComponent on two "nodes" with real Redis and real
// decoders fed a real exporter capture (softflowd NetFlow v9). Node B never sees a template datagram, yet decodes
// the exporter's data datagrams from the first one on, because node A's templates reached it through Redis.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { Logger } from '@flowmesh/common';
import { FlowBatch, FlowDecoder, readCaptureUdp, TemplateState, UdpDatagram } from '@flowmesh/flow-decoder';
import { repoRoot, Started, startRedis, stopProcess, waitUntil } from '@flowmesh/testing';
import { ConfigAgentMetrics } from './config-agent.metrics';
import { PipelineTemplateHooks, TemplateSyncComponent } from './template-sync.component';

const logger = new Logger('test', 'error');
const EXPORTER = '192.0.2.99';

/** The template hooks over one in-process decoder (the node's pipeline does the same across its workers). */
class DecoderHooks implements PipelineTemplateHooks {
  readonly decoder = new FlowDecoder();
  private readonly seen = new Set<string>();
  private changed: () => void = () => undefined;
  private first: (e: string) => void = () => undefined;
  constructor() {
    this.decoder.onTemplate = () => this.changed();
  }
  exportTemplates(): TemplateState {
    return this.decoder.exportTemplates();
  }
  importTemplates(state: TemplateState): void {
    this.decoder.importTemplates(state);
  }
  onTemplatesChanged(fn: () => void): void {
    this.changed = fn;
  }
  onNewExporter(fn: (e: string) => void): void {
    this.first = fn;
  }
  /** Decodes one datagram; returns the records decoded. */
  handle(payload: Uint8Array): number {
    if (!this.seen.has(EXPORTER)) {
      this.seen.add(EXPORTER);
      this.first(EXPORTER);
    }
    const batch = new FlowBatch(65536);
    return this.decoder.decode(payload, EXPORTER, Date.now(), batch).records;
  }
}

/** NetFlow v9: does the datagram carry a template (flowset id 0) or options template (1)? */
function hasTemplate(p: Uint8Array): boolean {
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  for (let off = 20; off + 4 <= p.length; ) {
    const id = v.getUint16(off);
    const len = v.getUint16(off + 2);
    if (id === 0 || id === 1) return true;
    if (len < 4) return false;
    off += len;
  }
  return false;
}

describe('control plane: shared templates', { timeout: 60_000 }, () => {
  let redis: { url: string; proc: Started };
  const datagrams: UdpDatagram[] = [...readCaptureUdp(readFileSync(join(repoRoot, 'libs', 'flow-decoder', 'testdata', 'softflowd-v9.pcapng')))];
  const dataOnly = datagrams.filter((d) => !hasTemplate(d.payload));
  const components: TemplateSyncComponent[] = [];

  function node(id: string, hooks: DecoderHooks): TemplateSyncComponent {
    const c = new TemplateSyncComponent({ nodeId: id, connection: { redisUrl: redis.url }, publishDebounceMs: 100 }, hooks, new ConfigAgentMetrics(new Registry()), logger);
    components.push(c);
    return c;
  }

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const c of components) await c.stop();
    await stopProcess(redis?.proc.child);
  });

  test('an exporter that moves to another node decodes there at once', async () => {
    assert.ok(dataOnly.length >= 1 && dataOnly.length < datagrams.length, `capture has template and data-only datagrams (${dataOnly.length}/${datagrams.length})`);
    // Control: a decoder that never saw a template decodes nothing from the data-only datagrams.
    const control = new DecoderHooks();
    assert.equal(dataOnly.reduce((n, d) => n + control.handle(d.payload), 0), 0);

    const a = new DecoderHooks();
    const b = new DecoderHooks();
    const na = node('node-a', a);
    const nb = node('node-b', b);
    await na.start();
    await nb.start();
    await waitUntil('both connected', async () => na.share.connected && nb.share.connected, 5000, 20);
    let expected = 0;
    for (const d of datagrams) {
      const n = a.handle(d.payload);
      if (!hasTemplate(d.payload)) expected += n;
    }
    assert.ok(expected > 0);
    // A publishes (debounced); B imports on A's wake-up, before it ever receives the exporter.
    await waitUntil('node-a published the templates', async () => (await na.share.get(EXPORTER)).length > 0, 5000, 20);
    await waitUntil('node-b imported them', async () => b.exportTemplates().domains.length > 0, 5000, 20);
    const decoded = dataOnly.reduce((n, d) => n + b.handle(d.payload), 0);
    assert.equal(decoded, expected, 'node-b decodes every record of the data-only datagrams');
  });

  test('a node started later imports the shared templates at start', async () => {
    const c = new DecoderHooks();
    const nc = node('node-c', c);
    await nc.start();
    await waitUntil('node-c imported at start', async () => c.exportTemplates().domains.length > 0, 10_000, 20);
    // node-c has not received the exporter itself, so it does not re-publish the imported templates as its own.
    await nc.publishNow();
    assert.deepEqual([...new Set((await nc.share.get(EXPORTER)).map((e) => e.node))], ['node-a']);
    assert.ok(dataOnly.reduce((n, d) => n + c.handle(d.payload), 0) > 0);
  });
});
