import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsIP, Max, Min, ValidateNested } from 'class-validator';

/** 'true'/'false'/'1'/'0' from --set or the environment; anything else is left for @IsBoolean to refuse. */
export function parseBoolean(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const t = v.trim().toLowerCase();
  if (t === 'true' || t === '1' || t === 'yes') return true;
  if (t === 'false' || t === '0' || t === 'no') return false;
  return v;
}

export const RECEIVERS = ['auto', 'recvmmsg', 'dgram'] as const;
export type ReceiverMode = (typeof RECEIVERS)[number];

export const LISTENER_NAMES = ['netflow', 'ipfix', 'sflow'] as const;
export type ListenerName = (typeof LISTENER_NAMES)[number];

/**
 * One UDP socket. Every listener accepts NetFlow v5/v9, IPFIX and sFlow alike (the decoder reads the
 * version from the header); the name is a label for metrics and the registry.
 */
export abstract class ListenerConfig {
  @Transform(({ obj, key }) => parseBoolean((obj as Record<string, unknown>)[key]))
  @IsBoolean()
  enabled: boolean = true;
  /** Bind address; an IPv6 address (e.g. '::') opens a dual-stack udp6 socket. */
  @IsIP()
  address: string = '0.0.0.0';
  /** 0 binds an ephemeral port (the bound port is reported in /internal/v1/info and the registry). */
  port: number;
}

// One class per listener so each keeps its own default port when a file sets only some of its keys
// (class-transformer builds nested objects with a no-argument constructor).
export class NetflowListenerConfig extends ListenerConfig {
  @IsInt() @Min(0) @Max(65535)
  override port: number = 2055;
}
export class IpfixListenerConfig extends ListenerConfig {
  @IsInt() @Min(0) @Max(65535)
  override port: number = 4739;
}
export class SflowListenerConfig extends ListenerConfig {
  @IsInt() @Min(0) @Max(65535)
  override port: number = 6343;
}

export class ListenersConfig {
  @ValidateNested() @Type(() => NetflowListenerConfig)
  netflow: NetflowListenerConfig = new NetflowListenerConfig();
  @ValidateNested() @Type(() => IpfixListenerConfig)
  ipfix: IpfixListenerConfig = new IpfixListenerConfig();
  @ValidateNested() @Type(() => SflowListenerConfig)
  sflow: SflowListenerConfig = new SflowListenerConfig();
  /** SO_RCVBUF asked for; Linux grants at most 2 × net.core.rmem_max (the granted size is a metric). */
  @IsInt() @Min(65536) @Max(2 ** 31 - 1)
  receiveBufferBytes: number = 33_554_432;
  /**
   * How datagrams are read. 'recvmmsg': the native receiver (libs/udp-mmsg), up to 64 datagrams per system
   * call and per JavaScript call, read in place; as root it may also exceed net.core.rmem_max (SO_RCVBUFFORCE).
   * 'dgram': Node's dgram, one callback and one Buffer per datagram. 'auto': recvmmsg where it was built and
   * loads, else dgram with a warning.
   */
  @IsIn(RECEIVERS)
  receiver: ReceiverMode = 'auto';
  /**
   * recvmmsg only: after the socket is drained, reading pauses this long (0: never) so the datagrams of that
   * time are read with one wake-up and one call. Costs at most this much latency; the receive buffer holds them.
   */
  @IsInt() @Min(0) @Max(50)
  coalesceMs: number = 1;
}
