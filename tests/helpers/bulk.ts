/**
 * Bulk transfers for the interop tests (tests/interop/jsse.test.ts,
 * tests/interop/nss.test.ts): random payloads, an echo server on listenTls that
 * keeps what it received, the client's send-and-read-back over connectTls, and
 * a deadline for anything awaited.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  connectTls,
  type HandshakeInfo,
  listenTls,
  type ListenTlsOptions,
  type TlsConn,
  type TlsVersion,
} from "../../mod.ts";
import { assertSameBytes, readExactly } from "./io.ts";

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

/** A peer echo server that reports its version and byte count (JSSE's, NSS's). */
export interface ReportingEchoServer {
  port: number;
  output(): string;
  succeeded(): Promise<void>;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

/**
 * The module's client against a peer's echo server: `version` negotiated
 * (as both sides see it), 16 MiB sent and read back byte-exact, close_notify
 * answered with the peer's own, the peer's byte count and clean exit.
 */
export async function echoThroughPeerServer(
  peer: ReportingEchoServer,
  options: { caCert: string; version: TlsVersion; name: string },
): Promise<void> {
  const { caCert, version, name } = options;
  const data = randomBytes(BULK_BYTES);
  const conn = await connectTls({
    hostname: "127.0.0.1",
    port: peer.port,
    serverName: "localhost",
    caCerts: [caCert],
  });
  try {
    const info = await conn.handshake();
    assert.equal(info.protocol, version);
    assert.equal((await peer.waitFor(/PROTOCOL (\S+)/))[1], version, `${name}'s view`);
    const { echoed, peerClosedCleanly } = await withDeadline(
      sendAndReadBack(conn, data),
      100_000,
      `16 MiB echo through ${name}`,
      peer.output,
    );
    assertSameBytes(echoed, data, `echoed by ${name}`);
    assert.ok(peerClosedCleanly, `${name} answers close_notify with its own`);
  } finally {
    conn.close();
  }
  assert.equal((await peer.waitFor(/ECHOED (\d+)/))[1], String(BULK_BYTES));
  await withDeadline(peer.succeeded(), 10_000, `${name} exit`, peer.output);
}

/** A peer client process (JSSE's, NSS's tstclnt). */
export interface BulkPeerClient {
  output(): string;
  succeeded(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A peer's client against the module's echo server: `start` launches it
 * for the server's port and the 16 MiB payload's files; once both ended,
 * `check` judges the outcome (the server's `info` and what it received are
 * checked here: `version`, the name `localhost`, the bytes), before
 * everything is cleaned up.
 */
export async function peerClientThroughEcho<C extends BulkPeerClient>(
  identity: { cert: string; key: string },
  options: { version: TlsVersion; name: string },
  start: (port: number, files: { send: string; receive: string }) => C,
  check: (outcome: EchoOutcome, client: C, data: Uint8Array, receivePath: string) => void,
): Promise<void> {
  const data = randomBytes(BULK_BYTES);
  const files = bulkFiles(data);
  let echo: BulkEchoServer | undefined;
  let client: C | undefined;
  try {
    echo = await bulkEchoServer(identity, BULK_BYTES);
    client = start(echo.port, files);
    const [outcome] = await withDeadline(
      Promise.all([echo.outcome, client.succeeded()]),
      100_000,
      `16 MiB from ${options.name}, echoed by listenTls`,
      client.output,
    );
    assert.equal(outcome.info.protocol, options.version);
    assert.equal(outcome.info.serverName, "localhost");
    assertSameBytes(outcome.received, data, "received by listenTls");
    check(outcome, client, data, files.receive);
    assert.ok(outcome.peerClosedCleanly, `${options.name}'s close: ${outcome.closeError}`);
  } finally {
    echo?.close();
    await client?.stop();
    files.remove();
  }
}
