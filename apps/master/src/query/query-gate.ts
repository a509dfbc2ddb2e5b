import { HttpException, HttpStatus, Injectable } from '@nestjs/common';
import { MasterConfig } from '../config/master.config';

/** The master's query slots: query.maxConcurrency counts the v1 and v2 APIs together. */
@Injectable()
export class QueryGate {
  private running = 0;

  constructor(private readonly config: MasterConfig) {}

  get inFlight(): number {
    return this.running;
  }

  /** Takes a slot (release it with the returned function, once) or refuses with 429. */
  enter(): () => void {
    const max = this.config.query.maxConcurrency;
    if (this.running >= max) {
      throw new HttpException(
        { statusCode: 429, error: 'Too Many Requests', message: `too many queries at once (limit query.maxConcurrency=${max}); retry shortly` },
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
    this.running++;
    let released = false;
    return () => {
      if (!released) this.running--;
      released = true;
    };
  }
}
