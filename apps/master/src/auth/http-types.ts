import type { IncomingMessage, ServerResponse } from 'node:http';

/** The parts of Express's request/response this app uses (@types/express is not a dependency). */
export interface HttpRequest extends IncomingMessage {
  path: string;
  method: string;
}

export interface HttpResponse extends ServerResponse {
  status(code: number): this;
}
