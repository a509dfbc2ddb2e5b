import { Module, OnModuleInit } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Logger } from '@flowmesh/common';
import { MasterConfig } from '../config/master.config';
import { AuthGuard } from './auth.guard';
import { AuthMetrics } from './auth.metrics';

@Module({
  providers: [AuthMetrics, { provide: APP_GUARD, useClass: AuthGuard }],
})
export class AuthModule implements OnModuleInit {
  constructor(private readonly config: MasterConfig) {}

  onModuleInit(): void {
    const { enabled, tokens, nodeTokens } = this.config.auth;
    const log = new Logger('master.auth');
    if (!enabled) {
      log.warn('API authentication is disabled (auth.enabled=false): anyone who reaches the port is admin');
      return;
    }
    if (!tokens.some((t) => t.role === 'admin')) throw new Error('auth.enabled is true but auth.tokens has no admin token');
    const names = new Set<string>();
    for (const t of tokens) {
      if (names.has(t.name)) throw new Error(`auth.tokens: duplicate name ${t.name}`);
      names.add(t.name);
    }
    log.info('API authentication enabled', { tokens: tokens.length, nodeTokens: nodeTokens.length });
  }
}
