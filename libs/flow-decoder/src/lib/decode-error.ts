/**
 * Every reason a decoder can count a malformed input under. Stable snake_case: these strings are
 * metric label values and API fields.
 */
export const DECODE_ERROR_REASONS = [
  'too_short', // payload shorter than the protocol's header
  'bad_version', // version field is not 5, 9, 10 (or sFlow 5)
  'bad_length', // a length field points outside the payload, or is impossible (< header)
  'truncated', // payload ends before what its header announces; the complete part is decoded
  'bad_set', // a set/flowset with a reserved id or a length shorter than its own header
  'bad_template', // a template record that cannot be used (no fields, zero-length field, id < 256, overflow)
  'template_limit', // a new template refused: the exporter's template count or byte cap is reached
  'domain_limit', // a packet for one observation domain too many (maxDomainsPerExporter): dropped
  'missing_template', // data for a template never seen (and not held for later)
  'pending_expired', // data held waiting for its template expired or was evicted
  'bad_record', // a data record that runs past its set, or an unusable field value
  'batch_full', // `out` stayed full after onFull (or no onFull given): the rest of the packet was dropped
  'unsupported', // a known protocol this build cannot decode
  'internal_error', // a decoder defect caught at the facade (please report the packet)
  // reserved for the sFlow decoder
  'bad_sample',
  'bad_address',
  'bad_flow_record',
  'bad_counter_record',
] as const;

export type DecodeErrorReason = (typeof DECODE_ERROR_REASONS)[number] | string;
