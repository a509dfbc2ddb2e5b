import {
  BadRequestException, Body, Controller, Delete, Get, Headers, HttpCode, NotFoundException, Param, Post, Put, Query, Res,
} from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { HttpResponse as Response } from '../auth/http-types';
import {
  CONFIG_SECTIONS, ConfigDiff, ConfigSection, ConfigSpec, ConfigVersion, ConfigVersionSummary, DesiredState, KEYED_SECTIONS,
  KeyedSection, ListenersSpec, PutOptions, PutResult, StorageSpec,
} from '@flowmesh/config-sync';
import { ExporterSpec, ProfileSpec, AlertRuleSpec, ReportSpec } from '@flowmesh/config-sync';
import { CurrentPrincipal, NodeRoute } from '../auth/auth.decorators';
import { authorOf, Principal } from '../auth/auth.rules';
import { RegistryService } from '../registry/registry.service';
import { etag, expectedVersionOf, mapErrors, parseBool, parseVersionNumber } from './config-http';
import { ControlPlaneService } from './control-plane.service';
import { RollbackRequestDto } from './config-request.dto';
import { schemaFromClass } from './openapi-schema';

const SPEC_SCHEMA = schemaFromClass(ConfigSpec);
const ITEM_SCHEMA = {
  oneOf: [ExporterSpec, ProfileSpec, AlertRuleSpec, ReportSpec].map((c) => schemaFromClass(c)),
  description: 'one item of the section: exporters (keyed by address), profiles, alertRules, reports (keyed by name)',
};
const OBJECT_SECTION_SCHEMA = { oneOf: [schemaFromClass(ListenersSpec), schemaFromClass(StorageSpec)], description: 'listeners or storage' };
const OBJECT_SECTIONS = ['listeners', 'storage'] as const;
const SCOPE_PARAM = { name: 'scope', description: '`global`, `group:<name>` or `node:<id>`', example: 'group:dc1' };
const WRITE_QUERIES = [
  { name: 'dryRun', required: false, description: 'validate and return the diff without storing', enum: ['true', 'false'] },
  { name: 'expectedVersion', required: false, description: '409 unless the scope is at this version (0: does not exist yet); same as If-Match' },
  { name: 'comment', required: false, description: 'stored with the version' },
];

interface WriteQuery {
  dryRun?: string;
  expectedVersion?: string;
  comment?: string;
}

function WriteDocs(): MethodDecorator {
  return (target, key, descriptor) => {
    for (const q of WRITE_QUERIES) ApiQuery(q)(target, key, descriptor);
    ApiHeader({ name: 'If-Match', required: false, description: 'ETag of the version the change is based on, e.g. "3"' })(target, key, descriptor);
    ApiResponse({ status: 400, description: 'invalid: every message starts with the path, e.g. `exporters[0].address: must be an IP address or CIDR (got "x")`' })(target, key, descriptor);
    ApiResponse({ status: 409, description: 'the scope is no longer at expectedVersion / If-Match' })(target, key, descriptor);
  };
}

function sectionOf(section: string): ConfigSection {
  if (!(CONFIG_SECTIONS as readonly string[]).includes(section)) {
    throw new NotFoundException(`section: must be one of ${CONFIG_SECTIONS.join(', ')} (got ${JSON.stringify(section)})`);
  }
  return section as ConfigSection;
}

function keyedSectionOf(section: string): KeyedSection {
  const s = sectionOf(section);
  if (!(s in KEYED_SECTIONS)) throw new BadRequestException([`section: ${s} is not keyed; use PUT /api/v1/config/:scope/${s}`]);
  return s as KeyedSection;
}

/**
 * Desired-state documents per scope (global, group:<name>, node:<id>): whole documents, sections and keyed items,
 * with dry runs, history, diffs, rollbacks and optimistic concurrency. Every write is validated, signed and
 * appended as a new version by ConfigStore.
 */
