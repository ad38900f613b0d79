/**
 * The raw-fd transport: a non-blocking TCP socket made through FFI, whose
 * records move with the library's fused calls (socket <-> rustls in one FFI
 * crossing, no copy through JS).
 *
 * @module
 */
import { closedError, errnoError, TlsError } from "./errors.ts";
import { cString, fromUtf8, type NativeLibrary, outCell, type Pointer } from "./native.ts";
import { READABLE, readiness, type Watch, WRITABLE } from "./readiness.ts";
import type { TlsSession } from "./session.ts";
import type { TlsTransport } from "./transport.ts";
import type { NetAddr } from "./types.ts";

/** A TLS transport over a socket fd owned by this object. */
export class FdTransport implements TlsTransport {
  /** The `[bytes, errno, flags, 0]` block of the last `recv`/`send`. */
  readonly state: Uint32Array = new Uint32Array(4);
  readonly #lib: NativeLibrary;
  readonly #fd: number;
  readonly #watch: Watch;
  #closed = false;
  #localAddr?: NetAddr;
  #remoteAddr?: NetAddr;

  /** Takes ownership of the non-blocking socket `fd`. */
  constructor(lib: NativeLibrary, fd: number) {
    this.#lib = lib;
    this.#fd = fd;
    this.#watch = readiness(lib).watch(fd);
  }

  /**
   * Connects to `ip:port` without blocking; rejects with `CONNECTION_REFUSED`,
   * `NETWORK_ERROR`, `ABORTED` or `TIMED_OUT`.
   */
  static async connect(
    lib: NativeLibrary,
    ip: string,
    port: number,
    signal?: AbortSignal,
  ): Promise<FdTransport> {
    const fdCell = new Int32Array(1);
    const pending = new Uint32Array(1);
    const errno = lib.symbols.rustls_sockets_tcp_connect(cString(ip), port, fdCell, pending);
    if (errno !== 0) throw errnoError(errno, `connecting to ${formatHost(ip)}:${port}`);
    const transport = new FdTransport(lib, fdCell[0]);
    try {
      if (pending[0]) {
        await transport.waitWritable(signal);
        const failed = lib.symbols.rustls_sockets_socket_take_error(fdCell[0]);
        if (failed !== 0) throw errnoError(failed, `connecting to ${formatHost(ip)}:${port}`);
      }
      return transport;
    } catch (error) {
      transport.close();
      throw error;
    }
  }

  /** The socket. */
  get fd(): number {
    return this.#fd;
  }

  /** Local address. */
  get localAddr(): NetAddr {
    return this.#localAddr ??= this.#address(false);
  }

  /** Remote address. */
  get remoteAddr(): NetAddr {
    return this.#remoteAddr ??= this.#address(true);
  }

  #address(peer: boolean): NetAddr {
    if (this.#closed) throw closedError();
    const buf = new Uint8Array(64);
    const n = outCell();
    const port = new Uint16Array(1);
    const errno = this.#lib.symbols.rustls_sockets_socket_address(
      this.#fd,
      peer ? 1 : 0,
      buf,
      buf.length,
      n,
      port,
    );
    if (errno !== 0) throw errnoError(errno, peer ? "getpeername" : "getsockname");
    return { transport: "tcp", hostname: fromUtf8(buf.subarray(0, Number(n[0]))), port: port[0] };
  }

  /** See {@link TlsTransport.recv}. */
  recv(session: TlsSession, buf: Uint8Array | null): number {
    if (this.#closed) throw closedError();
    return this.#lib.symbols.rustls_sockets_connection_recv_fd(
      session.handle,
      this.#fd,
      buf,
      buf?.length ?? 0,
      this.state,
    );
  }

  /** See {@link TlsTransport.send}. */
  send(session: TlsSession, data: Uint8Array | null): number {
    if (this.#closed) throw closedError();
    return this.#lib.symbols.rustls_sockets_connection_send_fd(
      session.handle,
      this.#fd,
      data,
      data?.length ?? 0,
      this.state,
    );
  }

  /** See {@link TlsTransport.recvHello}. */
  recvHello(acceptor: Pointer, out: BigUint64Array): number {
    if (this.#closed) throw closedError();
    return this.#lib.symbols.rustls_sockets_acceptor_recv_fd(acceptor, this.#fd, out, this.state);
  }

  /** See {@link TlsTransport.intoConnection}. */
  intoConnection(accepted: Pointer, config: Pointer, out: BigUint64Array): number {
    if (this.#closed) throw closedError();
    return this.#lib.symbols.rustls_sockets_accepted_into_connection(
      accepted,
      config,
      this.#fd,
      out,
      null,
      0,
      null,
    );
  }

  /** See {@link TlsTransport.sendRaw}. */
  sendRaw(bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#lib.symbols.rustls_sockets_socket_send(this.#fd, bytes, bytes.length, outCell());
  }

  /** See {@link TlsTransport.waitReadable}. */
  waitReadable(signal?: AbortSignal): Promise<void> {
    return this.#watch.wait(READABLE, signal);
  }

  /** See {@link TlsTransport.waitWritable}. */
  waitWritable(signal?: AbortSignal): Promise<void> {
    return this.#watch.wait(WRITABLE, signal);
  }

  /** See {@link TlsTransport.shutdownWrite}. */
  shutdownWrite(): void {
    if (this.#closed) throw closedError();
    const errno = this.#lib.symbols.rustls_sockets_socket_shutdown(this.#fd, 1);
    if (errno !== 0 && errno !== 107 /* ENOTCONN: the peer is gone already */) {
      throw errnoError(errno, "shutting down the write side");
    }
  }

  /** See {@link TlsTransport.close}. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watch.forget();
    this.#lib.symbols.rustls_sockets_socket_close(this.#fd);
  }
}

/** `host` as it appears before `:port` (IPv6 in brackets). */
export function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** Throws `INVALID_CONFIG` unless `port` is a TCP port number. */
export function checkPort(port: unknown, allowZero = false): number {
  if (
    typeof port !== "number" || !Number.isInteger(port) || port < (allowZero ? 0 : 1) ||
    port > 65535
  ) {
    throw new TlsError("INVALID_CONFIG", `port must be an integer from 1 to 65535, not ${port}`);
  }
  return port;
}
