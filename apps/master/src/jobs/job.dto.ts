import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsObject, IsOptional, IsString, Matches } from 'class-validator';
import { NODE_JOB_TYPES, NodeJobType } from '@flowmesh/config-sync';

export class CreateJobRequestDto {
  @ApiProperty({ enum: [...NODE_JOB_TYPES] })
  @IsIn([...NODE_JOB_TYPES])
  type!: NodeJobType;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'reload {reason?, force?}; flush {reason?}; run-report-part {report, runId, from, to, query}; upgrade {version, manifest, downloadPath, force?, healthDeadlineMs?}',
  })
  @IsOptional() @IsObject()
  payload?: Record<string, unknown>;
  @ApiPropertyOptional({ description: 'Same node + type + payload + key = same job (a repeated request returns it instead of adding another)' })
  @IsOptional() @IsString() @Matches(/^[A-Za-z0-9_.-]{1,128}$/, { message: 'must be 1-128 chars of letters, digits, _ . -' })
  idempotencyKey?: string;
}

/** A node job as the API shows it. */
export interface JobView {
  id: string;
  node: string;
  queue: string;
  type: string;
  /** BullMQ state: waiting, delayed, active, completed, failed, prioritized, waiting-children, unknown. */
  state: string;
  /** Attempts made so far, the successful one included (BullMQ attemptsMade), and the most allowed. */
  attemptsMade: number;
  attempts: number;
  payload: unknown;
  result: unknown;
  failedReason: string | null;
  createdAt: string;
  processedAt: string | null;
  finishedAt: string | null;
}

export interface CreateJobResponse {
  /** false: a job with the same id existed already and is returned as it is. */
  created: boolean;
  job: JobView;
}