@ApiTags('config')
@ApiBearerAuth()
@Controller('api/v1/config')
export class ConfigController {
  constructor(
    private readonly cp: ControlPlaneService,
    private readonly registry: RegistryService,
  ) {}

  // Static routes first: they would otherwise match `:scope`.
  @Get('public-key')
  @NodeRoute()
  @ApiOperation({ summary: "The master's Ed25519 public key (SPKI PEM) that signs config versions and node packages" })
  publicKey(): { algorithm: 'Ed25519'; keyId: string; publicKey: string } {
    return { algorithm: 'Ed25519', keyId: this.cp.keys.keyId, publicKey: this.cp.publicKeyPem };
  }

  @Get()
  @ApiOperation({ summary: 'Cluster revision and every scope with its latest version' })
  async scopes(): Promise<{ revision: number; scopes: ConfigVersionSummary[] }> {
    return mapErrors(async () => {
      const [revision, names] = await Promise.all([this.cp.store.revision(), this.cp.store.scopes()]);
      const heads = await Promise.all(names.map((s) => this.cp.store.get(s)));
      return { revision, scopes: heads.filter((v): v is ConfigVersion => v !== null).map(({ spec: _s, signature: _g, ...rest }) => rest) };
    });
  }

  @Get('effective/:nodeId')
  @ApiOperation({ summary: "What a node should run: the merge of global, its group's and its own document" })
  @ApiQuery({ name: 'group', required: false, description: "the node's group (default: as registered)" })
  async effective(@Param('nodeId') nodeId: string, @Query('group') group?: string): Promise<DesiredState & { node: string; group: string | null }> {
    return mapErrors(async () => {
      let g = group || undefined;
      if (g === undefined) {
        const views = await this.registry.list().catch(() => []);
        g = views.find((v) => v.id === nodeId)?.group ?? undefined;
      }
      return { node: nodeId, group: g ?? null, ...(await this.cp.store.desiredFor(nodeId, g)) };
    });
  }

  @Get(':scope/history')
  @ApiParam(SCOPE_PARAM)
  @ApiOperation({ summary: 'Every version of the scope, oldest first (without the documents)' })
  async history(@Param('scope') scope: string): Promise<{ scope: string; versions: ConfigVersionSummary[] }> {
    return mapErrors(async () => ({ scope, versions: await this.cp.store.history(scope) }));
  }

  @Get(':scope/diff')
  @ApiParam(SCOPE_PARAM)
  @ApiQuery({ name: 'from', required: true, description: 'version (0 = empty document)' })
  @ApiQuery({ name: 'to', required: false, description: 'version (default: latest)' })
  @ApiOperation({ summary: 'Structured difference between two versions: added, removed, changed (paths name keyed items by key)' })
  async diff(@Param('scope') scope: string, @Query('from') from?: string, @Query('to') to?: string): Promise<{ scope: string; from: number; to: number } & ConfigDiff> {
    return mapErrors(async () => {
      const a = parseVersionNumber(from, 'from');
      if (a === undefined) throw new BadRequestException(['from: required (a version number, 0 = empty document)']);
      let b = parseVersionNumber(to, 'to');
      if (b === undefined) b = (await this.cp.store.get(scope))?.version ?? 0;
      return { scope, from: a, to: b, ...(await this.cp.store.diff(scope, a, b)) };
    });
  }

  @Post(':scope/rollback')
  @HttpCode(200)
  @ApiParam(SCOPE_PARAM)
  @ApiQuery(WRITE_QUERIES[0])
  @ApiOperation({ summary: "Stores an old version's document again as a new version (history is never rewritten)" })
  async rollback(
    @Param('scope') scope: string,
    @Body() body: RollbackRequestDto,
    @CurrentPrincipal() who: Principal,
    @Res({ passthrough: true }) res: Response,
    @Query('dryRun') dryRun?: string,
    @Headers('if-match') ifMatch?: string,
  ): Promise<PutResult> {
    return mapErrors(async () => {
      const expectedVersion = expectedVersionOf(ifMatch, body.expectedVersion === undefined ? undefined : String(body.expectedVersion));
      const r = await this.cp.store.rollback(scope, body.version, { author: authorOf(who), comment: body.comment, expectedVersion, dryRun: parseBool(dryRun, 'dryRun') });
      if (!r.dryRun) res.setHeader('ETag', etag(r.version));
      return r;
    });
  }

