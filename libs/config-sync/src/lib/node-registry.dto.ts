import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsArray, IsBoolean, IsIn, IsInt, IsISO8601, IsNumber, IsOptional, IsString, IsUrl, Matches, Max, Min, ValidateNested } from 'class-validator';

export const NODE_ID_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

export class ListenerInfo {
  @IsIn(['netflow', 'ipfix', 'sflow'])
  protocol: 'netflow' | 'ipfix' | 'sflow';
  @IsString()
  address: string;
  @IsInt() @Min(1) @Max(65535)
  port: number;
}

/** What a node says about itself when it registers. */
export class NodeInfo {
  @Matches(NODE_ID_PATTERN, { message: 'id must be 1-63 chars of a-z, 0-9, _ . - starting with a letter or digit' })
  id: string;
  @IsString()
  version: string;
  @IsString()
  hostname: string;
  @IsOptional() @IsString()
  group?: string;
  /** Base URL of the node's own HTTP API (health, metrics, local queries). */
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  apiUrl: string;
  @IsArray() @IsString({ each: true })
  addresses: string[];
  @IsArray() @ValidateNested({ each: true }) @Type(() => ListenerInfo)
  listeners: ListenerInfo[];
  @IsISO8601()
  startedAt: string;
  @IsInt()
  pid: number;
}

/** Sent every heartbeat interval. Rates are per second over the last interval. */
export class NodeHeartbeat {
  @IsInt()
  at: number;
  @IsBoolean()
  ready: boolean;
  @IsNumber()
  packets: number;
  @IsNumber()
  flows: number;
  @IsNumber()
  storedRows: number;
  @IsNumber()
  decodeErrors: number;
  @IsNumber()
  packetsPerSecond: number;
  @IsNumber()
  flowsPerSecond: number;
  // Losses and backlog (optional: a node of an older version does not send them).
  /** Datagrams the node dropped before decoding (all reasons), since it started. */
  @IsOptional() @IsNumber()
  droppedPackets?: number;
  /** Decoded flows dropped before the spool (all reasons), since it started. */
  @IsOptional() @IsNumber()
  droppedFlows?: number;
  /** The kernel's drops on the node's sockets (receive buffers full), from /proc/net/udp. */
  @IsOptional() @IsNumber()
  kernelDrops?: number;
  /** Bytes in the spool not yet acknowledged by the store, and the age of the oldest batch there. */
  @IsOptional() @IsNumber()
  spoolBytes?: number;
  @IsOptional() @IsNumber()
  spoolAgeSeconds?: number;
}

export interface NodeView extends NodeInfo {
  status: 'up' | 'down';
  lastHeartbeat: string | null;
  heartbeat: NodeHeartbeat | null;
}
