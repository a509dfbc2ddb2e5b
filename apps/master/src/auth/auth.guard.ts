import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { HttpRequest as Request, HttpResponse as Response } from './http-types';
import { MasterConfig } from '../config/master.config';
import { AuthMetrics } from './auth.metrics';
import { NODE_ROUTE } from './auth.decorators';
import { bearerToken, forbiddenReason, isOpenPath, Principal, principalForToken, TokenTables } from './auth.rules';

/**
 * Global guard: with `auth.enabled`, every route but the open ones needs a configured bearer token (401 without
 * or with an unknown one, 403 when the role does not allow the route). Disabled: everyone is anonymous admin.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly enabled: boolean;
  private readonly tables: TokenTables;

  constructor(
    config: MasterConfig,
    private readonly reflector: Reflector,
    private readonly metrics: AuthMetrics,
  ) {
    this.enabled = config.auth.enabled;
    this.tables = { tokens: config.auth.tokens, nodeTokens: config.auth.nodeTokens };
  }

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<Request & { principal?: Principal }>();
    const path = req.path;
    if (!this.enabled || isOpenPath(path)) {
      req.principal = { kind: 'anonymous' };
      return true;
    }
    const token = bearerToken(req.headers.authorization);
    const principal = token ? principalForToken(token, this.tables) : null;
    if (!principal) {
      this.metrics.refused.inc({ reason: token ? 'unknown_token' : 'missing_token' });
      context.switchToHttp().getResponse<Response>().setHeader('WWW-Authenticate', 'Bearer realm="flowmesh"');
      throw new UnauthorizedException(token ? 'unknown bearer token' : 'missing Authorization: Bearer <token>');
    }
    const nodeRoute = this.reflector.getAllAndOverride<boolean>(NODE_ROUTE, [context.getHandler(), context.getClass()]) === true;
    const why = forbiddenReason(principal, req.method, path, nodeRoute);
    if (why) {
      this.metrics.refused.inc({ reason: 'forbidden' });
      throw new ForbiddenException(why);
    }
    req.principal = principal;
    return true;
  }
}
