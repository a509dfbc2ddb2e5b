import { Controller, Get, Inject, Res } from '@nestjs/common';
import { HttpResponse, NODE_RUNTIME, NodeRuntime } from '../lifecycle/node-runtime';

@Controller()
export class MetricsController {
  constructor(@Inject(NODE_RUNTIME) private readonly runtime: NodeRuntime) {}

  /** Prometheus text format: default process metrics plus flowmesh_collector_*. */
  @Get('metrics')
  async metrics(@Res({ passthrough: true }) res: HttpResponse): Promise<string> {
    res.setHeader('Content-Type', this.runtime.metricsRegistry.contentType);
    return this.runtime.metricsRegistry.metrics();
  }
}
