import { LoggerService } from '@nestjs/common';
import { Logger } from '@flowmesh/common';

/** Nest's bootstrap chatter at debug level; everything goes out as the project's JSON lines on stderr. */
const CHATTY = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);

export class NestLogger implements LoggerService {
  private readonly out = new Logger('master.nest');

  private write(level: 'debug' | 'info' | 'warn' | 'error', message: unknown, context?: unknown, extra?: Record<string, unknown>): void {
    const ctx = typeof context === 'string' ? context : undefined;
    this.out[level === 'info' && ctx && CHATTY.has(ctx) ? 'debug' : level](String(message), { context: ctx, ...extra });
  }

  log(message: unknown, context?: unknown): void {
    this.write('info', message, context);
  }
  error(message: unknown, stack?: unknown, context?: unknown): void {
    this.write('error', message, context, typeof stack === 'string' ? { stack } : undefined);
  }
  warn(message: unknown, context?: unknown): void {
    this.write('warn', message, context);
  }
  debug(message: unknown, context?: unknown): void {
    this.write('debug', message, context);
  }
  verbose(message: unknown, context?: unknown): void {
    this.write('debug', message, context);
  }
}
