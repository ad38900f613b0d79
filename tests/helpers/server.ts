/** A test server made with the module's own listenTls, and a client's one request to it. */
import {
  connectTls,
  type HandshakeInfo,
  listenTls,
  type ListenTlsOptions,
  type TlsClientOptions,
  type TlsConn,
  type TlsError,
  type TlsListener,
} from "../../mod.ts";
import { readAll } from "./io.ts";
import { pki } from "./pki.ts";

/** What the test server saw. */
export interface TestServer {
  listener: TlsListener;
  port: number;
  /** HandshakeInfo of each connection that completed its handshake. */
  infos: HandshakeInfo[];
  /** Errors of connections that failed. */
  errors: TlsError[];
  /** Resolves when `count` connections have finished (either way). */
  finished(count: number): Promise<void>;
  close(): void;
}

/**
 * Answers each connection once: reads one chunk and replies `echo:<chunk>`
 * (or an HTTP/1.1 response to a GET), then close_notify and close.
 */
export async function answerServer(options: Partial<ListenTlsOptions>): Promise<TestServer> {
  const listener = await listenTls({ hostname: "127.0.0.1", port: 0, ...options });
  const infos: HandshakeInfo[] = [];
  const errors: TlsError[] = [];
  let done = 0;
  const waiters: { count: number; resolve: () => void }[] = [];
  const finishOne = () => {
    done++;
    for (const w of waiters.filter((w) => done >= w.count)) w.resolve();
  };
  const handle = async (conn: TlsConn) => {
    try {
      infos.push(await conn.handshake());
      const buf = new Uint8Array(16 * 1024);
      const n = await conn.read(buf);
      const request = new TextDecoder().decode(buf.subarray(0, n ?? 0));
      const reply = request.startsWith("GET ")
        ? "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 21\r\nConnection: close\r\n\r\nhello from rustls-js\n"
        : `echo:${request}`;
      await conn.write(new TextEncoder().encode(reply));
      await conn.closeWrite();
    } catch (error) {
      errors.push(error as TlsError);
    } finally {
      conn.close();
      finishOne();
    }
  };
  (async () => {
    for await (const conn of listener) void handle(conn);
  })();
  return {
    listener,
    port: listener.addr.port,
    infos,
    errors,
    finished: (count) =>
      done >= count
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ count, resolve })),
    close: () => listener.close(),
  };
}

/**
 * One request to a test server on 127.0.0.1: connect as "localhost" trusting
 * the basic PKI's CA (unless `options` say otherwise), send `message`, read
 * the answer until the server's close_notify.
 */
export async function ask(
  port: number,
  options: Partial<TlsClientOptions> & { hostname?: string } = {},
  message = "hi",
): Promise<{ info: HandshakeInfo; answer: string }> {
  const conn = await connectTls({
    hostname: "127.0.0.1",
    port,
    caCerts: [pki().ca.cert],
    serverName: "localhost",
    ...options,
  });
  const info = await conn.handshake();
  await conn.write(new TextEncoder().encode(message));
  const answer = new TextDecoder().decode(await readAll(conn));
  conn.close();
  return { info, answer };
}
