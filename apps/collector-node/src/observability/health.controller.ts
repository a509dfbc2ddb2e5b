import { Controller, Get, Inject, Res } from '@nestjs/common';
import { HttpResponse, NODE_RUNTIME, NodeRuntime } from '../lifecycle/node-runtime';

@Controller()
export class HealthController {
  constructor(@Inject(NODE_RUNTIME) private readonly runtime: NodeRuntime) {}

  /** The process is alive and serving HTTP. */
  @Get('healthz')
  healthz(): { status: 'ok'; uptimeSeconds: number } {
    return { status: 'ok', uptimeSeconds: Math.round(process.uptime()) };
  }

  /** 200 when every listener is bound, the store takes writes and the node is registered; else 503 with the reason. */
  @Get('readyz')
  readyz(@Res({ passthrough: true }) res: HttpResponse): { status: string; reason?: string; components: Record<string, unknown> } {
    const h = this.runtime.readiness();
    res.status(h.status === 'error' ? 503 : 200);
    return h;
  }
}
