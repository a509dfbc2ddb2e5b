import { DynamicModule, Global, Module } from '@nestjs/common';
import { MasterConfig } from './master.config';

/** Provides the validated MasterConfig (validated before Nest starts) to every module. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: MasterConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: MasterConfig, useValue: config }], exports: [MasterConfig] };
  }
}
