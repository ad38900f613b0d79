/**
 * `listenTls` and `TlsListener`: a non-blocking listening socket whose
 * accepted connections are `TlsConn`s with a deferred handshake.
 *
 * @module
 */
import { serverStarter } from "./accept.ts";
import { TlsConn } from "./conn.ts";
import { errnoError, TlsError } from "../core/errors.ts";
import { FdTransport } from "../transports/fd_transport.ts";
import { listenSocket } from "../sockets/socket.ts";
import { SocketListener } from "../sockets/socket_listener.ts";
import { keyLogSink } from "../config/keylog.ts";
import { native, type NativeLibrary } from "../core/native.ts";
import { ServerSetup } from "../config/server_config.ts";
import { checkTimeout, SERVER_HANDSHAKE_TIMEOUT_MS } from "../core/timeout.ts";
import type { ListenTlsOptions, NetAddr, UnixAddr } from "../core/types.ts";

/** A listening TLS socket. Iterate it, or call `accept()`, to get connections. */
export class TlsListener<A extends NetAddr | UnixAddr = NetAddr>
  extends SocketListener<TlsConn, A> {
  readonly #lib: NativeLibrary;
  readonly #setup: ServerSetup;
  readonly #handshakeTimeout: number | undefined;
  readonly #verifyPeer: ListenTlsOptions["verifyPeer"];
  readonly #keyLog: ((line: string) => void) | undefined;

  /** @internal Use {@link listenTls}. */
  constructor(
    lib: NativeLibrary,
    fd: number,
    setup: ServerSetup,
    handshakeTimeout: number | undefined,
    verifyPeer?: ListenTlsOptions["verifyPeer"],
    path?: string,
    keyLog?: (line: string) => void,
  ) {
    super(lib, fd, path, () => setup.close());
    this.#lib = lib;
    this.#setup = setup;
    this.#handshakeTimeout = handshakeTimeout;
    this.#verifyPeer = verifyPeer;
    this.#keyLog = keyLog;
  }

  /**
   * The connection, as soon as its TCP connection exists; its handshake runs
   * on `handshake()` or its first read or write (one slow client never
   * delays the others).
   */
  protected wrap(fd: number): TlsConn {
    const lib = this.#lib;
    const transport = new FdTransport(lib, fd);
    return new TlsConn(serverStarter(lib, transport, this.#setup), transport, {
      timeout: this.#handshakeTimeout,
      verify: this.#verifyPeer,
      keyLog: this.#keyLog,
      exporter: this.#setup.exporter,
    });
  }

  /** The configurations live on until accepted connections no longer need them. */
  protected override onClose(): void {
    this.#setup.close();
  }
}

/**
 * Listens for TLS connections.
 *
 * @example
 * ```ts
 * const listener = await listenTls({ port: 8443, cert, key, alpnProtocols: ["http/1.1"] });
 * for await (const conn of listener) {
 *   (async () => {
 *     const info = await conn.handshake();
 *     await conn.write(new TextEncoder().encode(`hello ${info.serverName}\n`));
 *     await conn.closeWrite();
 *     conn.close();
 *   })().catch(() => {});
 * }
 * ```
 */
export function listenTls(
  options: ListenTlsOptions & { path: string },
): Promise<TlsListener<UnixAddr>>;
/** Listens for TLS connections on TCP (see the overload above for the example). */
export function listenTls(options: ListenTlsOptions): Promise<TlsListener<NetAddr>>;
export async function listenTls(
  options: ListenTlsOptions,
): Promise<TlsListener<NetAddr> | TlsListener<UnixAddr>> {
  if (options === null || typeof options !== "object") {
    throw new TlsError("INVALID_CONFIG", "listenTls needs an options object");
  }
  const timeout = checkTimeout(options.handshakeTimeout, SERVER_HANDSHAKE_TIMEOUT_MS);
  const lib = await native();
  const setup = new ServerSetup(lib, options);
  let fd: number;
  try {
    fd = options.fd !== undefined
      ? adopt(lib, options.fd)
      : listenSocket(lib, options.path !== undefined ? { path: options.path } : options);
  } catch (error) {
    setup.free();
    throw error;
  }
  try {
    if (options.verifyPeer !== undefined && typeof options.verifyPeer !== "function") {
      throw new TlsError("INVALID_CONFIG", "verifyPeer must be a function");
    }
    return new TlsListener<NetAddr | UnixAddr>(
      lib,
      fd,
      setup,
      timeout,
      options.verifyPeer,
      options.path,
      keyLogSink(options.keyLog),
    ) as TlsListener<NetAddr>;
  } catch (error) {
    lib.symbols.rustls_sockets_socket_close(fd);
    setup.free();
    throw error;
  }
}

function adopt(lib: NativeLibrary, fd: number): number {
  if (!Number.isInteger(fd) || fd < 0) {
    throw new TlsError("INVALID_CONFIG", `fd must be a file descriptor number, not ${fd}`);
  }
  const errno = lib.symbols.rustls_sockets_socket_set_nonblocking(fd);
  if (errno !== 0) throw errnoError(errno, `adopting listening socket ${fd}`);
  return fd;
}
