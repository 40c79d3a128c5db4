import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Put,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { Response } from 'express';
import {
  AppError,
  type KnowledgeDocumentPage,
  type KnowledgeDocumentView,
  type KnowledgeSearchResult,
} from '@contracts';
import type { Tenant } from '@libs/event-store';
import { ApiKeyGuard, CurrentTenant, Roles } from '../auth';
import { parseInput } from '../http/parse-input';
import { DeleteDocumentCommand, DeleteDocumentHandler } from './delete-document';
import { GetDocumentHandler, GetDocumentQuery } from './get-document';
import {
  ListDocumentsParams,
  SearchKnowledgeBody,
  UploadDocumentParams,
  documentFormatOf,
  mediaTypeOf,
} from './knowledge.schemas';
import { ListDocumentsHandler, ListDocumentsQuery } from './list-documents';
import { SearchKnowledgeHandler, SearchKnowledgeQuery } from './search-knowledge';
import { UploadDocumentCommand, UploadDocumentHandler } from './upload-document';

/** REST for a tenant's knowledge base. The tenant always comes from the API key. */
@Controller('v1/knowledge')
@UseGuards(ApiKeyGuard)
export class KnowledgeController {
  constructor(
    @Inject(UploadDocumentHandler) private readonly uploadDocument: UploadDocumentHandler,
    @Inject(DeleteDocumentHandler) private readonly deleteDocument: DeleteDocumentHandler,
    @Inject(GetDocumentHandler) private readonly getDocument: GetDocumentHandler,
    @Inject(ListDocumentsHandler) private readonly listDocuments: ListDocumentsHandler,
    @Inject(SearchKnowledgeHandler) private readonly searchKnowledge: SearchKnowledgeHandler,
  ) {}

  /** The body is the file itself (fileBody parsed it); 202 when a revision was recorded, 200 when unchanged. */
  @Put('documents/:documentId')
  @Roles('agent', 'admin')
  async upload(
    @CurrentTenant() tenant: Tenant,
    @Param('documentId') documentId: string,
    @Query() query: unknown,
    @Headers('content-type') contentType: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<KnowledgeDocumentView> {
    const { title } = parseInput(UploadDocumentParams, query);
    const format = documentFormatOf(contentType);
    if (format === null) throw new AppError('unsupported-media-type', `got ${contentType ?? 'none'}`);
    if (!Buffer.isBuffer(body) || body.length === 0)
      throw new AppError('validation-failed', 'the file is empty: send its bytes as the request body');
    const { changed, document } = await this.uploadDocument.execute(
      new UploadDocumentCommand(tenant.id, documentId, title, format, mediaTypeOf(contentType), body),
    );
    res.status(changed ? 202 : 200);
    return document;
  }

  @Get('documents/:documentId')
  @Roles('agent', 'admin')
  async get(
    @CurrentTenant() tenant: Tenant,
    @Param('documentId') documentId: string,
  ): Promise<KnowledgeDocumentView> {
    return this.getDocument.execute(new GetDocumentQuery(tenant.id, documentId));
  }

  @Delete('documents/:documentId')
  @Roles('agent', 'admin')
  @HttpCode(204)
  async remove(@CurrentTenant() tenant: Tenant, @Param('documentId') documentId: string): Promise<void> {
    await this.deleteDocument.execute(new DeleteDocumentCommand(tenant.id, documentId));
  }

  @Get('documents')
  @Roles('agent', 'admin')
  async list(@CurrentTenant() tenant: Tenant, @Query() query: unknown): Promise<KnowledgeDocumentPage> {
    const { after, limit } = parseInput(ListDocumentsParams, query);
    return this.listDocuments.execute(new ListDocumentsQuery(tenant.id, after ?? null, limit));
  }

  @Post('search')
  @Roles('frontend', 'agent', 'admin')
  @HttpCode(200)
  async search(@CurrentTenant() tenant: Tenant, @Body() body: unknown): Promise<KnowledgeSearchResult> {
    const input = parseInput(SearchKnowledgeBody, body);
    return this.searchKnowledge.execute(new SearchKnowledgeQuery(tenant.id, input));
  }
}
