// Goal 1, events: runs events-bench.ts in a child on the server core and makes its table.
import path from 'node:path';
import { Child } from './children';
import { SERVER_CPU } from './constants';
import { EVENT_VARIANTS, type EventsRequest, type EventsResult } from './events-bench';
import type { Sizes } from './options';
import { median, summarize } from './stats';
import { count, fixed, ratio, type Table } from './table';

export async function events(sizes: Sizes, progress: (line: string) => void): Promise<Table> {
  progress(`events: ${sizes.rounds} rounds of ${count(sizes.eventOps)} events per variant`);
  const child = await Child.start({
    name: 'events benchmark',
    module: path.join(__dirname, 'micro-child.js'),
    nodeArgs: ['--expose-gc'],
    cpu: SERVER_CPU,
  });
  let result: EventsResult;
  try {
    result = await child.call<EventsResult>('events', {
      ops: sizes.eventOps,
      batch: sizes.eventBatch,
      rounds: sizes.rounds,
    } satisfies EventsRequest);
  } finally {
    await child.stop();
  }

  const base = median(result['prom-client counter.inc']);
  const rows = EVENT_VARIANTS.map((v) => {
    const s = summarize(result[v]);
    return [v, fixed(s.median, 1), fixed(s.min, 1), fixed(s.max, 1), ratio(s.median / base)];
  });
  const record = median(result['scanopy-metrics recordEvent']) / base;
  const observer = median(result['scanopy-metrics observer.handleEvents']) / base;
  return {
    title: 'Goal 1 — events: cost of counting one domain event (in-process)',
    notes: [
      `${count(sizes.eventOps)} events per variant per round, ${sizes.rounds} counted rounds after` +
        ' 1 warm-up, interleaved (order rotated), gc() before each; one child on the server core.',
      "Event {kind:'entity', entityType:'Host', operation:'created'}; handleEvents gets batches of" +
        ` ${sizes.eventBatch} (ns per event); prom-client and OTel get labels {entity, operation}` +
        ' written inline.',
    ],
    columns: ['variant', 'ns/event', 'min', 'max', '× prom-client'],
    rows,
    goals: [
      {
        text: 'recordEvent ≤ prom-client counter.inc with labels',
        measured: ratio(record),
        met: Number.isFinite(record) ? record <= 1 : undefined,
      },
      {
        text: 'observer.handleEvents ≤ prom-client counter.inc with labels',
        measured: ratio(observer),
        met: Number.isFinite(observer) ? observer <= 1 : undefined,
      },
    ],
  };
}
