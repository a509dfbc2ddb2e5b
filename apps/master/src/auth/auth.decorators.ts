import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Principal } from './auth.rules';

export const NODE_ROUTE = 'flowmesh:node-route';

/** Collector nodes may call this route with their node token. */
export const NodeRoute = (): MethodDecorator & ClassDecorator => SetMetadata(NODE_ROUTE, true);

/** The request's Principal (set by AuthGuard). */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Principal => (ctx.switchToHttp().getRequest<{ principal?: Principal }>().principal ?? { kind: 'anonymous' }),
);
