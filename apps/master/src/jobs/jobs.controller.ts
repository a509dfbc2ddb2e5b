import { Body, Controller, Get, NotFoundException, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { HttpResponse as Response } from '../auth/http-types';
import { mapErrors } from '../control-plane/config-http';
import { CreateJobRequestDto, CreateJobResponse, JobView } from './job.dto';
import { JobsService } from './jobs.service';

@ApiTags('jobs')
@ApiBearerAuth()
@Controller('api/v1')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Post('nodes/:id/jobs')
  @ApiOperation({ summary: "Adds a job to the node's queue flowmesh-node-<id> (201), or returns the same job if it exists (200)" })
  @ApiResponse({ status: 400, description: 'bad type or payload; every message names the path (payload.version: ...)' })
  async create(@Param('id') id: string, @Body() body: CreateJobRequestDto, @Res({ passthrough: true }) res: Response): Promise<CreateJobResponse> {
    const r = await mapErrors(() => this.jobs.enqueue(id, body.type, body.payload ?? {}, body.idempotencyKey));
    res.status(r.created ? 201 : 200);
    return r;
  }

  @Get('nodes/:id/jobs')
  @ApiQuery({ name: 'limit', required: false })
  @ApiOperation({ summary: "The node's recent jobs, newest first" })
  async list(@Param('id') id: string, @Query('limit') limit?: string): Promise<{ node: string; jobs: JobView[] }> {
    const n = Math.min(Math.max(Number(limit) || 50, 1), 1000);
    return mapErrors(async () => ({ node: id, jobs: await this.jobs.list(id, n) }));
  }

  @Get('jobs/:id')
  @ApiOperation({ summary: 'One job: state, attempts, result, failure reason' })
  async get(@Param('id') id: string): Promise<JobView> {
    return mapErrors(async () => {
      const job = await this.jobs.get(id);
      if (!job) throw new NotFoundException(`no job ${JSON.stringify(id)}`);
      return job;
    });
  }
}
