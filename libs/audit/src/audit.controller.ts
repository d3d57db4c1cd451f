import { Controller, Get, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Readable } from 'node:stream';
import { READ_STORE, ReadStore, orgNotFound } from '@purser/core';
import { DirectoryLookup } from '@purser/directory';
import { Endpoint, IdPipe, MinPositionQuery } from '@purser/platform';
import { AuditSchemas } from './api.schemas';
import { AuditQueryDto } from './dto';
import { AUDIT_HEADS, AUDIT_PROJECTION, AuditHeadDoc } from './projection';
import { AuditQueries } from './queries';
import { ChainReport, ChainVerifier } from './chain';
import { CSV_HEADER, csvLine } from './csv';

const OrgId = () => Param('orgId', IdPipe);
const text = { type: 'string' };

/** The audit trail of an org: every event, who caused it and what it concerns, hash-chained. */
@ApiTags('audit')
@Controller('v1/orgs/:orgId/audit')
export class AuditController {
  private readonly queries: AuditQueries;

  constructor(
    @Inject(READ_STORE) private readonly store: ReadStore,
    private readonly directory: DirectoryLookup,
  ) {
    this.queries = new AuditQueries(store);
  }

  @Get()
  @Endpoint({
    summary: 'The audit trail: filter by actor, entity, event type and time; page by seq or export it all',
    description:
      'format=json (default) answers a page {items, nextCursor} (limit up to 500; pass nextCursor as cursor for the ' +
      'next). format=csv (text/csv, a header line) and format=jsonl (application/x-ndjson, one entry per line with ' +
      'seq, hash and prevHash) stream every matching entry after the cursor. An unfiltered jsonl export is the ' +
      'chain `purser audit verify --file` checks. Secret digests and hashes in event data read "[redacted]".',
    requires: 'audit.read',
    reads: [AUDIT_PROJECTION],
    ok: {
      description: 'A page (json) or the whole export (csv, jsonl)',
      content: {
        'application/json': { schema: AuditSchemas.page },
        'text/csv': { schema: text },
        'application/x-ndjson': { schema: text },
      },
    },
    errors: [404],
  })
  async list(@OrgId() orgId: string, @Query() q: AuditQueryDto, @Res() reply: any) {
    await this.known(orgId);
    const after = q.cursor ? Number(q.cursor) : 0;
    const format = q.format ?? 'json';
    if (format === 'json') {
      const page = await this.queries.page(orgId, q, after, q.limit ?? 100);
      return reply.header('content-type', 'application/json; charset=utf-8').send(page);
    }
    const entries = this.queries.scan(orgId, q, after);
    const first = await entries.next(); // a bad filter is a 400 before the first byte
    async function* lines() {
      if (format === 'csv') yield CSV_HEADER;
      for (let r = first; !r.done; r = await entries.next())
        yield format === 'csv' ? csvLine(r.value) : JSON.stringify(r.value) + '\n';
    }
    const [type, ext] = format === 'csv' ? ['text/csv', 'csv'] : ['application/x-ndjson', 'jsonl'];
    return reply
      .header('content-type', `${type}; charset=utf-8`)
      .header('content-disposition', `attachment; filename="audit-${orgId}.${ext}"`)
      .send(Readable.from(lines()));
  }

  @Post('verify')
  @HttpCode(200)
  @Endpoint({
    summary:
      'Re-compute the org chain from the stored entries: the first entry altered, missing or reordered',
    requires: 'audit.read',
    reads: [AUDIT_PROJECTION],
    ok: { description: 'ok, or where the chain breaks', schema: AuditSchemas.verification },
    errors: [404],
  })
  async verify(@OrgId() orgId: string, @Query() _q: MinPositionQuery): Promise<ChainReport> {
    await this.known(orgId);
    const verifier = new ChainVerifier();
    for await (const e of this.queries.scan(orgId, {})) if (!verifier.push(e)) break;
    const report = verifier.report();
    if (!report.ok) return report;
    const head = await this.store.get<AuditHeadDoc>(AUDIT_HEADS, orgId);
    const seen = verifier.head;
    if (head && head.seq > seen.seq) verifier.fail(seen.seq + 1, 'missing');
    else if (head && head.hash !== seen.hash) verifier.fail(head.seq, 'altered');
    return verifier.report();
  }

  /** An org with a trail (even once deleted) or a live one; else 404. */
  private async known(orgId: string): Promise<void> {
    if (await this.store.get(AUDIT_HEADS, orgId)) return;
    if (!(await this.directory.org(orgId))) throw orgNotFound(orgId);
  }
}
