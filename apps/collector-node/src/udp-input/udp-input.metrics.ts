import { Counter, Gauge, Registry } from 'prom-client';

export class UdpInputMetrics {
  readonly packets: Counter<'listener'>;
  readonly bytes: Counter<'listener'>;
  readonly receiveBuffer: Gauge<'listener'>;
  readonly kernelDrops: Counter<'listener'>;
  /** Set by UdpInput: current kernel drop counts per listener, read at scrape time. */
  kernelDropSource: () => Record<string, number> = () => ({});

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
    const source = () => this.kernelDropSource();
    const last = new Map<string, number>();
    this.kernelDrops = new Counter({
      name: 'flowmesh_collector_udp_kernel_drops_total',
      help: 'Datagrams the kernel dropped on this process\'s sockets (receive buffer full), from /proc/net/udp{,6}',
      labelNames: ['listener'],
      registers: [registry],
      collect() {
        for (const [listener, now] of Object.entries(source())) {
          const delta = now - (last.get(listener) ?? 0);
          if (delta > 0) this.inc({ listener }, delta);
          else this.inc({ listener }, 0);
          last.set(listener, Math.max(now, last.get(listener) ?? 0));
        }
      },
    });
  }
}
