// The client address the metrics route's failed-auth limit keys on: what socket.remoteAddress
// says, read from the connection's handle, without writing anything to the socket (the getter
// caches its answer on the socket, which gives the scraper's connection a shape of its own).
// Over real TCP, TLS, HTTP/2 and Unix-socket connections.
import { mkdtempSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { expect } from './helpers/chai';
import { makeCertificate, type TestCertificate } from './helpers/protocols';
import { peerAddress } from '../src/route/peer-address';

/** The socket's own property names and symbols, as a sorted list (their order is not compared). */
function ownKeys(socket: object): string[] {
  return Reflect.ownKeys(socket)
    .map((key) => String(key))
    .sort();
}

/** Serves one connection of `connect()` and hands its server side to `check`. */
async function withConnection(
  server: net.Server,
  listen: (done: () => void) => void,
  connect: () => { destroy(): void },
  check: (serverSide: net.Socket) => void | Promise<void>,
): Promise<void> {
  const accepted = new Promise<net.Socket>((resolve) => {
    server.once(server instanceof tls.Server ? 'secureConnection' : 'connection', resolve);
  });
  await new Promise<void>((resolve) => listen(resolve));
  const client = connect();
  try {
    await check(await accepted);
  } finally {
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('peerAddress', () => {
  it('reads a TCP peer as remoteAddress does, and leaves the socket as it was', async () => {
    const server = net.createServer();
    let port = 0;
    await withConnection(
      server,
      (done) =>
        server.listen(0, '127.0.0.1', () => {
          port = (server.address() as net.AddressInfo).port;
          done();
        }),
      () => net.connect(port, '127.0.0.1'),
      (socket) => {
        const before = ownKeys(socket);
        expect(peerAddress(socket)).to.equal('127.0.0.1');
        expect(peerAddress(socket)).to.equal('127.0.0.1');
        expect(ownKeys(socket)).to.deep.equal(before);
        // The getter, by contrast, writes its cache onto the socket: the property avoided.
        expect(socket.remoteAddress).to.equal('127.0.0.1');
        expect(ownKeys(socket)).to.not.deep.equal(before);
        // Once cached, the answer is the same.
        expect(peerAddress(socket)).to.equal('127.0.0.1');
      },
    );
  });

  describe('over TLS', () => {
    let dir: string;
    let certificate: TestCertificate;
    before(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'scanopy-peer-'));
      certificate = makeCertificate(dir);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('reads the peer of a TLS socket without writing to it', async () => {
      const server = tls.createServer(certificate);
      let port = 0;
      await withConnection(
        server,
        (done) =>
          server.listen(0, '127.0.0.1', () => {
            port = (server.address() as net.AddressInfo).port;
            done();
          }),
        () => tls.connect({ port, host: '127.0.0.1', ca: certificate.cert }),
        (socket) => {
          const before = ownKeys(socket);
          expect(peerAddress(socket)).to.equal('127.0.0.1');
          expect(ownKeys(socket)).to.deep.equal(before);
        },
      );
    });

    it("reads the peer of an HTTP/2 request's socket", async () => {
      const server = http2.createSecureServer(certificate);
      const seen: string[] = [];
      server.on('request', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
        seen.push(peerAddress(req.socket));
        res.end('ok');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as net.AddressInfo;
      const session = http2.connect(`https://127.0.0.1:${port}`, { ca: certificate.cert });
      try {
        await new Promise<void>((resolve, reject) => {
          const stream = session.request({ ':path': '/' });
          stream.on('error', reject);
          stream.resume();
          stream.on('end', resolve);
          stream.end();
        });
      } finally {
        session.close();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      expect(seen).to.deep.equal(['127.0.0.1']);
    });
  });

  it('answers "unknown" for a Unix-socket peer, which has no address', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'scanopy-peer-'));
    const file = path.join(dir, 's.sock');
    const server = net.createServer();
    try {
      await withConnection(
        server,
        (done) => server.listen(file, done),
        () => net.connect(file),
        (socket) => {
          expect(peerAddress(socket)).to.equal('unknown');
        },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('falls back to remoteAddress once the handle is gone, and to "unknown" without one', async () => {
    const server = net.createServer();
    let port = 0;
    await withConnection(
      server,
      (done) =>
        server.listen(0, '127.0.0.1', () => {
          port = (server.address() as net.AddressInfo).port;
          done();
        }),
      () => net.connect(port, '127.0.0.1'),
      async (socket) => {
        socket.destroy();
        await new Promise((resolve) => socket.once('close', resolve));
        // Destroyed: no handle to ask, and nothing was cached.
        expect(peerAddress(socket)).to.equal('unknown');
      },
    );
    expect(peerAddress(undefined)).to.equal('unknown');
    const throwing = {
      get _handle(): never {
        throw new Error('ERR_HTTP2_SOCKET_UNBOUND');
      },
    };
    expect(peerAddress(throwing)).to.equal('unknown');
    expect(peerAddress({ _handle: null, remoteAddress: '10.0.0.7' })).to.equal('10.0.0.7');
  });
});
