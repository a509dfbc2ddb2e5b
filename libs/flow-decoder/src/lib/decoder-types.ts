import type { DecodeErrorReason } from './decode-error';

export type FlowProtocol = 'netflow_v5' | 'netflow_v9' | 'ipfix' | 'sflow_v5' | 'unknown';

export interface DecoderOptions {
  /** A template not refreshed for this long is dropped (RFC 7011 §8.4 template lifetime). */
  templateExpirySec: number;
  /** Templates (data + options, all domains) one exporter may hold; more -> 'template_limit'. */
  maxTemplatesPerExporter: number;
  /** Template bytes (wire size + 64 per template) one exporter may hold; more -> 'template_limit'. */
  maxTemplateBytesPerExporter: number;
  /** Fields one template may declare; more -> 'bad_template'. */
  maxTemplateFields: number;
  /** Data sets held while waiting for their template, per exporter (0 disables holding). */
  pendingMaxSetsPerExporter: number;
  /** Bytes held while waiting for templates, per exporter. */
  pendingMaxBytesPerExporter: number;
  /** Bytes held while waiting for templates, all exporters together. */
  pendingMaxBytesTotal: number;
  /** A held data set older than this is dropped as 'pending_expired'. */
  pendingMaxAgeMs: number;
  /** NetFlow v9: a sequence step back by more than this many packets is an exporter restart. */
  sequenceResetPackets: number;
  /** NetFlow v5 / IPFIX: a step back by more than this many records is an exporter restart. */
  sequenceResetRecords: number;
  /** Observation domains (v9 source ids, IPFIX ODIDs, sFlow sub-agents) tracked per exporter; packets for more -> 'domain_limit'. */
  maxDomainsPerExporter: number;
  /** Generate a specialised decoder for a template once its data arrived in this many packets (0 = interpret only). */
  codegenAfterSets: number;
  /**
   * New specialised decoders one FlowDecoder may generate per second (a layout already generated is
   * reused without counting). Beyond it, templates stay interpreted and ask again later: template
   * churn cannot turn into a code-generation storm.
   */
  codegenMaxPerSecond: number;
}

export const DEFAULT_DECODER_OPTIONS: Readonly<DecoderOptions> = Object.freeze({
  templateExpirySec: 1800,
  maxTemplatesPerExporter: 2048,
  maxTemplateBytesPerExporter: 1 << 20,
  maxTemplateFields: 512,
  pendingMaxSetsPerExporter: 256,
  pendingMaxBytesPerExporter: 1 << 20,
  pendingMaxBytesTotal: 32 << 20,
  pendingMaxAgeMs: 60_000,
  sequenceResetPackets: 1000,
  sequenceResetRecords: 100_000,
  codegenAfterSets: 3,
  codegenMaxPerSecond: 100,
  maxDomainsPerExporter: 1024,
});

export interface DecodeResult {
  protocol: FlowProtocol;
  /** Flow records appended to `out` by this call (including held data released by a new template). */
  records: number;
  /** Errors counted by this call. */
  errors: number;
  /** The first error's reason. */
  error?: DecodeErrorReason;
}

export interface ExporterStats {
  exporter: string;
  protocol: FlowProtocol;
  /** NetFlow v9 source id / IPFIX observation domain id; 0 for v5 and for errors before a header was read. */
  observation_domain: number;
  packets: number;
  records: number;
  errors: Record<string, number>;
  templates: number;
  sequence_lost: number;
  sequence_out_of_order: number;
  sequence_resets: number;
  /** Data sets currently held waiting for a template. */
  pending: number;
}

export interface TemplateFieldState {
  pen: number;
  id: number;
  /** 65535 = variable length (IPFIX). */
  length: number;
}

export interface TemplateRecordState {
  id: number;
  options: boolean;
  scope_count: number;
  fields: TemplateFieldState[];
  /** The template record as received, hex. Authoritative on import. */
  raw: string;
  last_seen_ms: number;
}

export interface TemplateDomainState {
  exporter: string;
  protocol: 'netflow_v9' | 'ipfix';
  observation_domain: number;
  templates: TemplateRecordState[];
  /** Sampling learnt from options data: sampler id -> rate. */
  samplers: { id: number; rate: number }[];
  /** Rate from options data without a sampler id (0 = none). */
  default_rate: number;
  /** IPFIX systemInitTimeMilliseconds from options data (0 = none). */
  system_init_ms: number;
}

/** JSON-serialisable snapshot of all templates and sampling options. */
export interface TemplateState {
  version: 1;
  domains: TemplateDomainState[];
}
