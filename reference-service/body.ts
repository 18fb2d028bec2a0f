// Reads a JSON request body without a body-parser dependency, with a hard size limit.
import type Koa from 'koa';

export const BODY_LIMIT_BYTES = 1024 * 1024;

// After a 413 the rest of the body is still on the wire; closing the connection once the response
// is sent keeps it from being parsed as the next request.
function tooLarge(ctx: Koa.Context): never {
  ctx.req.resume(); // discard what keeps arriving, so the client is not left blocked mid-write
  return ctx.throw(413, `Request body exceeds ${BODY_LIMIT_BYTES} bytes`, {
    headers: { Connection: 'close' },
  });
}

async function readRawBody(ctx: Koa.Context, limit: number): Promise<Buffer> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) tooLarge(ctx);

  const chunks: Buffer[] = [];
  let size = 0;
  // `destroyOnReturn: false`: leaving the loop early must not destroy the socket, or the 413
  // could not be sent.
  for await (const chunk of ctx.req.iterator({ destroyOnReturn: false })) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) tooLarge(ctx);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, size);
}

/** The parsed body; 413 beyond `limit` bytes, 400 when it is not JSON. */
export async function readJsonBody(ctx: Koa.Context, limit = BODY_LIMIT_BYTES): Promise<unknown> {
  const raw = await readRawBody(ctx, limit);
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    return ctx.throw(400, 'Request body is not valid JSON');
  }
}
