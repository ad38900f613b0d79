/**
 * The runtime's own TLS server as an echo peer: `Deno.listenTls` (rustls)
 * under Deno, `node:tls` (BoringSSL) under Bun.
 */
import { createServer as createTlsServer } from "node:tls";
import type { Peer } from "./peers.ts";

/** Options of the built-in echo server. */
export interface RuntimeServerOptions {
  cert: string;
  key: string;
  alpnProtocols?: string[];
}

/** Starts the runtime's own TLS echo server on 127.0.0.1. */
export async function runtimeTlsServer(options: RuntimeServerOptions): Promise<Peer> {
  if ("Bun" in globalThis) return await nodeTlsServer(options);
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: options.cert,
    key: options.key,
    alpnProtocols: options.alpnProtocols,
  });
  const conns = new Set<Deno.Conn>();
  const serving = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      conn.readable.pipeTo(conn.writable).catch(() => {}).finally(() => conns.delete(conn));
    }
  })().catch(() => {});
  return {
    port: listener.addr.port,
    output: () => "",
    stop: async () => {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
      await serving;
    },
  };
}

async function nodeTlsServer(options: RuntimeServerOptions): Promise<Peer> {
  const sockets = new Set<{ destroy(): void }>();
  const server = createTlsServer({
    cert: options.cert,
    key: options.key,
    ALPNProtocols: options.alpnProtocols,
  }, (socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    output: () => "",
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
