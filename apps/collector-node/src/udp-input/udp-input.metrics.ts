import { Counter, Gauge, Registry } from 'prom-client';

export class UdpInputMetrics {
  readonly packets: Counter<'listener'>;
  readonly bytes: Counter<'listener'>;
  readonly receiveBuffer: Gauge<'listener'>;

  constructor(registry: Registry) {
    this.packets = new Counter({
      name: 'flowmesh_collector_udp_packets_received_total',
      help: 'Datagrams received, by listener',
      labelNames: ['listener'],
      registers: [registry],
    });
    this.bytes = new Counter({
      name: 'flowmesh_collector_udp_received_bytes_total',
      help: 'UDP payload bytes received, by listener',
      labelNames: ['listener'],
      registers: [registry],
    });
    this.receiveBuffer = new Gauge({
      name: 'flowmesh_collector_udp_receive_buffer_bytes',
      help: 'SO_RCVBUF the kernel granted (Linux reports twice the accounted size; capped by net.core.rmem_max)',
      labelNames: ['listener'],
      registers: [registry],
    });
  }
}
