// Requests that fetch cannot send (non-standard methods, repeated headers) and the metrics scrape.
import http from 'node:http';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

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
}

/** Node adds no Host header to a raw header array, and a request without one gets 400. */
function withHost(headers: RawRequest['headers'], target: URL): RawRequest['headers'] {
  if (!Array.isArray(headers)) return headers;
  const named = headers.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());
  return named.includes('host') ? headers : ['Host', target.host, ...headers];
}

/** One request on its own connection (no agent, so nothing is left open), body read to the end. */
export function rawRequest(url: string, request: RawRequest): Promise<RawResponse> {
  const target = new URL(request.path, url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      target,
      { method: request.method ?? 'GET', headers: withHost(request.headers, target), agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.once('error', reject);
      },
    );
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
