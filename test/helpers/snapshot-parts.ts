// A worker's snapshot as the cluster's IPC channel carries it: in parts, each through JSON.
import { Instruments } from '../../src/collection/instruments';
import { SnapshotReader, type Snapshot } from '../../src/cluster/snapshot';

/**
 * The snapshot of a worker that served `requests` requests on each of `labelSets` label sets
 * (`GET /r<i>` 200 user), in parts of 1,000 series, each encoded and decoded as JSON.
 */
export function snapshotParts(labelSets: number, requests = 1): Snapshot[] {
  const instruments = new Instruments({ cardinalityLimit: labelSets + 10 });
  for (let n = 0; n < requests; n++) {
    for (let i = 0; i < labelSets; i++) {
      instruments.recordRequest('GET', `/r${i}`, '200', 'user', 0.01);
    }
  }
  const reader = new SnapshotReader(instruments.all);
  const parts: Snapshot[] = [];
  do parts.push(JSON.parse(JSON.stringify(reader.next(1000))) as Snapshot);
  while (!reader.done);
  return parts;
}
