import { existsSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { join } from 'node:path';
import { bytes16ToIpText, isV4Mapped } from '@flowmesh/flow-decoder';

/** The native module (libs/udp-mmsg/native/udp_mmsg.c). */
export interface UdpMmsgBinding {
  readonly SLOTS: number;
  readonly SLOT_BYTES: number;
  readonly META_BYTES: number;
  open(family: 4 | 6, address: string, port: number, recvBufferBytes: number, reusePort: boolean): [fd: number, port: number, recvBufferBytes: number];
  start(fd: number, data: ArrayBuffer, meta: ArrayBuffer, onBatch: (n: number) => void, coalesceMs: number, ownsFd: boolean): unknown;
  stop(receiver: unknown): void;
  close(fd: number): void;
  copy(dst: Uint8Array, dstOffset: number, src: Uint8Array): number;
}

/**
 * dst.set(src, offset) at memcpy speed: V8 copies into a SharedArrayBuffer with relaxed atomics, several times
 * slower (measured: half of a decode worker's encode time went to it). Falls back to set() without the addon.
 */
export function sharedCopier(): (dst: Uint8Array, offset: number, src: Uint8Array) => void {
  const b = loadUdpMmsg();
  if (b instanceof Error) return (dst, offset, src) => dst.set(src, offset);
  return (dst, offset, src) => {
    b.copy(dst, offset, src);
  };
}

let loaded: UdpMmsgBinding | Error | undefined;

/**
 * The compiled receiver (dist/native/udp_mmsg.node, built by libs/udp-mmsg/build-native.sh), or the reason it
 * cannot be used. FLOWMESH_UDP_MMSG names another file; FLOWMESH_UDP_MMSG=off refuses it (tests of the fallback).
 */
export function loadUdpMmsg(): UdpMmsgBinding | Error {
  if (loaded) return loaded;
  const forced = process.env['FLOWMESH_UDP_MMSG'];
  if (forced === 'off') return (loaded = new Error('disabled by FLOWMESH_UDP_MMSG=off'));
  if (process.platform !== 'linux') return (loaded = new Error(`recvmmsg is Linux only (this is ${process.platform})`));
  // dist/libs/udp-mmsg/src/lib/mmsg-socket.js -> dist/native/udp_mmsg.node
  const file = forced || join(__dirname, '..', '..', '..', '..', 'native', 'udp_mmsg.node');
  if (!existsSync(file)) return (loaded = new Error(`${file} was not built (libs/udp-mmsg/build-native.sh needs a C compiler and Node's headers)`));
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require(file) as UdpMmsgBinding;
  } catch (e) {
    loaded = new Error(`${file}: ${(e as Error).message}`);
  }
  return loaded;
}

export interface MmsgOpenOptions {
  address: string;
  port: number;
  recvBufferBytes: number;
  /** SO_REUSEPORT: several sockets (threads, processes) share the port, the kernel spreads senders by 4-tuple hash. */
  reusePort?: boolean;
}

/**
 * The datagrams of one recvmmsg call, read in place: payload(i) and address(i) are valid only during the
 * onBatch call (the next call overwrites them).
 */
export class MmsgBatch {
  count = 0;
  readonly bytes: Uint8Array;
  private readonly meta: DataView;
  private readonly metaBytes: Uint8Array;
  private readonly v4 = new Map<number, string>();
  private readonly v6 = new Map<string, string>();

  constructor(
    data: ArrayBuffer,
    meta: ArrayBuffer,
    private readonly slotBytes: number,
    private readonly recordBytes: number,
  ) {
    this.bytes = new Uint8Array(data);
    this.meta = new DataView(meta);
    this.metaBytes = new Uint8Array(meta);
  }

  /** Where datagram i starts in `bytes`. */
  offset(i: number): number {
    return i * this.slotBytes;
  }

  length(i: number): number {
    return this.meta.getUint32(i * this.recordBytes, true);
  }

  payload(i: number): Uint8Array {
    const o = i * this.slotBytes;
    return this.bytes.subarray(o, o + Math.min(this.length(i), this.slotBytes));
  }

  port(i: number): number {
    return this.meta.getUint16(i * this.recordBytes + 6, true);
  }

  /** The sender's address as Node's dgram writes it (IPv4 dotted; on a dual-stack socket '::ffff:a.b.c.d'). */
  address(i: number): string {
    const m = i * this.recordBytes;
    if (this.metaBytes[m + 5] === 4) {
      const a = this.meta.getUint32(m + 8, true);
      let s = this.v4.get(a);
      if (s === undefined) {
        s = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
        if (this.v4.size >= 65_536) this.v4.clear(); // a spoofed flood must not grow it without bound
        this.v4.set(a, s);
      }
      return s;
    }
    const raw = this.metaBytes.subarray(m + 12, m + 28);
    const key = String.fromCharCode.apply(null, raw as unknown as number[]);
    let s = this.v6.get(key);
    if (s === undefined) {
      s = formatIpv6(raw);
      if (this.v6.size >= 65_536) this.v6.clear();
      this.v6.set(key, s);
    }
    return s;
  }
}

