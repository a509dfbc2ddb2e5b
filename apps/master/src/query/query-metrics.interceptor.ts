import { CallHandler, ExecutionContext, HttpException, Injectable, NestInterceptor } from '@nestjs/common';
import { Observable, tap } from 'rxjs';
import { QueryMetrics, QueryRequestStatus } from './query.metrics';
import { QueryResponseDto } from './query-response.dto';

function statusOf(e: unknown): QueryRequestStatus {
  const code = e instanceof HttpException ? e.getStatus() : 500;
  if (code === 400) return 'invalid';
  if (code === 429) return 'overloaded';
  if (code === 503) return 'unavailable';
  return 'error';
}

/** Counts every query by outcome, including bodies the ValidationPipe refused (pipes run inside interceptors). */
@Injectable()
export class QueryMetricsInterceptor implements NestInterceptor {
  constructor(private readonly metrics: QueryMetrics) {}

  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const end = this.metrics.duration.startTimer();
    return next.handle().pipe(
      tap({
        next: (r) => {
          end();
          this.metrics.requests.inc({ status: (r as QueryResponseDto).partial ? 'partial' : 'ok' });
        },
        error: (e: unknown) => {
          end();
          this.metrics.requests.inc({ status: statusOf(e) });
        },
      }),
    );
  }
}
