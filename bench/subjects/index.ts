// Loads one library only: a child measuring prom-client must not carry the OTel SDK's modules
// (or the package's) in its heap, and the bare server must carry none of them.
import type { SubjectFactory, SubjectName } from './types';

export async function loadSubject(name: SubjectName): Promise<SubjectFactory> {
  switch (name) {
    case 'scanopy-metrics':
      return (await import('./scanopy-metrics.js')).createSubject;
    case 'prom-client':
      return (await import('./prom-client.js')).createSubject;
    case 'otel-sdk':
      return (await import('./otel-sdk.js')).createSubject;
  }
}

export { SUBJECT_NAMES, type Subject, type SubjectName, type SubjectOptions } from './types';
