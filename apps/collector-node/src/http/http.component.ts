import { AddressInfo } from 'node:net';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Component, Health, Logger } from '@flowmesh/common';
import { AppDeps, AppModule } from '../app.module';
import { NestLoggerAdapter } from '../observability/nest-logger';

/** The Nest application (local query API, health, metrics) as one component of the start order. */
export class HttpComponent implements Component {
  readonly name = 'http';
  private app?: INestApplication;
  private boundPort = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly deps: AppDeps,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.app = await NestFactory.create(AppModule.forRoot(this.deps), { logger: new NestLoggerAdapter(this.logger), abortOnError: false });
    await this.app.listen(this.port, this.host);
    this.boundPort = (this.app.getHttpServer().address() as AddressInfo).port;
    this.logger.info('http listening', { host: this.host, port: this.boundPort });
  }

  /** The bound port (differs from the configured one when that is 0). */
  get listeningPort(): number {
    return this.boundPort;
  }

  health(): Health {
    return this.app ? { status: 'ok' } : { status: 'error', reason: 'not listening' };
  }

  async stop(): Promise<void> {
    await this.app?.close();
    this.app = undefined;
  }
}
