// Clients for the protocols other than plain HTTP/1.1: HTTP/2 (node:http2's own client, cleartext
// or TLS), HTTPS, and HTTP/1.0 written on a raw socket. Each sends one request and reads the whole
// answer; nothing stays open afterwards.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request on a fresh HTTP/2 session (`http://` for h2c, `https://` for h2 over TLS). */
export function h2Request(
  origin: string,
  request: { method?: string; path: string; headers?: Record<string, string>; ca?: string },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(origin, request.ca ? { ca: request.ca } : {});
    session.once('error', reject);
    const stream = session.request({
      ':method': request.method ?? 'GET',
      ':path': request.path,
      ...request.headers,
    });
    let status = 0;
    let headers: Answer['headers'] = {};
    let body = '';
    stream.once('response', (h) => {
      status = Number(h[':status']);
      headers = h;
    });
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    stream.once('error', (error: Error) => {
      session.close();
      reject(error);
    });
    stream.once('end', () => {
      session.close();
      resolve({ status, headers, body });
    });
    stream.end();
  });
}

/** One HTTPS/1.1 request on its own connection, trusting `ca`. */
export function httpsRequest(
  origin: string,
  request: { method?: string; path: string; headers?: Record<string, string>; ca: string },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(request.path, origin),
      { method: request.method ?? 'GET', headers: request.headers, ca: request.ca, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.end();
  });
}

/**
 * An HTTP/1.0 request written byte for byte on a raw socket (no Host header unless given), read
 * until the server closes the connection, as HTTP/1.0 without keep-alive does.
 */
export function http10Request(port: number, lines: string[]): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let raw = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (raw += chunk));
    socket.once('error', reject);
    socket.once('end', () => {
      const split = raw.indexOf('\r\n\r\n');
      const head = raw.slice(0, split).split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0])?.[1] ?? 0);
      const headers: Answer['headers'] = {};
      for (const line of head.slice(1)) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status, headers, body: raw.slice(split + 4) });
    });
    socket.write(lines.join('\r\n') + '\r\n\r\n');
  });
}

export interface TestCertificate {
  key: string;
  cert: string;
}

/** A throw-away self-signed certificate for 127.0.0.1 and localhost, made with openssl. */
export function makeCertificate(dir: string): TestCertificate {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
}
