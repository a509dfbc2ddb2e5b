import { IsInt, IsObject, IsOptional, IsString, Max, Min, MinLength, Validate, ValidatorConstraint, ValidatorConstraintInterface } from 'class-validator';
import { parseCidr } from './exporter-policy';

@ValidatorConstraint({ name: 'ipOrCidr' })
class IpOrCidr implements ValidatorConstraintInterface {
  validate(v: unknown): boolean {
    return typeof v === 'string' && parseCidr(v) !== undefined;
  }
  defaultMessage(): string {
    return 'address must be an IP address or a CIDR (e.g. 192.0.2.0/24, 2001:db8::/32)';
  }
}

@ValidatorConstraint({ name: 'interfaceNames' })
class InterfaceNames implements ValidatorConstraintInterface {
  validate(v: unknown): boolean {
    if (v === undefined) return true;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
    return Object.entries(v as Record<string, unknown>).every(([k, n]) => /^\d{1,10}$/.test(k) && Number(k) <= 0xffffffff && typeof n === 'string' && n.length > 0);
  }
  defaultMessage(): string {
    return 'interfaces must map ifIndex numbers to non-empty names';
  }
}

/** One exporter (or a range of them, by CIDR) allowed to send, with its settings. The first match wins. */
export class ExporterConfig {
  @Validate(IpOrCidr)
  address!: string;
  /** Shown in metrics (exporter label) and logs instead of the address. */
  @IsOptional() @IsString() @MinLength(1)
  name?: string;
  /** ifIndex -> interface name. */
  @IsOptional() @IsObject() @Validate(InterfaceNames)
  interfaces?: Record<string, string>;
  /** Replaces the sampling rate of every record from this exporter. */
  @IsOptional() @IsInt() @Min(1) @Max(0xffffffff)
  samplingRate?: number;
  /** Used when a record carries no rate of its own (the decoder then reports 1; 0 and 1 are both taken as "unknown"). */
  @IsOptional() @IsInt() @Min(1) @Max(0xffffffff)
  defaultSamplingRate?: number;
}
