// The in-process benchmarks (record, events, scrape time) run here rather than in the orchestrator: a
// fresh heap, --expose-gc, and the server's core, which is idle while they run.
import { runEvents, type EventsRequest } from './events-bench';
import { runRecord, type RecordRequest } from './record-bench';
import { runRecordTraced } from './record-traced-bench';
import { runRuntime, type RuntimeRequest } from './runtime-bench';
import { serve } from './rpc';
import { runScrapes, type ScrapeRequest } from './scrape-bench';

serve({
  record: (payload) => runRecord(payload as RecordRequest),
  'record-traced': (payload) => runRecordTraced(payload as RecordRequest),
  events: (payload) => runEvents(payload as EventsRequest),
  scrape: (payload) => runScrapes(payload as ScrapeRequest),
  runtime: (payload) => runRuntime(payload as RuntimeRequest),
});
