// `--require`d into the reference service by the soak (soak.ts), after the scanopy-metrics preload:
// answers the soak's IPC requests with the process's memory, after a full garbage collection
// (the service is started with --expose-gc) so that successive samples compare live memory, not
// garbage not yet collected. The service itself is unchanged.

export interface MemoryRequest {
  type: 'memory';
  id: number;
}

export interface MemorySample {
  id: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

if (process.send) {
  process.on('message', (message: unknown) => {
    const request = message as Partial<MemoryRequest>;
    if (request.type !== 'memory' || typeof request.id !== 'number') return;
    (globalThis as { gc?: () => void }).gc?.();
    const usage = process.memoryUsage();
    process.send?.({
      id: request.id,
      rss: usage.rss,
      heapUsed: usage.heapUsed,
      heapTotal: usage.heapTotal,
      external: usage.external,
      arrayBuffers: usage.arrayBuffers,
    } satisfies MemorySample);
  });
  // The soak went away (finished, crashed or was killed): never outlive it.
  process.on('disconnect', () => process.exit(0));
}
