export * from './lib/flow-batch';
export * from './lib/flow-record';
export * from './lib/addr';
export * from './lib/decode-error';
export * from './lib/flow-decoder';
export { DEFAULT_DECODER_OPTIONS } from './lib/decoder-types';
export type { TemplateDomainState, TemplateFieldState, TemplateRecordState } from './lib/decoder-types';

// ---- sFlow and pcap exports (owned by the sflow/pcap helper; edit only below this line) ----
export { decodeSflow, SFLOW_EXTRA_IE } from './lib/sflow/sflow-decoder';
export type { SflowInterfaceCounters, SflowResult, SflowSink } from './lib/sflow/sflow-decoder';
export { encodeSflowDatagram } from './lib/sflow/sflow-encoder';
export type { SflowDatagramSpec, SflowFlowRecordSpec, SflowFlowSampleSpec, SflowCounterSampleSpec } from './lib/sflow/sflow-encoder';
export { detectCaptureFormat, LINKTYPE, newPcapReadStats, PCAP_ERROR_REASONS, readCaptureUdp } from './lib/pcap/pcap-reader';
export type { CaptureFormat, PcapErrorReason, PcapReadStats, UdpDatagram } from './lib/pcap/pcap-reader';
export { buildEthernetFrame, buildIpPacket, buildUdpFrame, writeClassicPcap, writePcapng } from './lib/pcap/pcap-writer';
export type { CaptureFrame, PacketSpec, PcapWriteOptions, PcapngWriteOptions } from './lib/pcap/pcap-writer';
// ---- end sFlow and pcap exports ----
