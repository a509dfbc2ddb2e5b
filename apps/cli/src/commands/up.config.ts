import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, Min, MinLength, ValidateNested } from 'class-validator';

export class UpNodePorts {
  /** Node i (1-based) listens on base + i - 1. */
  @IsInt() @Min(1) @Max(65535)
  httpBase = 9101;
  @IsInt() @Min(1) @Max(65535)
  netflowBase = 2055;
  @IsInt() @Min(1) @Max(65535)
  ipfixBase = 4739;
  @IsInt() @Min(1) @Max(65535)
  sflowBase = 6343;
  @IsString()
  listenAddress = '0.0.0.0';
}

/** `flowmesh up`: a master and N collector nodes on this machine, embedded storage. */
export class UpConfig {
  @IsInt() @Min(1) @Max(32)
  nodes = 2;
  @IsString()
  dataDir = './data';
  /** Empty: REDIS_URL, else 127.0.0.1:6379 if it answers, else a redis-server started (and stopped) by `up`. */
  @IsOptional() @IsString()
  redisUrl?: string;
  @IsIn(['auto', 'external', 'managed'])
  redisMode: 'auto' | 'external' | 'managed' = 'auto';
  @IsInt() @Min(1) @Max(65535)
  masterPort = 8080;
  @IsString()
  masterHost = '0.0.0.0';
  @IsInt() @Min(1) @Max(65535)
  managedRedisPort = 6379;
  @ValidateNested() @Type(() => UpNodePorts)
  node: UpNodePorts = new UpNodePorts();
  /** A node that exits on its own is restarted, at most this many times per minute. */
  @IsInt() @Min(0) @Max(100)
  maxRestartsPerMinute = 5;
  /**
   * Side-by-side installs: nodes run `<installRoot>/current/bin/flowmesh.js` (restarted from there after an
   * upgrade; exit code 75 = restart requested; an upgrade that fails health is rolled back). Unset: this build.
   */
  @IsOptional() @IsString() @MinLength(1)
  installRoot?: string;
  /** Start the master too (false: nodes only, e.g. under a master running elsewhere). */
  @Transform(({ obj, key }) => {
    const v = (obj as Record<string, unknown>)[key];
    return v === 'true' ? true : v === 'false' ? false : v;
  })
  @IsBoolean()
  master = true;
}
