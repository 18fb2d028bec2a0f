// A small OTLP/HTTP metrics receiver for the tests (no Collector can be installed): it takes
// POST /v1/metrics in both protocols, gunzips when asked, and decodes the body with the OTLP
// definitions that @opentelemetry/otlp-transformer ships (its protobufjs-generated root), so that
// the tests read exactly what an OTLP receiver would.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
// The last otlp-transformer line that ships the protobufjs definitions (see package.json).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const root = require('otlp-transformer-definitions/build/src/generated/root.js') as {
  opentelemetry: {
    proto: {
      collector: {
        metrics: {
          v1: {
            ExportMetricsServiceRequest: {
              decode(bytes: Uint8Array): unknown;
              fromObject(object: unknown): unknown;
              toObject(message: unknown, options: Record<string, unknown>): ExportRequest;
            };
          };
        };
      };
    };
  };
};
const Request = root.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;

export interface KeyValue {
  key: string;
  value: { stringValue?: string; boolValue?: boolean; intValue?: number; doubleValue?: number };
}

export interface NumberPoint {
  attributes?: KeyValue[];
  asDouble?: number;
  asInt?: number;
  startTimeUnixNano?: number;
  timeUnixNano?: number;
}

export interface HistogramPoint {
  attributes?: KeyValue[];
  count?: number;
  sum?: number;
  bucketCounts?: number[];
  explicitBounds?: number[];
}

export interface Metric {
  name: string;
  sum?: { dataPoints?: NumberPoint[]; aggregationTemporality?: string; isMonotonic?: boolean };
  histogram?: { dataPoints?: HistogramPoint[]; aggregationTemporality?: string };
  gauge?: { dataPoints?: NumberPoint[] };
}

export interface ExportRequest {
  resourceMetrics?: {
    resource?: { attributes?: KeyValue[] };
    scopeMetrics?: { scope?: { name?: string }; metrics?: Metric[] }[];
  }[];
}

export interface Received {
  contentType: string;
  contentEncoding: string | undefined;
  headers: http.IncomingHttpHeaders;
  request: ExportRequest;
}

const TO_OBJECT = { longs: Number, enums: String, arrays: true };

export function decode(contentType: string, body: Buffer): ExportRequest {
  if (contentType.startsWith('application/json')) {
    return Request.toObject(Request.fromObject(JSON.parse(body.toString('utf8'))), TO_OBJECT);
  }
  return Request.toObject(Request.decode(body), TO_OBJECT);
}

/** Attributes as a plain object (string, bool and number values). */
export function attributes(list: KeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) {
    out[key] = value.stringValue ?? value.boolValue ?? value.intValue ?? value.doubleValue;
  }
  return out;
}

/** Every metric of a request, by name. */
export function metricsOf(request: ExportRequest): Map<string, Metric> {
  const out = new Map<string, Metric>();
  for (const rm of request.resourceMetrics ?? []) {
    for (const sm of rm.scopeMetrics ?? []) {
      for (const m of sm.metrics ?? []) out.set(m.name, m);
    }
  }
  return out;
}

/** The value of the sum point whose attributes include `match`, or undefined. */
export function sumValue(
  request: ExportRequest,
  name: string,
  match: Record<string, string>,
): number | undefined {
  const points = metricsOf(request).get(name)?.sum?.dataPoints ?? [];
  const point = points.find((p) => {
    const a = attributes(p.attributes);
    return Object.entries(match).every(([k, v]) => a[k] === v);
  });
  return point ? (point.asDouble ?? point.asInt ?? 0) : undefined;
}

export class OtlpReceiver {
  readonly received: Received[] = [];
  private readonly server: http.Server;
  /** When set, requests are held and never answered (a receiver that hangs). */
  hang = false;

  constructor() {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (this.hang) return;
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const contentType = req.headers['content-type'] ?? '';
        try {
          this.received.push({
            contentType,
            contentEncoding: req.headers['content-encoding'],
            headers: req.headers,
            request: decode(contentType, body),
          });
          res.writeHead(200, { 'Content-Type': contentType });
          res.end(contentType.startsWith('application/json') ? '{}' : '');
        } catch (error) {
          res.writeHead(400);
          res.end(String(error));
        }
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
