// Goal 2, scrape time: the same label sets recorded into the package, prom-client and the OTel SDK,
// then each library's scrape timed in interleaved rounds, in a child of its own (micro-child.ts)
// started with --expose-gc so that every scrape starts from a collected heap. Also N scrapes fired
// at once, which should cost about one scrape when concurrent callers share a collection.
import { BENCH_TOKEN, labelSetPath } from './constants';
import { gc } from './rpc';
import { rotate } from './stats';
import { loadSubject, SUBJECT_NAMES, type Subject, type SubjectName } from './subjects';

export interface ScrapeRequest {
  labelSets: number;
  rounds: number;
  concurrent: number;
}

export interface ScrapeSamples {
  /** ms per scrape, one entry per counted round. */
  ms: number[];
  /** ms for `concurrent` scrapes fired at once (package and prom-client only). */
  concurrentMs: number[];
  /** Whether every concurrent scrape returned the same text. */
  concurrentSame: boolean;
  bytes: number;
  /** Sample lines (neither comments nor blank). */
  samples: number;
  /** ms per OpenMetrics scrape gzipped, as the route answers Prometheus (package only). */
  gzipMs: number[];
  /** Bytes of that scrape, gzipped and not. */
  gzipBytes: number;
  gzipUncompressedBytes: number;
}

export type ScrapeResult = Record<SubjectName, ScrapeSamples>;

/** Subjects whose concurrent scrapes are measured (the OTel SDK's take seconds and share nothing). */
const CONCURRENT: readonly SubjectName[] = ['scanopy-metrics', 'prom-client'];

async function timed<T>(run: () => Promise<T>): Promise<[T, number]> {
  gc();
  const start = performance.now();
  const value = await run();
  return [value, performance.now() - start];
}

export async function runScrapes(request: ScrapeRequest): Promise<ScrapeResult> {
  const subjects: Subject[] = [];
  for (const name of SUBJECT_NAMES) {
    const subject = (await loadSubject(name))({ token: BENCH_TOKEN, cardinalityLimit: 20000 });
    for (let i = 0; i < request.labelSets; i++) {
      subject.recordRequest('GET', labelSetPath(i), '200', 'anonymous', 0.01);
    }
    subjects.push(subject);
  }
  const result = {} as ScrapeResult;
  for (const s of subjects) {
    result[s.name] = {
      ms: [],
      concurrentMs: [],
      concurrentSame: true,
      bytes: 0,
      samples: 0,
      gzipMs: [],
      gzipBytes: 0,
      gzipUncompressedBytes: 0,
    };
  }

  for (let round = 0; round <= request.rounds; round++) {
    for (const subject of rotate(subjects, round)) {
      const samples = result[subject.name];
      const [text, ms] = await timed(() => subject.scrape());
      if (round > 0) samples.ms.push(ms);
      if (round === 0) {
        samples.bytes = Buffer.byteLength(text);
        samples.samples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
      }
      if (subject.scrapeCompressed !== undefined) {
        const [sizes, gzipMs] = await timed(() => subject.scrapeCompressed!());
        if (round > 0) samples.gzipMs.push(gzipMs);
        samples.gzipBytes = sizes.bytes;
        samples.gzipUncompressedBytes = sizes.uncompressed;
      }
      if (!CONCURRENT.includes(subject.name)) continue;
      const [texts, allMs] = await timed(() =>
        Promise.all(Array.from({ length: request.concurrent }, () => subject.scrape())),
      );
      if (round > 0) samples.concurrentMs.push(allMs);
      samples.concurrentSame &&= texts.every((t) => t === texts[0]);
    }
  }
  for (const subject of subjects) await subject.shutdown();
  return result;
}
