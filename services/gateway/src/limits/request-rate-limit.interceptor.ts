import {
  Inject,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Observable } from 'rxjs';
import type { Principal } from '@libs/event-store';
import { RateLimitPolicy } from './rate-limit-policy';

/**
 * Every authenticated request counts against its tenant's and its key's requests per minute. Runs after
 * the guard (which names the principal) and before the route; unauthenticated requests are refused by
 * the guard and never counted, so a stranger cannot use up a tenant's limit.
 */
@Injectable()
export class RequestRateLimit implements NestInterceptor {
  constructor(@Inject(RateLimitPolicy) private readonly policy: RateLimitPolicy) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const principal = http.getRequest<Request & { principal?: Principal }>().principal;
    if (principal) await this.policy.admit(principal, 'requests', 1, http.getResponse<Response>());
    return next.handle();
  }
}
