import {
  BadRequestException, Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, Post, Query, Req, Res, StreamableFile,
} from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOperation, ApiProduces, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { HttpRequest as Request, HttpResponse as Response } from '../auth/http-types';
import { createReadStream } from 'node:fs';
import { IsString, Matches, MaxLength } from 'class-validator';
import { ApiProperty } from '@nestjs/swagger';
import { SEMVER_PATTERN, SignedPackageManifest } from '@flowmesh/config-sync';
import { CurrentPrincipal, NodeRoute } from '../auth/auth.decorators';
import { authorOf, Principal } from '../auth/auth.rules';
import { mapErrors } from '../control-plane/config-http';
import { PackageStore } from './package-store.service';
import { CreateRolloutRequestDto, Rollout } from './rollout.dto';
import { RolloutService } from './rollout.service';

export class RegisterPackageRequestDto {
  @ApiProperty({ example: '1.2.3' })
  @IsString() @Matches(SEMVER_PATTERN, { message: 'must be a semantic version such as 1.2.3' })
  version!: string;
  @ApiProperty({ description: "a .tar.gz on the master's disk (copied into the package store)" })
  @IsString() @MaxLength(4096)
  path!: string;
}

@ApiTags('upgrades')
@ApiBearerAuth()
@Controller('api/v1/upgrades')
export class UpgradesController {
  constructor(
    private readonly packages: PackageStore,
    private readonly rollouts: RolloutService,
  ) {}

  @Post('packages/register')
  @ApiOperation({ summary: "Adds a node package from a path on the master's disk; the master signs its manifest" })
  async register(@Body() body: RegisterPackageRequestDto, @Res({ passthrough: true }) res: Response): Promise<SignedPackageManifest> {
    const r = await this.packages.addFromPath(body.version, body.path);
    res.status(r.created ? 201 : 200);
    return r.manifest;
  }

  @Post('packages')
  @ApiConsumes('application/gzip', 'application/octet-stream')
  @ApiQuery({ name: 'version', required: true, example: '1.2.3' })
  @ApiBody({ schema: { type: 'string', format: 'binary' }, description: 'the tar.gz' })
  @ApiResponse({ status: 201, description: 'stored; the signed manifest' })
  @ApiResponse({ status: 409, description: 'this version exists with different content' })
  @ApiOperation({ summary: 'Uploads a node package (raw tar.gz body); the master signs the manifest {version, sha256, size}' })
  async upload(@Req() req: Request, @Query('version') version: string, @Res({ passthrough: true }) res: Response): Promise<SignedPackageManifest> {
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (!['application/gzip', 'application/x-gzip', 'application/octet-stream'].includes(type)) {
      throw new BadRequestException([`content-type: must be application/gzip or application/octet-stream (got ${JSON.stringify(type)})`]);
    }
    const r = await this.packages.add(version, req);
    res.status(r.created ? 201 : 200);
    return r.manifest;
  }

  @Get('packages')
  @ApiOperation({ summary: 'Every package (signed manifests), newest version first' })
  list(): { packages: SignedPackageManifest[] } {
    return { packages: this.packages.list() };
  }

  @Get('packages/:version')
  @NodeRoute()
  @ApiOperation({ summary: "One package's signed manifest" })
  manifest(@Param('version') version: string): SignedPackageManifest {
    return this.packages.open(version).manifest;
  }

  @Get('packages/:version/download')
  @NodeRoute()
  @ApiProduces('application/gzip')
  @ApiOperation({ summary: 'The tar.gz (nodes: with their node token); X-Flowmesh-Sha256 and X-Flowmesh-Signature carry the manifest' })
  download(@Param('version') version: string, @Res({ passthrough: true }) res: Response): StreamableFile {
    const { manifest, file } = this.packages.open(version);
    res.setHeader('X-Flowmesh-Sha256', manifest.sha256);
    res.setHeader('X-Flowmesh-Signature', manifest.signature);
    return new StreamableFile(createReadStream(file), {
      type: 'application/gzip',
      length: manifest.size,
      disposition: `attachment; filename="flowmesh-node-${manifest.version}.tar.gz"`,
    });
  }

  @Post('rollouts')
  @HttpCode(202)
  @ApiOperation({ summary: 'Starts a rolling upgrade, node by node; 409 while another rollout runs' })
  async startRollout(@Body() body: CreateRolloutRequestDto, @CurrentPrincipal() who: Principal): Promise<Rollout> {
    return mapErrors(() => this.rollouts.start(body, authorOf(who)));
  }

  @Get('rollouts')
  @ApiOperation({ summary: 'Every rollout, newest first' })
  async listRollouts(): Promise<{ rollouts: Rollout[] }> {
    return mapErrors(async () => ({ rollouts: await this.rollouts.all() }));
  }

  @Get('rollouts/:id')
  @ApiOperation({ summary: 'One rollout: state, reason, and per node state, from-version, job id, reason' })
  async getRollout(@Param('id') id: string): Promise<Rollout> {
    return mapErrors(async () => {
      const r = await this.rollouts.get(id);
      if (!r) throw new NotFoundException(`no rollout ${JSON.stringify(id)}`);
      return r;
    });
  }

  @Delete('rollouts/:id')
  @ApiOperation({ summary: 'Stops a running rollout before its next node (a node already upgrading finishes or times out)' })
  async cancelRollout(@Param('id') id: string): Promise<Rollout> {
    return mapErrors(() => this.rollouts.cancel(id));
  }
}
