import { createSocket, RemoteInfo, Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { Component, Health, Logger } from '@flowmesh/common';
import { LISTENER_NAMES, ListenerName, ListenersConfig } from './udp-input.config';
import { kernelDrops, ownSocketInodes } from './kernel-drops';
import { UdpInputMetrics } from './udp-input.metrics';

export interface DatagramSink {
  handle(payload: Uint8Array, exporter: string, receivedMs: number): void;
}

export interface BoundListener {
  name: ListenerName;
  address: string;
  port: number;
  receiveBufferBytes: number;
}

/**
 * One UDP socket per enabled listener. A socket error after binding is fatal (onFatal ends the process):
 * a collector that silently stopped listening is worse than one that restarts.
 */
export class UdpInput implements Component {
  readonly name = 'udp';
  private readonly sockets: { name: ListenerName; socket: Socket }[] = [];
  private readonly bound: BoundListener[] = [];
  private stopping = false;

  constructor(
    private readonly config: ListenersConfig,
    private readonly sink: DatagramSink,
    private readonly metrics: UdpInputMetrics,
    private readonly logger: Logger,
    private readonly onFatal: (e: Error) => void,
  ) {
    metrics.kernelDropSource = () => this.kernelDrops();
  }

  /** Kernel drops per listener (socket receive buffer overflows), from /proc/net/udp{,6}. */
  kernelDrops(): Record<string, number> {
    const out: Record<string, number> = {};
    if (!this.bound.length) return out;
    const inodes = ownSocketInodes();
    for (const l of this.bound) {
      const d = kernelDrops(l.port, inodes);
      if (d !== undefined) out[l.name] = d;
    }
    return out;
  }

  async start(): Promise<void> {
    this.stopping = false;
    for (const name of LISTENER_NAMES) {
      const l = this.config[name];
      if (!l.enabled) continue;
      this.bound.push(await this.open(name, l.address, l.port));
    }
  }

  listeners(): readonly BoundListener[] {
    return this.bound;
  }

  health(): Health {
    const want = LISTENER_NAMES.filter((n) => this.config[n].enabled).length;
    if (this.bound.length < want) return { status: 'error', reason: `${this.bound.length} of ${want} listeners bound` };
    return { status: 'ok' };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.sockets.map(({ socket }) => new Promise<void>((r) => socket.close(() => r()))));
    this.sockets.length = 0;
    this.bound.length = 0;
  }

  private open(name: ListenerName, address: string, port: number): Promise<BoundListener> {
    const socket = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4', reuseAddr: false, recvBufferSize: this.config.receiveBufferBytes });
    const packets = this.metrics.packets.labels({ listener: name });
    const bytes = this.metrics.bytes.labels({ listener: name });
    packets.inc(0);
    bytes.inc(0);
    const sink = this.sink;
    socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      packets.inc();
      bytes.inc(msg.length);
      sink.handle(msg, rinfo.address, Date.now());
    });
    return new Promise((resolve, reject) => {
      const onBindError = (e: Error) => {
        socket.close();
        reject(new Error(`listener ${name}: cannot bind ${address}:${port}: ${e.message}`));
      };
      socket.once('error', onBindError);
      socket.bind(port, address, () => {
        socket.off('error', onBindError);
        socket.on('error', (e: Error) => {
          if (!this.stopping) this.onFatal(new Error(`listener ${name}: ${e.message}`));
        });
        const granted = socket.getRecvBufferSize();
        this.metrics.receiveBuffer.set({ listener: name }, granted);
        const a = socket.address();
        const info: BoundListener = { name, address: a.address, port: a.port, receiveBufferBytes: granted };
        this.sockets.push({ name, socket });
        this.logger.info('listening', { listener: name, address: a.address, port: a.port, receiveBufferBytes: granted, requested: this.config.receiveBufferBytes });
        // Linux doubles what it grants; less than asked means net.core.rmem_max capped it.
        if (granted < this.config.receiveBufferBytes) {
          this.logger.warn('receive buffer smaller than asked: raise net.core.rmem_max to absorb bursts', {
            listener: name,
            requested: this.config.receiveBufferBytes,
            granted,
          });
        }
        resolve(info);
      });
    });
  }
}