  @Get(':scope')
  @ApiParam(SCOPE_PARAM)
  @ApiQuery({ name: 'version', required: false, description: 'default: latest' })
  @ApiOperation({ summary: 'The scope document (latest or given version) with author, time, hash and signature; ETag = version' })
  async getDocument(@Param('scope') scope: string, @Res({ passthrough: true }) res: Response, @Query('version') version?: string): Promise<ConfigVersion> {
    return mapErrors(async () => {
      const v = await this.cp.store.get(scope, parseVersionNumber(version, 'version'));
      if (!v) throw new NotFoundException(`${scope} has ${version ? `no version ${version}` : 'no version yet'}`);
      res.setHeader('ETag', etag(v.version));
      return v;
    });
  }

  @Put(':scope')
  @ApiParam(SCOPE_PARAM)
  @WriteDocs()
  @ApiBody({ schema: SPEC_SCHEMA, description: 'the whole scope document' })
  @ApiOperation({ summary: 'Replaces the scope document (stored as the next version)' })
  async putDocument(
    @Param('scope') scope: string,
    @Body() body: Record<string, unknown>,
    @Query() q: WriteQuery,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentPrincipal() who: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<PutResult> {
    return this.write(res, () => this.cp.store.put(scope, body, this.options(q, ifMatch, who)));
  }

  @Get(':scope/:section')
  @ApiParam(SCOPE_PARAM)
  @ApiParam({ name: 'section', enum: [...CONFIG_SECTIONS] })
  @ApiOperation({ summary: "One section of the scope's latest document (null when the scope does not set it)" })
  async getSection(
    @Param('scope') scope: string,
    @Param('section') section: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ scope: string; version: number; section: ConfigSection; value: unknown }> {
    return mapErrors(async () => {
      const s = sectionOf(section);
      const v = await this.cp.store.get(scope);
      if (!v) throw new NotFoundException(`${scope} has no version yet`);
      res.setHeader('ETag', etag(v.version));
      return { scope, version: v.version, section: s, value: v.spec[s] ?? null };
    });
  }

  @Put(':scope/:section')
  @ApiParam(SCOPE_PARAM)
  @ApiParam({ name: 'section', enum: [...OBJECT_SECTIONS] })
  @WriteDocs()
  @ApiBody({ schema: OBJECT_SECTION_SCHEMA })
  @ApiOperation({ summary: 'Replaces the listeners or storage section of the scope' })
  async putSection(
    @Param('scope') scope: string,
    @Param('section') section: string,
    @Body() body: Record<string, unknown>,
    @Query() q: WriteQuery,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentPrincipal() who: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<PutResult> {
    const s = sectionOf(section);
    if (!(OBJECT_SECTIONS as readonly string[]).includes(s)) {
      throw new BadRequestException([`section: PUT of a whole ${s} list is done with PUT /api/v1/config/:scope; items with PUT /api/v1/config/:scope/${s}/:key`]);
    }
    return this.write(res, () => this.cp.store.update(scope, (cur) => ({ ...cur, [s]: body }), this.options(q, ifMatch, who)));
  }

  @Delete(':scope/:section')
  @ApiParam(SCOPE_PARAM)
  @ApiParam({ name: 'section', enum: [...CONFIG_SECTIONS] })
  @WriteDocs()
  @ApiOperation({ summary: 'Removes a whole section from the scope (what wider scopes set applies again)' })
  async deleteSection(
    @Param('scope') scope: string,
    @Param('section') section: string,
    @Query() q: WriteQuery,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentPrincipal() who: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<PutResult> {
    const s = sectionOf(section);
    return this.write(res, () =>
      this.cp.store.update(
        scope,
        (cur, head) => {
          if (!head || cur[s] === undefined) throw new NotFoundException(`${scope} does not set ${s}`);
          const next: Record<string, unknown> = { ...cur };
          delete next[s];
          return next;
        },
        this.options(q, ifMatch, who),
      ),
    );
  }

  @Get(':scope/:section/:key')
  @ApiParam(SCOPE_PARAM)
  @ApiParam({ name: 'section', enum: Object.keys(KEYED_SECTIONS) })
  @ApiParam({ name: 'key', description: 'exporters: address (URL-encode a CIDR\'s "/"); others: name' })
  @ApiOperation({ summary: "One item of a keyed section in the scope's latest document" })
  async getItem(
    @Param('scope') scope: string,
    @Param('section') section: string,
    @Param('key') key: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ scope: string; version: number; section: KeyedSection; item: unknown }> {
    return mapErrors(async () => {
      const s = keyedSectionOf(section);
      const v = await this.cp.store.get(scope);
      const keyField = KEYED_SECTIONS[s];
      const item = ((v?.spec[s] ?? []) as unknown as Array<Record<string, unknown>>).find((x) => x[keyField] === key);
      if (!v || !item) throw new NotFoundException(`${scope}: ${s} has no item with ${keyField} ${JSON.stringify(key)}`);
      res.setHeader('ETag', etag(v.version));
      return { scope, version: v.version, section: s, item };
    });
  }

  @Put(':scope/:section/:key')
  @ApiParam(SCOPE_PARAM)
  @ApiParam({ name: 'section', enum: Object.keys(KEYED_SECTIONS) })
  @ApiParam({ name: 'key', description: 'exporters: address (URL-encode a CIDR\'s "/"); others: name' })
  @WriteDocs()
  @ApiBody({ schema: ITEM_SCHEMA })
  @ApiOperation({ summary: 'Adds or replaces one item (the key may be left out of the body); `{"deleted": true}` hides an inherited item' })
  async putItem(
    @Param('scope') scope: string,
    @Param('section') section: string,
    @Param('key') key: string,
    @Body() body: Record<string, unknown>,
    @Query() q: WriteQuery,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentPrincipal() who: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<PutResult> {
    const s = keyedSectionOf(section);
    const keyField = KEYED_SECTIONS[s];
    if (body[keyField] !== undefined && body[keyField] !== key) {
      throw new BadRequestException([`${s}.${keyField}: ${JSON.stringify(body[keyField])} differs from the key in the URL ${JSON.stringify(key)}`]);
    }
    return this.write(res, () => this.cp.store.patchSection(scope, s, 'upsert', { [keyField]: key, ...body }, this.options(q, ifMatch, who)));
  }

  @Delete(':scope/:section/:key')
  @ApiParam(SCOPE_PARAM)
  @ApiParam({ name: 'section', enum: Object.keys(KEYED_SECTIONS) })
  @ApiParam({ name: 'key' })
  @WriteDocs()
  @ApiOperation({ summary: "Removes one item from this scope's document (to hide an inherited item, PUT it with deleted: true)" })
  async deleteItem(
    @Param('scope') scope: string,
    @Param('section') section: string,
    @Param('key') key: string,
    @Query() q: WriteQuery,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentPrincipal() who: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<PutResult> {
    const s = keyedSectionOf(section);
    return this.write(res, () => this.cp.store.patchSection(scope, s, 'delete', key, this.options(q, ifMatch, who)));
  }

  private options(q: WriteQuery, ifMatch: string | undefined, who: Principal): PutOptions {
    return {
      author: authorOf(who),
      comment: q.comment,
      dryRun: parseBool(q.dryRun, 'dryRun'),
      expectedVersion: expectedVersionOf(ifMatch, q.expectedVersion),
    };
  }

  private async write(res: Response, fn: () => Promise<PutResult>): Promise<PutResult> {
    const r = await mapErrors(fn);
    if (!r.dryRun) res.setHeader('ETag', etag(r.version));
    return r;
  }
}
