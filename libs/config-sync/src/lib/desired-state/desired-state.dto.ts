import { Type } from 'class-transformer';
import {
  ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsInt, IsNumber, IsObject, IsString, Matches, Max, MaxLength, Min,
  ValidateBy, ValidateIf, ValidateNested, ValidationOptions,
} from 'class-validator';
import { cronError, filterError, isIpOrCidr } from './spec-rules';

/** Names of keyed-list items (profiles, channels, alert rules, reports). */
export const ITEM_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 _.:@-]{0,63}$/;
const NAME_MESSAGE = 'must be 1-64 chars of letters, digits, space, _ . : @ - starting with a letter or digit';

/** Present-or-absent: `undefined` skips the field's checks, `null` does not (null is never a valid value). */
function Opt(): PropertyDecorator {
  return ValidateIf((_o: object, v: unknown) => v !== undefined);
}

/** Required unless the item is a `deleted: true` tombstone. */
function ReqUnlessDeleted(): PropertyDecorator {
  return ValidateIf((o: { deleted?: boolean }, v: unknown) => o.deleted !== true || v !== undefined);
}

function IsIpOrCidr(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy({ name: 'isIpOrCidr', validator: { validate: (v) => isIpOrCidr(v), defaultMessage: () => 'must be an IP address or CIDR' } }, options);
}

function IsFilter(): PropertyDecorator {
  return ValidateBy({ name: 'isFilter', validator: { validate: (v) => filterError(v) === null, defaultMessage: (a) => filterError(a?.value) ?? 'invalid filter' } });
}

function IsCron(): PropertyDecorator {
  return ValidateBy({ name: 'isCron', validator: { validate: (v) => cronError(v) === null, defaultMessage: (a) => `invalid cron expression: ${cronError(a?.value)}` } });
}

function IsIfNameMap(): PropertyDecorator {
  return ValidateBy({
    name: 'isIfNameMap',
    validator: {
      validate: (v) =>
        typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length <= 65536 &&
        Object.entries(v).every(([k, n]) => /^(0|[1-9]\d{0,9})$/.test(k) && Number(k) <= 0xffffffff && typeof n === 'string' && n.length > 0 && n.length <= 128),
      defaultMessage: () => 'must map ifIndex (decimal 0-4294967295) to an interface name of 1-128 chars',
    },
  });
}

/** `deleted: true` in a narrower scope removes the wider scope's item with the same key. */
abstract class KeyedItem {
  @Opt() @IsIn([true], { message: 'must be true when present (use it to remove an inherited item)' })
  deleted?: boolean;
}

/** One exporter (router/switch/firewall) or a block of them; keyed by `address`. */
export class ExporterSpec extends KeyedItem {
  @IsIpOrCidr()
  address: string;
  @Opt() @IsString() @MaxLength(128)
  name?: string;
  /** ifIndex (decimal text) -> interface name. */
  @Opt() @IsIfNameMap()
  interfaces?: Record<string, string>;
  /** Forces this sampling rate, whatever the exporter reports. */
  @Opt() @IsInt() @Min(1) @Max(0xffffffff)
  samplingRate?: number;
  /** Used when the exporter does not report a sampling rate. */
  @Opt() @IsInt() @Min(1) @Max(0xffffffff)
  defaultSamplingRate?: number;
  /** false drops this exporter's datagrams. Absent means allowed. */
  @Opt() @IsBoolean()
  allow?: boolean;
}

export class ListenerSpec {
  @Opt() @IsBoolean()
  enabled?: boolean;
  @Opt() @IsIpOrCidr({ message: 'must be an IP address' }) @Matches(/^[^/]*$/, { message: 'must be an IP address' })
  address?: string;
  @Opt() @IsInt() @Min(1) @Max(65535)
  port?: number;
}

export class ListenersSpec {
  @Opt() @ValidateNested() @Type(() => ListenerSpec)
  netflow?: ListenerSpec;
  @Opt() @ValidateNested() @Type(() => ListenerSpec)
  ipfix?: ListenerSpec;
  @Opt() @ValidateNested() @Type(() => ListenerSpec)
  sflow?: ListenerSpec;
  @Opt() @IsInt() @Min(65536) @Max(1 << 30)
  receiveBufferBytes?: number;
}

export class RetentionSpec {
  @Opt() @IsInt() @Min(1) @Max(36500)
  rawDays?: number;
  @Opt() @IsInt() @Min(1) @Max(36500)
  minuteDays?: number;
  @Opt() @IsInt() @Min(1) @Max(36500)
  hourDays?: number;
}

