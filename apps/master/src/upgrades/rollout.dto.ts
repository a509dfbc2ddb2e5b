import { ApiPropertyOptional, ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { NODE_ID_PATTERN, SEMVER_PATTERN } from '@flowmesh/config-sync';

export class CreateRolloutRequestDto {
  @ApiProperty({ example: '1.2.3' })
  @IsString() @Matches(SEMVER_PATTERN, { message: 'must be a semantic version such as 1.2.3' })
  version!: string;
  @ApiPropertyOptional({ type: [String], description: 'these nodes, in this order (default: every registered node, or the group, by id)' })
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(10_000) @Matches(NODE_ID_PATTERN, { each: true, message: 'each value must be a node id' })
  nodes?: string[];
  @ApiPropertyOptional({ description: 'the registered nodes of this group, by id' })
  @IsOptional() @IsString() @Matches(NODE_ID_PATTERN, { message: 'must be a group name' })
  group?: string;
  @ApiPropertyOptional({ description: 'allow a downgrade or a reinstall of the running version' })
  @IsOptional() @IsBoolean()
  force?: boolean;
  @ApiPropertyOptional({ description: 'per node deadline (default upgrades.nodeTimeoutMs)' })
  @IsOptional() @IsInt() @Min(1000) @Max(3_600_000)
  nodeTimeoutMs?: number;
}

export type RolloutNodeState = 'pending' | 'running' | 'succeeded' | 'skipped' | 'failed';

export interface RolloutNode {
  node: string;
  state: RolloutNodeState;
  fromVersion: string | null;
  jobId: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  reason: string | null;
}

export interface Rollout {
  id: string;
  version: string;
  force: boolean;
  nodeTimeoutMs: number;
  /** running → succeeded | failed | cancelled | interrupted (the master stopped while it ran). */
  state: 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';
  reason: string | null;
  author: string;
  createdAt: string;
  finishedAt: string | null;
  nodes: RolloutNode[];
}
