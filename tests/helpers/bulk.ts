/**
 * Bulk transfers for the interop tests (tests/jsse_peer.test.ts,
 * tests/nss_peer.test.ts): random payloads, an echo server on listenTls that
 * keeps what it received, the client's send-and-read-back over connectTls, and
 * a deadline for anything awaited.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type HandshakeInfo, listenTls, type ListenTlsOptions, type TlsConn } from "../../mod.ts";
import { readExactly } from "./io.ts";

/** The payload size of the bulk tests. */
export const BULK_BYTES = 16 * 1024 * 1024;

/** `size` random bytes. */
export function randomBytes(size: number): Uint8Array {
  const data = new Uint8Array(size);
  for (let at = 0; at < size; at += 65536) {
    crypto.getRandomValues(data.subarray(at, Math.min(size, at + 65536)));
  }
  return data;
}

/** Fails unless `actual` equals `expected`, naming the first differing offset. */
export function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  assert.equal(
    actual.length,
    expected.length,
    `${what}: ${actual.length} bytes, not ${expected.length}`,
  );
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) assert.fail(`${what}: the bytes differ from offset ${i}`);
  }
}

/** A temp dir with `send` (holding `data`) and a path for `receive`; `remove()` deletes it. */
export function bulkFiles(data: Uint8Array): { send: string; receive: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "rustls-sockets-bulk-"));
  const send = join(dir, "send.bin");
  writeFileSync(send, data);
  return {
    send,
    receive: join(dir, "receive.bin"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** `promise`, or a rejection after `ms` naming `what`; `context()` is added to either failure. */
export async function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  context: () => string = () => "",
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
      }),
    ]);
  } catch (error) {
    const extra = context();
    throw extra ? new Error(`${(error as Error).message}\n--- peer output:\n${extra}`) : error;
  } finally {
    clearTimeout(timer);
  }
}

/** What the echo server saw of its one connection. */
export interface EchoOutcome {
  info: HandshakeInfo;
  /** Every byte received, in order (the echo's source). */
  received: Uint8Array;
  /** After our close_notify: whether the peer's own close_notify came (read() === null). */
  peerClosedCleanly: boolean;
  /** Otherwise the code of what came instead. */
  closeError?: string;
}

/** A running {@link bulkEchoServer}. */
export interface BulkEchoServer {
  port: number;
  /** Settles when its one connection ended. */
  outcome: Promise<EchoOutcome>;
  close(): void;
}

/**
 * A listenTls server on 127.0.0.1 for one connection: it echoes the first
 * `size` bytes (reading on while a write waits, so a peer that reads only
 * between its writes cannot deadlock it), then sends close_notify and waits
 * for the peer's.
 */
export async function bulkEchoServer(
  options: Partial<ListenTlsOptions>,
  size: number,
): Promise<BulkEchoServer> {
  const listener = await listenTls({ hostname: "127.0.0.1", port: 0, ...options });
  const serve = async (): Promise<EchoOutcome> => {
    const conn = await listener.accept();
    listener.close();
    try {
      const info = await conn.handshake();
      const received = new Uint8Array(size);
      let have = 0;
      let wake: (() => void) | undefined;
      let readFailure: unknown;
      const reading = (async () => {
        try {
          while (have < size) {
            const n = await conn.read(received.subarray(have));
            if (n === null) throw new Error(`the peer closed after ${have} of ${size} bytes`);
            have += n;
            wake?.();
          }
        } catch (error) {
          readFailure = error;
          wake?.();
          throw error;
        }
      })();
      const writing = (async () => {
        let sent = 0;
        while (sent < size) {
          if (readFailure) return;
          if (have === sent) {
            await new Promise<void>((resolve) => (wake = resolve));
            continue;
          }
          const end = have;
          await conn.write(received.subarray(sent, end));
          sent = end;
        }
        await conn.closeWrite();
      })();
      await Promise.all([reading, writing]);
      try {
        const extra = await conn.read(new Uint8Array(1));
        if (extra !== null) throw new Error(`the peer sent more than ${size} bytes`);
        return { info, received, peerClosedCleanly: true };
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (!code) throw error;
        return { info, received, peerClosedCleanly: false, closeError: code };
      }
    } finally {
      conn.close();
    }
  };
  return { port: listener.addr.port, outcome: serve(), close: () => listener.close() };
}

/**
 * Writes `data` (in 256 KiB pieces) while reading as many bytes back, then
 * sends close_notify and reads on: `peerClosedCleanly` is whether the peer
 * answered with its own close_notify.
 */
export async function sendAndReadBack(
  conn: TlsConn,
  data: Uint8Array,
): Promise<{ echoed: Uint8Array; peerClosedCleanly: boolean }> {
  const writing = (async () => {
    for (let at = 0; at < data.length; at += 256 * 1024) {
      await conn.write(data.subarray(at, Math.min(data.length, at + 256 * 1024)));
    }
  })();
  writing.catch(() => {}); // awaited below; a failed read must not leave it unhandled
  const echoed = await readExactly(conn, data.length);
  await writing;
  await conn.closeWrite();
  const after = await conn.read(new Uint8Array(1));
  return { echoed, peerClosedCleanly: after === null };
}
