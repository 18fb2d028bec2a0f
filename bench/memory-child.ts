// Goal 3: the memory one library holds for N label sets, in a process of its own started with
// --expose-gc. The library is loaded and has recorded one label set (and served one scrape) before
// the baseline, so that its code, compiled functions and first-use structures are not counted as
// label-set memory.
import { getHeapSpaceStatistics } from 'node:v8';
import { setImmediate as tick } from 'node:timers/promises';
import { BENCH_TOKEN, labelSetPath, routeLabelSet } from './constants';
import { gc, serve } from './rpc';
import { loadSubject, type SubjectName } from './subjects';

/**
 * `distinct`: label set i is `GET /r/<i>/:id 200 anonymous` (a path per label set, built while
 * recording); `routes`: a service of 500 routes (routeLabelSet), whose patterns exist before any
 * request, as a router's do.
 */
export type MemoryLayout = 'distinct' | 'routes';

export interface MemoryRequest {
  variant: SubjectName;
  labelSets: number;
  layout: MemoryLayout;
}

export interface MemoryResult {
  /** RSS after − before recording the label sets, after gc. */
  rssBytes: number;
  heapUsedBytes: number;
  /** RSS after one scrape and gc − before: what a scrape leaves behind on top. */
  rssAfterScrapeBytes: number;
  /** heapUsed after one scrape (its text no longer referenced) and gc − before. */
  heapAfterScrapeBytes: number;
  /** The young generation's size (V8's new space) before and after recording. */
  youngBeforeBytes: number;
  youngAfterBytes: number;
}

/** Two full collections with a turn of the event loop between (finalizers, weak refs). */
async function settle(): Promise<NodeJS.MemoryUsage> {
  gc();
  await tick();
  gc();
  return process.memoryUsage();
}

function youngGeneration(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? NaN;
}

/** The scrape's text, dropped before the caller measures. */
async function scrapeLength(subject: { scrape(): Promise<string> }): Promise<number> {
  return (await subject.scrape()).length;
}

async function measure(request: MemoryRequest): Promise<MemoryResult> {
  const subject = (await loadSubject(request.variant))({
    token: BENCH_TOKEN,
    cardinalityLimit: 20000,
  });
  subject.recordRequest('GET', '/warm-up', '200', 'anonymous', 0.01);
  if ((await scrapeLength(subject)) === 0) throw new Error('empty scrape');
  const routes =
    request.layout === 'routes'
      ? Array.from({ length: request.labelSets }, (_, i) => routeLabelSet(i))
      : [];
  const before = await settle();
  const youngBefore = youngGeneration();
  if (request.layout === 'routes') {
    for (const [method, path, status, caller] of routes) {
      subject.recordRequest(method, path, status, caller, 0.0123);
    }
  } else {
    for (let i = 0; i < request.labelSets; i++) {
      subject.recordRequest('GET', labelSetPath(i), '200', 'anonymous', 0.01);
    }
  }
  const after = await settle();
  const youngAfter = youngGeneration();
  if ((await scrapeLength(subject)) === 0) throw new Error('empty scrape');
  const afterScrape = await settle();
  // Keeps the label sets and the library alive until every figure is taken.
  if (routes.length > 0 && subject.name.length === 0) throw new Error('unreachable');
  return {
    rssBytes: after.rss - before.rss,
    heapUsedBytes: after.heapUsed - before.heapUsed,
    rssAfterScrapeBytes: afterScrape.rss - before.rss,
    heapAfterScrapeBytes: afterScrape.heapUsed - before.heapUsed,
    youngBeforeBytes: youngBefore,
    youngAfterBytes: youngAfter,
  };
}

serve({ measure: (payload) => measure(payload as MemoryRequest) });
