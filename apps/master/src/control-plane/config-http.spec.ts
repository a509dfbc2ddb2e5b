import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BadRequestException, ConflictException, NotFoundException } from '@nestjs/common';
import { ConfigError } from '@flowmesh/common';
import { ConfigConflictError, ConfigNotFoundError, ConfigSpec, ExporterSpec } from '@flowmesh/config-sync';
import { expectedVersionOf, parseBool, toHttpError } from './config-http';
import { schemaFromClass } from './openapi-schema';

describe('config HTTP helpers', () => {
  test('library errors map to 400/409/404', () => {
    const bad = toHttpError(new ConfigError(['exporters[0].address: must be an IP address or CIDR (got "x")']));
    assert.ok(bad instanceof BadRequestException);
    assert.deepEqual((bad.getResponse() as { message: string[] }).message, ['exporters[0].address: must be an IP address or CIDR (got "x")']);
    const conflict = toHttpError(new ConfigConflictError('global', 2, 5));
    assert.ok(conflict instanceof ConflictException);
    assert.equal((conflict.getResponse() as { actualVersion: number }).actualVersion, 5);
    assert.ok(toHttpError(new ConfigNotFoundError('x')) instanceof NotFoundException);
  });

  test('If-Match and expectedVersion', () => {
    assert.equal(expectedVersionOf(undefined, undefined), undefined);
    assert.equal(expectedVersionOf('"3"', undefined), 3);
    assert.equal(expectedVersionOf('W/"3"', '3'), 3);
    assert.equal(expectedVersionOf('*', '0'), 0);
    assert.throws(() => expectedVersionOf('"3"', '4'), BadRequestException);
    assert.throws(() => expectedVersionOf('abc', undefined), BadRequestException);
    assert.throws(() => expectedVersionOf(undefined, '-1'), BadRequestException);
    assert.equal(parseBool('true', 'dryRun'), true);
    assert.equal(parseBool(undefined, 'dryRun'), false);
    assert.throws(() => parseBool('yes', 'dryRun'), BadRequestException);
  });

  test('OpenAPI schemas are generated from the class-validator DTOs', () => {
    const exporter = schemaFromClass(ExporterSpec) as { properties: Record<string, Record<string, unknown>>; required: string[] };
    assert.deepEqual(exporter.required, ['address']);
    assert.equal(exporter.properties.samplingRate.type, 'integer');
    assert.equal(exporter.properties.samplingRate.minimum, 1);
    const spec = schemaFromClass(ConfigSpec) as { properties: Record<string, Record<string, unknown>>; required?: string[] };
    assert.equal(spec.required, undefined);
    assert.equal(spec.properties.exporters.type, 'array');
    assert.deepEqual((spec.properties.exporters.items as { required: string[] }).required, ['address']);
    const storage = spec.properties.storage as { properties: Record<string, Record<string, unknown>> };
    assert.deepEqual(storage.properties.engine.enum, ['chdb', 'clickhouse']);
    assert.equal((storage.properties.retention as { properties: Record<string, { maximum: number }> }).properties.rawDays.maximum, 36500);
    const report = (spec.properties.reports.items as { properties: Record<string, Record<string, unknown>> }).properties;
    assert.deepEqual(report.format.enum, ['csv', 'ndjson', 'pdf']);
  });
});
