import { LoggerService } from '@nestjs/common';
import { Logger } from '@flowmesh/common';

/** Nest's own messages go through our JSON logger; its start-up chatter (routes, modules) only at debug. */
export class NestLoggerAdapter implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.debug(String(message), { context });
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn(String(message), { context });
  }
  error(message: unknown, ...rest: unknown[]): void {
    const [stackOrContext, context] = rest;
    this.logger.error(String(message), { context: context ?? stackOrContext, stack: context ? stackOrContext : undefined });
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug(String(message), { context });
  }
  verbose(message: unknown, context?: string): void {
    this.logger.debug(String(message), { context });
  }
}
