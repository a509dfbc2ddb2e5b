import 'reflect-metadata';
import { getMetadataStorage } from 'class-validator';
import type { MetadataStorage as TransformerStorage } from 'class-transformer/types/MetadataStorage';

// class-transformer keeps @Type() metadata in a storage it does not export from its entry point.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { defaultMetadataStorage } = require('class-transformer/cjs/storage') as { defaultMetadataStorage: TransformerStorage };

type Schema = Record<string, unknown>;
type ClassRef = new (...args: never[]) => object;

/**
 * An OpenAPI schema read from a class's class-validator decorators (and class-transformer @Type for nesting), so
 * the API description is generated from the very DTOs that validate requests in the master and on the nodes.
 * It covers the decorators those DTOs use; anything else shows as an untyped property.
 */
export function schemaFromClass(cls: ClassRef, seen: Set<ClassRef> = new Set()): Schema {
  if (seen.has(cls)) return { type: 'object' };
  seen = new Set(seen).add(cls);
  const metas = getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false);
  const props: Record<string, Schema> = {};
  const required = new Set<string>();
  const optional = new Set<string>();
  for (const m of metas) {
    const name = m.propertyName;
    const item: Schema = (props[name] ??= {});
    const each = m.each === true;
    const target: Schema = each ? ((item.items as Schema) ??= {}) : item;
    const c = (m.constraints ?? []) as unknown[];
    switch (m.type === 'nestedValidation' ? 'nested' : m.type === 'conditionalValidation' ? 'optional' : m.name) {
      case 'optional':
        optional.add(name);
        break;
      case 'nested': {
        const t = defaultMetadataStorage.findTypeMetadata(cls, name);
        const nested = t?.typeFunction() as ClassRef | undefined;
        const sub = nested ? schemaFromClass(nested, seen) : { type: 'object' };
        if (each || item.type === 'array') item.items = { ...((item.items as Schema) ?? {}), ...sub };
        else Object.assign(item, sub);
        break;
      }
      case 'isString':
        target.type = 'string';
        break;
      case 'isInt':
        target.type = 'integer';
        break;
      case 'isNumber':
        target.type = 'number';
        break;
      case 'isBoolean':
        target.type = 'boolean';
        break;
      case 'isObject':
        target.type = 'object';
        break;
      case 'isArray':
        item.type = 'array';
        item.items ??= {};
        break;
      case 'isIn':
        target.enum = c[0] as unknown[];
        break;
      case 'min':
        target.minimum = c[0];
        break;
      case 'max':
        target.maximum = c[0];
        break;
      case 'maxLength':
        target.maxLength = c[0];
        break;
      case 'matches':
        target.type ??= 'string';
        target.pattern = (c[0] as RegExp).source;
        break;
      case 'arrayMinSize':
        item.minItems = c[0];
        break;
      case 'arrayMaxSize':
        item.maxItems = c[0];
        break;
      case 'isIpOrCidr':
        target.type = 'string';
        target.description = 'IP address or CIDR';
        break;
      case 'isFilter':
        target.type = 'string';
        target.description = 'nfdump filter expression';
        break;
      case 'isCron':
        target.type = 'string';
        target.description = '5-field cron expression or @daily, @hourly, ...';
        break;
      case 'isIfNameMap':
        target.type = 'object';
        target.additionalProperties = { type: 'string' };
        target.description = 'ifIndex (decimal) -> interface name';
        break;
      case 'isISO8601':
        target.type = 'string';
        target.format = 'date-time';
        break;
      default:
        if (m.name === 'isDefined' || m.type === 'isDefined') required.add(name);
    }
    if (!optional.has(name) && m.type !== 'conditionalValidation') required.add(name);
  }
  for (const n of optional) required.delete(n);
  const schema: Schema = { type: 'object', properties: props, additionalProperties: false };
  if (required.size) schema.required = [...required].sort();
  return schema;
}
