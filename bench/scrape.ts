// Goal 2, scrape time and size: runs scrape-bench.ts in a child on the server core and makes its
// table.
import path from 'node:path';
import { Child } from './children';
import { SERVER_CPU } from './constants';
import type { Sizes } from './options';
import type { ScrapeRequest, ScrapeResult } from './scrape-bench';
import { median, summarize } from './stats';
import { count, fixed, ratio, type Table } from './table';

export async function scrapeTime(sizes: Sizes, progress: (line: string) => void): Promise<Table> {
  progress(`scrape: ${sizes.rounds} rounds over ${count(sizes.labelSets)} label sets`);
  const child = await Child.start({
    name: 'scrape benchmark',
    module: path.join(__dirname, 'micro-child.js'),
    nodeArgs: ['--expose-gc'],
    cpu: SERVER_CPU,
  });
  let result: ScrapeResult;
  try {
    result = await child.call<ScrapeResult>('scrape', {
      labelSets: sizes.labelSets,
      rounds: sizes.rounds,
      concurrent: sizes.concurrentScrapes,
    } satisfies ScrapeRequest);
  } finally {
    await child.stop();
  }

  const prom = median(result['prom-client'].ms);
  const pkg = median(result['scanopy-metrics'].ms);
  const row = (label: string, ms: number[], bytes?: number, samples?: number): string[] => {
    const s = summarize(ms);
    return [
      label,
      fixed(s.median, 1),
      fixed(s.min, 1),
      fixed(s.max, 1),
      ratio(s.median / prom),
      count(bytes),
      count(samples),
    ];
  };
  const n = sizes.concurrentScrapes;
  const pkgConcurrent = median(result['scanopy-metrics'].concurrentMs) / pkg;
  const promConcurrent = median(result['prom-client'].concurrentMs) / prom;
  const sizeRatio = result['otel-sdk'].bytes / result['scanopy-metrics'].bytes;
  return {
    title: `Goal 2 — scrape time and size, ${count(sizes.labelSets)} label sets (in-process)`,
    notes: [
      `${count(sizes.labelSets)} distinct paths, GET, 200, anonymous: one counter and one histogram` +
        ' series each, recorded through each library (the package: pipeline.instruments.recordRequest,' +
        ' cardinalityLimit 20000).',
      `${sizes.rounds} counted rounds after 1 warm-up, interleaved (order rotated), gc() before` +
        ' each; one child on the server core. Time = until the text is in hand (awaited).',
      'otel-sdk = await reader.collect(), then PrometheusSerializer.serialize() with its defaults' +
        ' (scope labels and target_info on); scanopy-metrics = m.scrape().',
      `"${n} at once" = ${n} scrapes fired together, time until all resolved.`,
      'OpenMetrics + gzip = what the route answers Prometheus 2.42: pipeline.scrape(OpenMetrics),' +
        " then zlib's asynchronous gzip (level 1, on libuv's thread pool); bytes = gzipped" +
        ` (${count(result['scanopy-metrics'].gzipUncompressedBytes)} before).`,
    ],
    columns: ['variant', 'ms', 'min', 'max', '× prom-client', 'bytes', 'sample lines'],
    rows: [
      row(
        'prom-client register.metrics()',
        result['prom-client'].ms,
        result['prom-client'].bytes,
        result['prom-client'].samples,
      ),
      row(
        'otel-sdk collect + serialize',
        result['otel-sdk'].ms,
        result['otel-sdk'].bytes,
        result['otel-sdk'].samples,
      ),
      row(
        'scanopy-metrics m.scrape()',
        result['scanopy-metrics'].ms,
        result['scanopy-metrics'].bytes,
        result['scanopy-metrics'].samples,
      ),
      row(
        'scanopy-metrics OpenMetrics + gzip',
        result['scanopy-metrics'].gzipMs,
        result['scanopy-metrics'].gzipBytes,
      ),
      row(`prom-client, ${n} at once`, result['prom-client'].concurrentMs),
      row(`scanopy-metrics, ${n} at once`, result['scanopy-metrics'].concurrentMs),
    ],
    goals: [
      {
        text: 'scanopy-metrics scrape ≤ 1/3 × prom-client (0.33×)',
        measured: ratio(pkg / prom),
        met: Number.isFinite(pkg / prom) ? pkg / prom <= 1 / 3 : undefined,
      },
      {
        text: `${n} concurrent scrapes share one collection (≤ 1.5 × one scrape, same text)`,
        measured:
          `${ratio(pkgConcurrent)} one scrape` +
          `${result['scanopy-metrics'].concurrentSame ? '' : ', texts differ'}` +
          ` (prom-client: ${ratio(promConcurrent)})`,
        met: Number.isFinite(pkgConcurrent)
          ? pkgConcurrent <= 1.5 && result['scanopy-metrics'].concurrentSame
          : undefined,
      },
      {
        text: 'scanopy-metrics OpenMetrics + gzip ≤ 1/3 × prom-client (0.33×)',
        measured: ratio(median(result['scanopy-metrics'].gzipMs) / prom),
        met: Number.isFinite(median(result['scanopy-metrics'].gzipMs) / prom)
          ? median(result['scanopy-metrics'].gzipMs) / prom <= 1 / 3
          : undefined,
      },
      {
        text: 'otel-sdk bytes vs scanopy-metrics (informational)',
        measured: ratio(sizeRatio),
        met: undefined,
      },
    ],
  };
}
