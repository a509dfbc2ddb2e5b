import { createSocket, RemoteInfo } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { Component, Health, Logger } from '@flowmesh/common';
import { loadUdpMmsg, MmsgBatch, MmsgUdpSocket, UdpMmsgBinding } from '@flowmesh/udp-mmsg';
import { LISTENER_NAMES, ListenerName, ListenersConfig } from './udp-input.config';
import { kernelDrops, ownSocketInodes } from './kernel-drops';
import { UdpInputMetrics } from './udp-input.metrics';

export interface DatagramSink {
  handle(payload: Uint8Array, exporter: string, receivedMs: number): void;
}

/** A sink whose threads read sockets themselves (the decode pipeline's workers). */
export interface SocketReaders {
  readonly socketsPerListener: number;
  attach(listener: string, fds: number[], coalesceMs: number): void;
  detach(fds: number[]): Promise<void>;
  onListenerCounts(fn: (listener: string, packets: number, bytes: number) => void): void;
  onSocketError(fn: (listener: string, error: Error) => void): void;
}

function readsSockets(sink: DatagramSink): sink is DatagramSink & SocketReaders {
  return typeof (sink as Partial<SocketReaders>).attach === 'function';
}

export interface BoundListener {
  name: ListenerName;
  address: string;
  port: number;
  receiveBufferBytes: number;
  /** How it is read: the native recvmmsg receiver or Node's dgram (listeners.receiver). */
  receiver: 'recvmmsg' | 'dgram';
  /** recvmmsg: sockets bound to the port (one per decode worker, SO_REUSEPORT when more than one). */
  sockets?: number;
}

interface OpenSocket {
  name: ListenerName;
  close(): Promise<void>;
  /** Worker-read sockets: their fds, to detach before closing. */
  fds?: number[];
}

/**
 * One UDP socket per enabled listener, read with recvmmsg (libs/udp-mmsg: up to 64 datagrams per system
 * call and per JavaScript call) or with Node's dgram (listeners.receiver). A socket error after binding is
 * fatal (onFatal ends the process): a collector that silently stopped listening is worse than one that restarts.
 */
export class UdpInput implements Component {
  readonly name = 'udp';
  private readonly sockets: OpenSocket[] = [];
  private readonly bound: BoundListener[] = [];
  private stopping = false;
  private warnedFallback = false;

  constructor(
    private readonly config: ListenersConfig,
    private readonly sink: DatagramSink,
    private readonly metrics: UdpInputMetrics,
    private readonly logger: Logger,
    private readonly onFatal: (e: Error) => void,
  ) {
    metrics.kernelDropSource = () => this.kernelDrops();
    if (readsSockets(sink)) {
      sink.onListenerCounts((listener, packets, bytes) => {
        metrics.packets.inc({ listener }, packets);
        metrics.bytes.inc({ listener }, bytes);
      });
      sink.onSocketError((listener, e) => {
        if (!this.stopping) this.onFatal(new Error(`listener ${listener}: ${e.message}`));
      });
    }
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
    const native = this.nativeReceiver();
    for (const name of LISTENER_NAMES) {
      const l = this.config[name];
      if (!l.enabled) continue;
      this.bound.push(native ? this.openMmsg(native, name, l.address, l.port) : await this.open(name, l.address, l.port));
    }
  }

  /** The native receiver when listeners.receiver allows it; throws when it is required and cannot load. */
  private nativeReceiver(): UdpMmsgBinding | undefined {
    const mode = this.config.receiver;
    if (mode === 'dgram') return undefined;
    const b = loadUdpMmsg();
    if (!(b instanceof Error)) return b;
    if (mode === 'recvmmsg') throw new Error(`listeners.receiver is 'recvmmsg' but the native receiver cannot be used: ${b.message}`);
    if (!this.warnedFallback) {
      this.warnedFallback = true;
      this.logger.warn("native recvmmsg receiver unavailable, receiving with Node's dgram (fewer datagrams per second)", { reason: b.message });
    }
    return undefined;
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
    // Worker-read sockets: the workers stop polling them before they are closed.
    const fds = this.sockets.flatMap((s) => s.fds ?? []);
    if (fds.length && readsSockets(this.sink)) await this.sink.detach(fds);
    await Promise.all(this.sockets.map((s) => s.close()));
    this.sockets.length = 0;
    this.bound.length = 0;
  }

