/**
 * The servers `bench/peer.ts` puts under the Go load tool's clients, in the
 * main thread or in a Worker (`bench/peer_worker.ts`): the module's
 * `listenTls` and the runtime's own (`Deno.listenTls` in Deno, `node:tls` in
 * Bun), each either completing handshakes and closing, or echoing.
 *
 * @module
 */
import { createServer as nodeTlsServer, type TLSSocket } from "node:tls";
import { listenTls } from "../mod.ts";

/** What a server does with each connection. */
export type ServeMode = "handshake" | "echo";

/** Which implementation serves. */
export type Implementation = "ours" | "built-in";

/** Where to listen and with what. */
export interface ServeOptions {
  mode: ServeMode;
  cert: string;
  key: string;
  /** 0 for an ephemeral port. */
  port: number;
  /** Listen with SO_REUSEPORT (every listener on the port must). */
  reusePort?: boolean;
}

/** A running server. */
export interface Serving {
  port: number;
  /** Connections accepted so far (by node:tls: handshakes completed). */
  accepted(): number;
  close(): Promise<void>;
}

/** Anything with Deno-style read/write/close (the module's TlsConn, Deno.TlsConn). */
interface ReadWrite {
  handshake(): Promise<unknown>;
  read(buf: Uint8Array): Promise<number | null>;
  write(data: Uint8Array): Promise<number>;
  close(): void;
}

/** Writes all of `data` (a `write` may take part of it). */
export async function writeAll(
  conn: { write(data: Uint8Array): Promise<number> },
  data: Uint8Array,
): Promise<void> {
  for (let off = 0; off < data.length;) off += await conn.write(data.subarray(off));
}

/** Serves one accepted connection of a read/write API. */
function serveConn(conn: ReadWrite, mode: ServeMode): void {
  (async () => {
    await conn.handshake();
    if (mode === "echo") {
      const buf = new Uint8Array(16 * 1024);
      for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
        await writeAll(conn, buf.subarray(0, n));
      }
    }
  })().catch(() => {}).finally(() => {
    try {
      conn.close();
    } catch {
      // already closed
    }
  });
}

/** Serves with the module's `listenTls` on 127.0.0.1. */
export async function serveOurs(options: ServeOptions): Promise<Serving> {
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: options.port,
    cert: options.cert,
    key: options.key,
    reusePort: options.reusePort,
  });
  let accepted = 0;
  const loop = (async () => {
    for await (const conn of listener) {
      accepted++;
      serveConn(conn, options.mode);
    }
  })().catch(() => {});
  return {
    port: listener.addr.port,
    accepted: () => accepted,
    async close(): Promise<void> {
      listener.close();
      await loop;
    },
  };
}

/** Whether the runtime's own server can listen with SO_REUSEPORT here. */
export function builtInReusePort(): boolean {
  // Deno.listenTls takes reusePort only with --unstable-net (which also brings listenDatagram).
  return "Bun" in globalThis || "listenDatagram" in Deno;
}

/** Serves with `Deno.listenTls` (Deno) or `node:tls` (Bun) on 127.0.0.1. */
export async function serveBuiltIn(options: ServeOptions): Promise<Serving> {
  if (!("Bun" in globalThis)) {
    const listener = Deno.listenTls({
      hostname: "127.0.0.1",
      port: options.port,
      cert: options.cert,
      key: options.key,
      ...(options.reusePort ? { reusePort: true } : {}),
    });
    let accepted = 0;
    const loop = (async () => {
      for await (const conn of listener) {
        accepted++;
        serveConn(conn, options.mode);
      }
    })().catch(() => {});
    return {
      port: listener.addr.port,
      accepted: () => accepted,
      async close(): Promise<void> {
        listener.close();
        await loop;
      },
    };
  }
  const sockets = new Set<TLSSocket>();
  let accepted = 0;
  const server = nodeTlsServer({ cert: options.cert, key: options.key }, (socket) => {
    accepted++;
    socket.on("error", () => {});
    if (options.mode === "handshake") {
      // end(), not destroy(): in Bun the handshake can report done before its last flight left.
      socket.end();
      return;
    }
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.setNoDelay(true);
    socket.on("data", (chunk: Uint8Array) => socket.write(chunk));
    socket.on("end", () => socket.end());
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(
      { host: "127.0.0.1", port: options.port, reusePort: options.reusePort === true },
      () => resolve(),
    );
  });
  return {
    port: (server.address() as { port: number }).port,
    accepted: () => accepted,
    async close(): Promise<void> {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Serves with `implementation`. */
export function serve(implementation: Implementation, options: ServeOptions): Promise<Serving> {
  return implementation === "ours" ? serveOurs(options) : serveBuiltIn(options);
}