export class StorageSpec {
  @Opt() @IsIn(['chdb', 'clickhouse'])
  engine?: 'chdb' | 'clickhouse';
  @Opt() @IsString() @Matches(/^https?:\/\/\S+$/, { message: 'must be an http(s) URL' })
  url?: string;
  @Opt() @IsString() @Matches(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, { message: 'must be a ClickHouse identifier' })
  database?: string;
  @Opt() @IsInt() @Min(1) @Max(10_000_000)
  batchRows?: number;
  @Opt() @IsInt() @Min(1) @Max(600_000)
  batchMs?: number;
  @Opt() @ValidateNested() @Type(() => RetentionSpec)
  retention?: RetentionSpec;
}

export class ChannelSpec {
  @IsString() @Matches(ITEM_NAME_PATTERN, { message: NAME_MESSAGE })
  name: string;
  /** nfdump filter syntax, checked by the validator installed with setFilterValidator(). */
  @IsFilter()
  filter: string;
}

/** Named set of channels; a flow belongs to every channel whose filter matches it. Keyed by `name`. */
export class ProfileSpec extends KeyedItem {
  @IsString() @Matches(ITEM_NAME_PATTERN, { message: NAME_MESSAGE })
  name: string;
  @Opt() @IsString() @MaxLength(1024)
  description?: string;
  @ReqUnlessDeleted() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(256) @ValidateNested({ each: true }) @Type(() => ChannelSpec)
  channels: ChannelSpec[];
}

export class AlertRuleSpec extends KeyedItem {
  @IsString() @Matches(ITEM_NAME_PATTERN, { message: NAME_MESSAGE })
  name: string;
  /** Profile whose flows the rule watches (all flows when absent). */
  @Opt() @IsString() @Matches(ITEM_NAME_PATTERN, { message: NAME_MESSAGE })
  profile?: string;
  @Opt() @IsFilter()
  filter?: string;
  @ReqUnlessDeleted() @IsIn(['bytes', 'packets', 'flows'])
  metric: 'bytes' | 'packets' | 'flows';
  @ReqUnlessDeleted() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0)
  threshold: number;
  @ReqUnlessDeleted() @IsInt() @Min(1) @Max(86400)
  windowSeconds: number;
  @ReqUnlessDeleted() @IsIn(['info', 'warning', 'critical'])
  severity: 'info' | 'warning' | 'critical';
}

export class ReportSpec extends KeyedItem {
  @IsString() @Matches(ITEM_NAME_PATTERN, { message: NAME_MESSAGE })
  name: string;
  /** 5-field cron (minute hour day-of-month month day-of-week) or @daily etc.; checked for syntax only. */
  @ReqUnlessDeleted() @IsCron()
  schedule: string;
  /** The query to run (its shape belongs to the query API; opaque here). */
  @ReqUnlessDeleted() @IsObject()
  query: Record<string, unknown>;
  @ReqUnlessDeleted() @IsIn(['csv', 'ndjson', 'pdf'])
  format: 'csv' | 'ndjson' | 'pdf';
  @Opt() @IsArray() @ArrayMaxSize(100) @IsString({ each: true }) @MaxLength(254, { each: true })
  recipients?: string[];
}

/**
 * The desired state published for one scope ('global', 'group:<name>', 'node:<id>'). Every section is optional
 * and every field inside objects is optional: what a scope leaves out is inherited from a wider scope, and what
 * no scope sets stays at the node's local configuration.
 */
export class ConfigSpec {
  @Opt() @IsArray() @ArrayMaxSize(100_000) @ValidateNested({ each: true }) @Type(() => ExporterSpec)
  exporters?: ExporterSpec[];
  @Opt() @ValidateNested() @Type(() => ListenersSpec)
  listeners?: ListenersSpec;
  @Opt() @ValidateNested() @Type(() => StorageSpec)
  storage?: StorageSpec;
  @Opt() @IsArray() @ArrayMaxSize(1000) @ValidateNested({ each: true }) @Type(() => ProfileSpec)
  profiles?: ProfileSpec[];
  @Opt() @IsArray() @ArrayMaxSize(10_000) @ValidateNested({ each: true }) @Type(() => AlertRuleSpec)
  alertRules?: AlertRuleSpec[];
  @Opt() @IsArray() @ArrayMaxSize(1000) @ValidateNested({ each: true }) @Type(() => ReportSpec)
  reports?: ReportSpec[];
}

/** The merged result for one node: same shape as ConfigSpec, never containing `deleted` items. */
export type EffectiveConfig = ConfigSpec;

/** Keyed lists and the field that keys them. */
export const KEYED_SECTIONS = {
  exporters: 'address',
  profiles: 'name',
  alertRules: 'name',
  reports: 'name',
} as const;
export type KeyedSection = keyof typeof KEYED_SECTIONS;
export const CONFIG_SECTIONS = ['exporters', 'listeners', 'storage', 'profiles', 'alertRules', 'reports'] as const;
export type ConfigSection = (typeof CONFIG_SECTIONS)[number];
