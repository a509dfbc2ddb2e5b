import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { Logger, softwareVersion, Stoppable } from '@flowmesh/common';
import { AppModule } from './app.module';
import { MasterConfig } from './config/master.config';
import { NestLogger } from './observability/nest-logger';
import { createValidationPipe } from './validation';

/** Starts the master with a validated config; resolves once it listens. */
export async function startMaster(config: MasterConfig): Promise<Stoppable> {
  const log = new Logger('master');
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    logger: new NestLogger(),
    abortOnError: false,
  });
  app.useGlobalPipes(createValidationPipe());
  app.disable('x-powered-by');
  const openApi = new DocumentBuilder().setTitle('Flowmesh master').setVersion(softwareVersion()).addBearerAuth().build();
  SwaggerModule.setup('api/docs', app, () => SwaggerModule.createDocument(app, openApi));
  await app.listen(config.http.port, config.http.host);
  const address = app.getHttpServer().address() as AddressInfo;
  log.info('master listening', { host: address.address, port: address.port, version: softwareVersion(), pid: process.pid });
  return {
    stop: async () => {
      await app.close();
    },
  };
}
