import { Controller, Get, HttpCode, Inject, Post, Query, UseGuards } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { AppError } from '@contracts';
import { AuditLogError, rawPublicKey, type LogVerification, type SignedTreeHead } from '@libs/audit-log';
import { PersonalDataCipher, type Principal, type Tenant } from '@libs/event-store';
import { AccessLog, ApiKeyGuard, CurrentPrincipal, CurrentTenant, Roles } from '@libs/platform';
import { parseInput } from '../http/parse-input';
import { buildComplianceExport, ExportScopeSchema, type ComplianceExport } from './compliance-export';
import { AuditLogService, type ConsistencyProof, type InclusionProof } from './audit-log.service';

const Size = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const InclusionQuery = z.object({ index: Size, treeSize: Size.optional() }).strict();
const ConsistencyQuery = z.object({ first: Size, second: Size.optional() }).strict();

/**
 * The tenant's audit log: signed tree heads, proofs and verification. The tenant is the key's;
 * compliance and admin keys only (heads and proofs carry no personal data, but they are the
 * auditors' tools).
 */
@Controller('v1/audit')
@UseGuards(ApiKeyGuard)
@Roles('compliance', 'admin')
export class AuditLogController {
  constructor(
    @Inject(AuditLogService) private readonly log: AuditLogService,
    @Inject(AccessLog) private readonly accessLog: AccessLog,
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(PersonalDataCipher) private readonly cipher: PersonalDataCipher,
  ) {}

  /** The key that signs every head and export: what an offline verifier needs. */
  @Get('public-key')
  @Roles('compliance', 'admin', 'analyst')
  publicKey(): { keyId: string; publicKey: string } {
    return { keyId: this.log.publicKeyId, publicKey: rawPublicKey(this.log.publicKey).toString('hex') };
  }

  @Get('tree-heads/latest')
  async latest(@CurrentTenant() tenant: Tenant): Promise<SignedTreeHead> {
    const head = await this.log.latestTreeHead(tenant.id);
    if (!head) throw new AppError('not-found', 'no tree head signed yet');
    return head;
  }

  /** Signs a head at the log's current size now (on demand, besides the interval). */
  @Post('tree-heads')
  @HttpCode(201)
  sign(@CurrentTenant() tenant: Tenant): Promise<SignedTreeHead> {
    return this.log.signTreeHead(tenant.id);
  }

  @Get('proofs/inclusion')
  inclusion(@CurrentTenant() tenant: Tenant, @Query() query: unknown): Promise<InclusionProof> {
    const { index, treeSize } = parseInput(InclusionQuery, query);
    return asBadRequest(this.log.inclusionProof(tenant.id, index, treeSize));
  }

  @Get('proofs/consistency')
  consistency(@CurrentTenant() tenant: Tenant, @Query() query: unknown): Promise<ConsistencyProof> {
    const { first, second } = parseInput(ConsistencyQuery, query);
    return asBadRequest(this.log.consistencyProof(tenant.id, first, second));
  }

  /**
   * A compliance export (tenant, conversation, time range): `entries.jsonl` and `manifest.json`, with
   * the events' data as stored, a tree head signed now and every entry's inclusion proof. Save the two
   * files and run `npm run audit:verify -- <dir> --public-key <file>`. Compliance only, and logged.
   */
  @Get('export')
  @Roles('compliance')
  async export(@CurrentPrincipal() principal: Principal, @Query() query: unknown): Promise<ComplianceExport> {
    const scope = parseInput(ExportScopeSchema, query);
    await this.accessLog.rawDataRead(principal, '/v1/audit/export', {
      conversationId: scope.conversationId ?? null,
      from: scope.from ?? null,
      to: scope.to ?? null,
    });
    return buildComplianceExport(this.db, this.log, this.cipher, principal.tenant.id, scope);
  }

  /** Recomputes the whole log from the database; names the first bad entry (200 either way). */
  @Post('verify')
  @HttpCode(200)
  verify(@CurrentTenant() tenant: Tenant): Promise<LogVerification> {
    return this.log.verify(tenant.id);
  }
}

/** An index or size outside the log is the caller's mistake: 400, not 500. */
async function asBadRequest<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (
      error instanceof AuditLogError &&
      (error.code === 'index-out-of-range' || error.code === 'tree-size-invalid')
    ) {
      throw new AppError('validation-failed', error.message);
    }
    throw error;
  }
}
