// Goal 3: the memory one library holds for N label sets, in a process of its own started with
// --expose-gc. The library is loaded and has recorded one label set before the baseline, so that
// its code, compiled functions and first-use structures are not counted as label-set memory.
import { setImmediate as tick } from 'node:timers/promises';
import { BENCH_TOKEN, labelSetPath } from './constants';
import { gc, serve } from './rpc';
import { loadSubject, type SubjectName } from './subjects';

export interface MemoryRequest {
  variant: SubjectName;
  labelSets: number;
}

export interface MemoryResult {
  /** RSS after − before recording the label sets, after gc. */
  rssBytes: number;
  heapUsedBytes: number;
  /** RSS after one scrape and gc − before: what a scrape leaves behind on top. */
  rssAfterScrapeBytes: number;
}

/** Two full collections with a turn of the event loop between (finalizers, weak refs). */
async function settle(): Promise<NodeJS.MemoryUsage> {
  gc();
  await tick();
  gc();
  return process.memoryUsage();
}

async function measure(request: MemoryRequest): Promise<MemoryResult> {
  const subject = (await loadSubject(request.variant))({
    token: BENCH_TOKEN,
    cardinalityLimit: 20000,
  });
  subject.recordRequest('GET', '/warm-up', '200', 'anonymous', 0.01);
  const before = await settle();
  for (let i = 0; i < request.labelSets; i++) {
    subject.recordRequest('GET', labelSetPath(i), '200', 'anonymous', 0.01);
  }
  const after = await settle();
  const text = await subject.scrape();
  if (text.length === 0) throw new Error('empty scrape');
  const afterScrape = await settle();
  return {
    rssBytes: after.rss - before.rss,
    heapUsedBytes: after.heapUsed - before.heapUsed,
    rssAfterScrapeBytes: afterScrape.rss - before.rss,
  };
}

serve({ measure: (payload) => measure(payload as MemoryRequest) });
