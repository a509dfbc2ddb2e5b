// Test helpers only: real processes (redis-server, ClickHouse servers, flowmesh apps), free ports, synthetic captures.
export * from './lib/clickhouse-server';
export * from './lib/pcap-synth';
export * from './lib/processes';
export * from './lib/proc-stats';
