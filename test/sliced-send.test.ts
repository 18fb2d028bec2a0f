// A large body goes out a slice a turn: whole and in order, the next slice never in the turn of
// the one before (not even through a `drain` emitted in that turn), and nothing more once the
// client has left. Over real sockets.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from './helpers/chai';
import { sendInSlices } from '../src/route/sliced-send';
import { restOfTurn } from './helpers/wait';

const SLICE = 64 * 1024;

/** 300,000 bytes of a pattern that tells any misplaced slice. */
function body(length = 300_000): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 7 + (i >> 16)) & 0xff;
  return bytes;
}

/** A server whose one answer is `handler`'s; resolves with its port. */
async function serve(handler: http.RequestListener): Promise<{ port: number; close: () => void }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** Counts the slices written to `res`, and which of them `end` carried. */
function spy(res: http.ServerResponse): { writes: number[]; ends: number[] } {
  const seen = { writes: [] as number[], ends: [] as number[] };
  const write = res.write.bind(res) as (chunk: Uint8Array) => boolean;
  const end = res.end.bind(res) as (chunk: Uint8Array) => http.ServerResponse;
  res.write = ((chunk: Uint8Array) => (seen.writes.push(chunk.length), write(chunk))) as never;
  res.end = ((chunk: Uint8Array) => (seen.ends.push(chunk.length), end(chunk))) as never;
  return seen;
}

describe('sendInSlices', () => {
  it('sends the body whole and in order, one slice in the turn it is called, the rest later', async () => {
    const bytes = body();
    let seen: { writes: number[]; ends: number[] } | undefined;
    let inFirstTurn = -1;
    const server = await serve((_req, res) => {
      res.setHeader('Content-Length', bytes.length);
      seen = spy(res);
      sendInSlices(res, bytes, SLICE);
      void restOfTurn().then(() => (inFirstTurn = seen!.writes.length + seen!.ends.length));
    });
    try {
      const received = await new Promise<Buffer>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port: server.port, agent: false }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve(Buffer.concat(chunks)));
          })
          .on('error', reject);
      });
      expect(received.equals(bytes)).to.equal(true);
      expect(inFirstTurn).to.equal(1);
      expect(seen!.writes).to.deep.equal([SLICE, SLICE, SLICE, SLICE]);
      expect(seen!.ends).to.deep.equal([300_000 - 4 * SLICE]);
    } finally {
      server.close();
    }
  });

  it('writes a body of one slice or less with end alone', async () => {
    let seen: { writes: number[]; ends: number[] } | undefined;
    const server = await serve((_req, res) => {
      seen = spy(res);
      sendInSlices(res, body(SLICE), SLICE);
    });
    try {
      const length = await new Promise<number>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port: server.port, agent: false }, (res) => {
            let n = 0;
            res.on('data', (c: Buffer) => (n += c.length));
            res.on('end', () => resolve(n));
          })
          .on('error', reject);
      });
      expect(length).to.equal(SLICE);
      expect(seen).to.deep.equal({ writes: [], ends: [SLICE] });
    } finally {
      server.close();
    }
  });

  it('stops writing once the client has left, without an error', async () => {
    // 64 MB: more than the sockets' buffers hold, so the sender waits for a drain that never comes.
    const bytes = Buffer.alloc(64 * 1024 * 1024, 0x61);
    let seen: { writes: number[]; ends: number[] } | undefined;
    let closed: Promise<void> | undefined;
    const errors: Error[] = [];
    const server = await serve((_req, res) => {
      seen = spy(res);
      res.on('error', (error) => errors.push(error));
      closed = new Promise((resolve) => res.once('close', resolve));
      sendInSlices(res, bytes, SLICE);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: server.port, agent: false }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => undefined);
        req.on('timeout', reject);
      });
      await closed;
      const written = seen!.writes.length;
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(seen!.writes.length).to.equal(written);
      expect(written).to.be.below(bytes.length / SLICE - 1);
      expect(seen!.ends).to.deep.equal([]);
      expect(errors).to.deep.equal([]);
    } finally {
      server.close();
    }
  });
});
