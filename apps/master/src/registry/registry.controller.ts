import { Controller, Get } from '@nestjs/common';
import { NodeListResponseDto } from './node-summary.dto';
import { RegistryService } from './registry.service';

@Controller('api/v1/nodes')
export class RegistryController {
  constructor(private readonly registry: RegistryService) {}

  @Get()
  async list(): Promise<NodeListResponseDto> {
    const nodes = await this.registry.summaries();
    const up = nodes.filter((n) => n.status === 'up').length;
    return { nodes, up, down: nodes.length - up };
  }
}
