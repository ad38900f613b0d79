/** Small I/O helpers for tests: reads, bytes and text, expected errors, stream pipes. */
import assert from "node:assert/strict";
import type { StreamPair, TlsConn } from "../../mod.ts";

/** Reads until `count` bytes arrived (or the stream ended), at most `piece` bytes per read. */
export async function readExactly(
  conn: TlsConn,
  count: number,
  piece = count,
): Promise<Uint8Array> {
  const out = new Uint8Array(count);
  let have = 0;
  while (have < count) {
    const n = await conn.read(out.subarray(have, Math.min(count, have + piece)));
    if (n === null) break;
    have += n;
  }
  return out.subarray(0, have);
}

/** Reads until the peer's clean close. */
export async function readAll(conn: TlsConn): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
  }
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** DER bytes of the first certificate in a PEM text. */
export function pemToDer(pem: string): Uint8Array {
  const body = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0];
  const binary = atob(body.replace(/\s+/g, ""));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** UTF-8 bytes. */
export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
/** UTF-8 decode. */
export const str = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Expects `promise` to reject with a TlsError of `code`; returns it. */
export async function rejectsWithCode(
  promise: Promise<unknown>,
  code: string,
): Promise<Error & { code: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { code?: string };
    if (e.code !== code) {
      throw new Error(`expected code ${code}, got ${e.code ?? "none"}: ${e.message}`, {
        cause: error,
      });
    }
    return e as Error & { code: string };
  }
  throw new Error(`expected a rejection with code ${code}, but it resolved`);
}

/** Whether two byte arrays are equal. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return firstDifference(a, b) === -1;
}

/** The first offset at which `a` and `b` differ (a length counts), or -1 when they are equal. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const common = Math.min(a.length, b.length);
  for (let i = 0; i < common; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : common;
}

/** Fails unless `actual` equals `expected`, naming the first differing offset. */
export function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  assert.equal(
    actual.length,
    expected.length,
    `${what}: ${actual.length} bytes, not ${expected.length}`,
  );
  const at = firstDifference(actual, expected);
  if (at >= 0) assert.fail(`${what}: the bytes differ from offset ${at}`);
}

/** Two Web Streams pairs joined crosswise: what one writes, the other reads. */
export function streamPipe(): [StreamPair, StreamPair] {
  const aToB = new TransformStream<Uint8Array, Uint8Array>();
  const bToA = new TransformStream<Uint8Array, Uint8Array>();
  return [
    { readable: bToA.readable, writable: aToB.writable },
    { readable: aToB.readable, writable: bToA.writable },
  ];
}
