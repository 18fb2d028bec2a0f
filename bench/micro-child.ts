// The in-process benchmarks (events, scrape time) run here rather than in the orchestrator: a
// fresh heap, --expose-gc, and the server's core, which is idle while they run.
import { runEvents, type EventsRequest } from './events-bench';
import { serve } from './rpc';
import { runScrapes, type ScrapeRequest } from './scrape-bench';

serve({
  events: (payload) => runEvents(payload as EventsRequest),
  scrape: (payload) => runScrapes(payload as ScrapeRequest),
});
