// Test helpers only: real processes (redis-server, flowmesh apps), free ports, synthetic captures.
export * from './lib/pcap-synth';
export * from './lib/processes';
