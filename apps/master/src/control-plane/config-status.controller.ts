import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { NodeConfigStatus } from '@flowmesh/config-sync';
import { mapErrors } from './config-http';
import { ControlPlaneService } from './control-plane.service';

export interface ConfigStatusResponse {
  revision: number;
  nodes: NodeConfigStatus[];
  /** Nodes whose applied revision/hash differs from the desired one (or that never acked). */
  drifting: number;
  failed: number;
}

@ApiTags('nodes')
@ApiBearerAuth()
@Controller('api/v1/nodes/config-status')
export class ConfigStatusController {
  constructor(private readonly cp: ControlPlaneService) {}

  @Get()
  @ApiOperation({ summary: 'Per node: desired and applied revision/hash, drift, status, failure reason, last ack' })
  async list(): Promise<ConfigStatusResponse> {
    return mapErrors(async () => {
      const [revision, nodes] = await Promise.all([this.cp.store.revision(), this.cp.status.list()]);
      return { revision, nodes, drifting: nodes.filter((n) => n.drift).length, failed: nodes.filter((n) => n.status === 'failed').length };
    });
  }
}
