// Scrapes for clusters, where a connection the primary handed to a worker just as it was killed
// or stopped is never answered: each attempt gives up after a while and the scrape is retried.
import http from 'node:http';
import { TOKEN } from './preloaded-service';
import { waitUntil } from './prometheus-server';

/** One scrape that gives up after `ms`; undefined unless it answered 200. */
export function scrapeWithin(url: string, ms: number, token = TOKEN): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = http.get(
      `${url}/metrics`,
      { headers: { Authorization: `Bearer ${token}` }, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(res.statusCode === 200 ? body : undefined));
        res.on('error', () => resolve(undefined));
      },
    );
    req.setTimeout(ms, () => {
      req.destroy();
      resolve(undefined);
    });
    req.on('error', () => resolve(undefined));
  });
}

/** A scrape, retried until one answers 200 (for at most a minute). */
export function scrape(url: string): Promise<string> {
  return waitUntil(`a scrape of ${url}`, () => scrapeWithin(url, 5000), 60_000);
}
