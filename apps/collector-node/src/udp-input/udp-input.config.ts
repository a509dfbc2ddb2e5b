import { Type } from 'class-transformer';
import { IsBoolean, IsInt, IsIP, Max, Min, ValidateNested } from 'class-validator';

export const LISTENER_NAMES = ['netflow', 'ipfix', 'sflow'] as const;
export type ListenerName = (typeof LISTENER_NAMES)[number];

/**
 * One UDP socket. Every listener accepts NetFlow v5/v9, IPFIX and sFlow alike (the decoder reads the
 * version from the header); the name is a label for metrics and the registry.
 */
export abstract class ListenerConfig {
  @IsBoolean()
  enabled = true;
  /** Bind address; an IPv6 address (e.g. '::') opens a dual-stack udp6 socket. */
  @IsIP()
  address = '0.0.0.0';
  /** 0 binds an ephemeral port (the bound port is reported in /internal/v1/info and the registry). */
  port: number;
}

// One class per listener so each keeps its own default port when a file sets only some of its keys
// (class-transformer builds nested objects with a no-argument constructor).
export class NetflowListenerConfig extends ListenerConfig {
  @IsInt() @Min(0) @Max(65535)
  port = 2055;
}
export class IpfixListenerConfig extends ListenerConfig {
  @IsInt() @Min(0) @Max(65535)
  port = 4739;
}
export class SflowListenerConfig extends ListenerConfig {
  @IsInt() @Min(0) @Max(65535)
  port = 6343;
}

export class ListenersConfig {
  @ValidateNested() @Type(() => NetflowListenerConfig)
  netflow = new NetflowListenerConfig();
  @ValidateNested() @Type(() => IpfixListenerConfig)
  ipfix = new IpfixListenerConfig();
  @ValidateNested() @Type(() => SflowListenerConfig)
  sflow = new SflowListenerConfig();
  /** SO_RCVBUF asked for; Linux grants at most 2 × net.core.rmem_max (the granted size is a metric). */
  @IsInt() @Min(65536) @Max(2 ** 31 - 1)
  receiveBufferBytes = 33_554_432;
}