  private openMmsg(native: UdpMmsgBinding, name: ListenerName, address: string, port: number): BoundListener {
    const sink = this.sink;
    if (readsSockets(sink)) return this.openForWorkers(native, sink, name, address, port);
    const socket = this.bindMmsg(native, name, address, port, false);
    const packets = this.metrics.packets.labels({ listener: name });
    const bytes = this.metrics.bytes.labels({ listener: name });
    packets.inc(0);
    bytes.inc(0);
    socket.start(
      (b: MmsgBatch) => {
        const now = Date.now();
        let total = 0;
        for (let i = 0; i < b.count; i++) {
          const p = b.payload(i);
          total += p.length;
          sink.handle(p, b.address(i), now);
        }
        packets.inc(b.count);
        bytes.inc(total);
      },
      (e) => {
        if (!this.stopping) this.onFatal(new Error(`listener ${name}: ${e.message}`));
      },
      this.config.coalesceMs,
    );
    this.sockets.push({ name, close: async () => socket.close() });
    return this.listening({ name, address, port: socket.port, receiveBufferBytes: socket.recvBufferBytes, receiver: 'recvmmsg' });
  }

  private bindMmsg(native: UdpMmsgBinding, name: ListenerName, address: string, port: number, reusePort: boolean): MmsgUdpSocket {
    try {
      return MmsgUdpSocket.open(native, { address, port, recvBufferBytes: this.config.receiveBufferBytes, reusePort });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new Error(`listener ${name}: cannot bind ${address}:${port}: ${err.code ?? 'ESOCKET'} ${err.message}`);
    }
  }

  /**
   * One socket per decode worker on the same port (SO_REUSEPORT when more than one: the kernel spreads
   * senders by their address and port, so an exporter's transport session stays with one worker), each
   * read by its worker: datagrams reach the decoder without crossing threads.
   */
  private openForWorkers(native: UdpMmsgBinding, sink: SocketReaders, name: ListenerName, address: string, port: number): BoundListener {
    const n = sink.socketsPerListener;
    const reuse = n > 1;
    // SO_REUSEPORT would let a second process of this user join a group already on the port and take part
    // of its traffic without an error: the port is first bound alone, so a taken port fails as it should.
    if (reuse && port !== 0) this.bindMmsg(native, name, address, port, false).close();
    const socks = [this.bindMmsg(native, name, address, port, reuse)];
    try {
      for (let i = 1; i < n; i++) socks.push(this.bindMmsg(native, name, address, socks[0].port, reuse));
    } catch (e) {
      for (const s of socks) s.close();
      throw e;
    }
    this.metrics.packets.inc({ listener: name }, 0);
    this.metrics.bytes.inc({ listener: name }, 0);
    const fds = socks.map((s) => s.fd);
    sink.attach(name, fds, this.config.coalesceMs);
    this.sockets.push({ name, fds, close: async () => socks.forEach((s) => s.close()) });
    return this.listening({ name, address, port: socks[0].port, receiveBufferBytes: socks[0].recvBufferBytes, receiver: 'recvmmsg', sockets: n });
  }

  private listening(info: BoundListener): BoundListener {
    const { name, receiveBufferBytes: granted } = info;
    this.metrics.receiveBuffer.set({ listener: name }, granted);
    this.logger.info('listening', { ...info, requested: this.config.receiveBufferBytes });
    // Linux doubles what it grants; less than asked means net.core.rmem_max capped it.
    if (granted < this.config.receiveBufferBytes) {
      this.logger.warn('receive buffer smaller than asked: raise net.core.rmem_max to absorb bursts', {
        listener: name,
        requested: this.config.receiveBufferBytes,
        granted,
      });
    }
    return info;
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
        const a = socket.address();
        this.sockets.push({ name, close: () => new Promise<void>((r) => socket.close(() => r())) });
        resolve(this.listening({ name, address: a.address, port: a.port, receiveBufferBytes: granted, receiver: 'dgram' }));
      });
    });
  }
}