/**
 * The text Node's dgram (libuv's inet_ntop) gives a 16-byte sender address: the project's RFC 5952 form
 * (bytes16ToIpText), except that inet_ntop keeps the IPv6 prefix of ::ffff:a.b.c.d (a dual-stack socket's
 * IPv4 sender) and writes ::a.b.c.d with an IPv4 tail.
 */
export function formatIpv6(b: Uint8Array): string {
  if (isV4Mapped(b, 0)) return `::ffff:${bytes16ToIpText(b, 0)}`;
  let zeros = 0;
  while (zeros < 12 && b[zeros] === 0) zeros++;
  if (zeros === 12 && (b[12] | b[13]) !== 0) return `::${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  return bytes16ToIpText(b, 0);
}

let buffers: { data: ArrayBuffer; meta: ArrayBuffer; batch: MmsgBatch } | undefined;

/**
 * The receive buffers of this thread (module state is per thread): every receiver of a thread shares them,
 * as its callbacks run one at a time and a batch is only valid during its call. 4 MiB.
 */
function threadBuffers(native: UdpMmsgBinding): { data: ArrayBuffer; meta: ArrayBuffer; batch: MmsgBatch } {
  if (!buffers) {
    const data = new ArrayBuffer(native.SLOTS * native.SLOT_BYTES);
    const meta = new ArrayBuffer(native.SLOTS * native.META_BYTES);
    buffers = { data, meta, batch: new MmsgBatch(data, meta, native.SLOT_BYTES, native.META_BYTES) };
  }
  return buffers;
}

/**
 * Reads an fd with recvmmsg on this thread's event loop: onBatch gets up to SLOTS datagrams per call, in one
 * reused buffer, instead of one callback and one Buffer per datagram. Once the socket is drained, reading
 * pauses coalesceMs (0: never), so the datagrams of that time are one wake-up and one call. The fd may
 * belong to another thread (a decode worker reading the socket the main thread bound): ownsFd false leaves
 * it open on stop.
 */
export class MmsgReceiver {
  private receiver: unknown;

  constructor(
    private readonly native: UdpMmsgBinding,
    fd: number,
    onBatch: (b: MmsgBatch) => void,
    onError: (e: Error) => void,
    o: { coalesceMs?: number; ownsFd: boolean },
  ) {
    const { data, meta, batch } = threadBuffers(native);
    this.receiver = native.start(
      fd,
      data,
      meta,
      (n: number) => {
        if (n < 0) {
          this.stop();
          onError(new Error(`recvmmsg failed (errno ${-n})`));
          return;
        }
        batch.count = n;
        onBatch(batch);
      },
      o.coalesceMs ?? 0,
      o.ownsFd,
    );
  }

  get stopped(): boolean {
    return this.receiver === undefined;
  }

  stop(): void {
    if (this.receiver === undefined) return;
    this.native.stop(this.receiver);
    this.receiver = undefined;
  }
}

/** A bound UDP socket (the fd is its own): read here with start(), or by another thread through `fd`. */
export class MmsgUdpSocket {
  readonly port: number;
  readonly recvBufferBytes: number;
  readonly address: string;
  private reader?: MmsgReceiver;
  private fdOpen: number;

  private constructor(
    private readonly native: UdpMmsgBinding,
    o: MmsgOpenOptions,
  ) {
    const [fd, port, granted] = native.open(isIPv6(o.address) ? 6 : 4, o.address, o.port, o.recvBufferBytes, o.reusePort ?? false);
    this.fdOpen = fd;
    this.port = port;
    this.address = o.address;
    this.recvBufferBytes = granted;
  }

  /** Binds a socket; throws an Error whose code is EADDRINUSE, EACCES, EADDRNOTAVAIL or ESOCKET. */
  static open(native: UdpMmsgBinding, o: MmsgOpenOptions): MmsgUdpSocket {
    return new MmsgUdpSocket(native, o);
  }

  /** The descriptor (for a receiver on another thread; this object still closes it). -1 once closed. */
  get fd(): number {
    return this.fdOpen;
  }

  /** Reads it on this thread (see MmsgReceiver). */
  start(onBatch: (b: MmsgBatch) => void, onError: (e: Error) => void, coalesceMs = 0): void {
    if (this.reader || this.fdOpen < 0) throw new Error('MmsgUdpSocket: started twice or closed');
    this.reader = new MmsgReceiver(this.native, this.fdOpen, onBatch, onError, { coalesceMs, ownsFd: false });
  }

  /** Stops reading here and closes the fd (any receiver on another thread must have stopped first). */
  close(): void {
    this.reader?.stop();
    this.reader = undefined;
    if (this.fdOpen >= 0) this.native.close(this.fdOpen);
    this.fdOpen = -1;
  }
}
