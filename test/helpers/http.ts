// Requests that fetch cannot send (non-standard methods, repeated headers, request targets as
// written, another local address) and the metrics scrape.
import http from 'node:http';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { urlToHttpOptions } from 'node:url';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RawRequest {
  method?: string;
  /** Path and query, starting with `/`. */
  path: string;
  /** An object, or a flat `[name, value, name, value, ...]` array sent exactly as given. */
  headers?: OutgoingHttpHeaders | string[];
  /**
   * Sends `path` as the request target exactly as written. By default it is resolved against the
   * URL first, as fetch would, which reads `//metrics` as a host and removes dot segments.
   */
  verbatimPath?: boolean;
  /**
   * The address to connect from (Linux routes all of 127.0.0.0/8 to the loopback interface, so
   * 127.0.0.2 is a second client on the same machine).
   */
  localAddress?: string;
}

/** Node adds no Host header to a raw header array, and a request without one gets 400. */
function withHost(headers: RawRequest['headers'], target: URL): RawRequest['headers'] {
  if (!Array.isArray(headers)) return headers;
  const named = headers.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());
  return named.includes('host') ? headers : ['Host', target.host, ...headers];
}

/** One request on its own connection (no agent, so nothing is left open), body read to the end. */
export function rawRequest(url: string, request: RawRequest): Promise<RawResponse> {
  const target = new URL(request.verbatimPath ? '/' : request.path, url);
  const options: http.RequestOptions = {
    ...urlToHttpOptions(target),
    ...(request.verbatimPath ? { path: request.path } : {}),
    method: request.method ?? 'GET',
    headers: withHost(request.headers, target),
    agent: false,
    localAddress: request.localAddress,
  };
  return new Promise((resolve, reject) => {
    const req = http.request(options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end();
  });
}

/** GET the metrics route with a bearer token; throws unless it answers 200. */
export async function scrape(url: string, token: string, path = '/metrics'): Promise<string> {
  const response = await fetch(url + path, { headers: { Authorization: `Bearer ${token}` } });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`scrape answered ${response.status}: ${text}`);
  return text;
}
