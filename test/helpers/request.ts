// One HTTP request on a connection of its own (no agent: nothing stays open), with an optional
// body, returning the status, the headers as the server sent them (names and order kept) and the
// body read to its end.
import http from 'node:http';

export interface Sent {
  method?: string;
  /** Path and query, starting with `/`. */
  path: string;
  /** An object, or a flat `[name, value, name, value, ...]` array sent exactly as given. */
  headers?: Record<string, string> | string[];
  body?: string | Buffer;
  /** A keep-alive agent to reuse connections; none: a connection of its own, closed after. */
  agent?: http.Agent;
}

export interface Received {
  status: number;
  /** `[name, value, name, value, ...]` as the server sent them. */
  rawHeaders: string[];
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function send(url: string, request: Sent): Promise<Received> {
  // The path is sent as it is (`//x` too, which `new URL(path, url)` would read as a host).
  const { hostname, port, host } = new URL(url);
  // Node adds no Host header to a raw header array, and a request without one gets 400.
  const headers = Array.isArray(request.headers)
    ? ['Host', host, ...request.headers]
    : request.headers;
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        hostname,
        port,
        path: request.path,
        method: request.method ?? 'GET',
        headers,
        agent: request.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            rawHeaders: res.rawHeaders,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.end(request.body);
  });
}

/** `GET <path>` with `Authorization: Bearer <token>`; throws unless it answers 200. */
export async function scrapeOk(url: string, token: string, path = '/metrics'): Promise<string> {
  const response = await send(url, { path, headers: { Authorization: `Bearer ${token}` } });
  if (response.status !== 200) {
    throw new Error(`scrape of ${url}${path} answered ${response.status}: ${response.body}`);
  }
  return response.body;
}
