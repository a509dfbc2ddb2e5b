export { FlowGenerator, ExportCursor, SummaryBuilder, type PoolPacket } from './lib/flow-generator';
export { sendFlows, sendGenerated } from './lib/flow-sender';
export {
  GEN_PROTOS, GenOptionError, resolveLoopback, validateGenOptions,
  type GenOptions, type GenProto, type GenSummary, type LoopbackTarget,
} from './lib/gen-options';
export { PcapWriter, writePcap, type PcapPacket, type PcapWriterOptions } from './lib/pcap-writer';
export { Prng } from './lib/prng';
export { PEN_DOCUMENTATION, TEMPLATE_V4, TEMPLATE_V6 } from './lib/encoders';
