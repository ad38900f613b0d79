/**
 * Non-blocking sockets made through the library: connecting (TCP and
 * Unix-domain), listening, addresses, port checks. Each function returns a
 * socket fd that the caller owns and closes.
 *
 * @module
 */
import { errnoError, TlsError } from "../core/errors.ts";
import { abortError } from "../core/abort.ts";
import { cString, fromUtf8, type NativeLibrary, outCell } from "../core/native.ts";
import { INTEREST, LISTEN } from "../../ffi/constants.ts";
import { readiness } from "../runtime/readiness.ts";
import { isIpLiteral } from "./resolve.ts";
import type { Addr } from "../core/types.ts";

/** The listen backlog of every listening socket. */
const BACKLOG = 1024;

/**
 * Connects to `ip:port` without blocking; rejects with `CONNECTION_REFUSED`,
 * `NETWORK_ERROR`, `ABORTED` or `TIMED_OUT`. Resolves to the connected fd.
 */
export async function connectTcpSocket(
  lib: NativeLibrary,
  ip: string,
  port: number,
  signal?: AbortSignal,
): Promise<number> {
  const address = cString(ip);
  // socket() + connect() on a worker: on loopback the kernel runs the TCP handshake inline.
  const [errno, fd, pending] = await readiness(lib).runJob((poller, token) =>
    lib.symbols.rustls_sockets_poller_submit_connect(poller, address, port, token)
  );
  if (errno !== 0) throw errnoError(errno, `connecting to ${formatHost(ip)}:${port}`);
  return await connected(lib, fd, pending !== 0, `${formatHost(ip)}:${port}`, signal);
}

/** Connects to the Unix-domain socket at `path`; rejects like {@link connectTcpSocket}. */
export async function connectUnixSocket(
  lib: NativeLibrary,
  path: string,
  signal?: AbortSignal,
): Promise<number> {
  const fdCell = new Int32Array(1);
  const pendingCell = new Uint32Array(1);
  const errno = lib.symbols.rustls_sockets_unix_connect(cString(path), fdCell, pendingCell);
  if (errno !== 0) throw errnoError(errno, `connecting to ${path}`);
  return await connected(lib, fdCell[0], pendingCell[0] !== 0, path, signal);
}

/** Waits for a pending connect on `fd` to finish; closes `fd` if it fails or is aborted. */
async function connected(
  lib: NativeLibrary,
  fd: number,
  pending: boolean,
  peer: string,
  signal: AbortSignal | undefined,
): Promise<number> {
  try {
    if (signal?.aborted) throw abortError(signal);
    if (pending) {
      const watch = readiness(lib).watch(fd);
      try {
        await watch.wait(INTEREST.WRITABLE, signal);
      } finally {
        watch.forget();
      }
      const failed = lib.symbols.rustls_sockets_socket_take_error(fd);
      if (failed !== 0) throw errnoError(failed, `connecting to ${peer}`);
    }
    return fd;
  } catch (error) {
    lib.symbols.rustls_sockets_socket_close(fd);
    throw error;
  }
}

/** A listening socket (TCP, or Unix-domain with `path`): its fd. */
export function listenSocket(
  lib: NativeLibrary,
  options: { path: string } | { hostname?: string; port?: number; reusePort?: boolean },
): number {
  const fdCell = new Int32Array(1);
  if ("path" in options && options.path !== undefined) {
    if (typeof options.path !== "string" || options.path === "") {
      throw new TlsError("INVALID_CONFIG", "path must be a Unix-domain socket path");
    }
    const errno = lib.symbols.rustls_sockets_unix_listen(cString(options.path), BACKLOG, fdCell);
    if (errno !== 0) throw errnoError(errno, `listening on ${options.path}`);
    return fdCell[0];
  }
  const tcp = options as { hostname?: string; port?: number; reusePort?: boolean };
  const hostname = (tcp.hostname ?? "0.0.0.0").replace(/^\[(.*)\]$/, "$1");
  const host = hostname === "localhost" ? "127.0.0.1" : hostname;
  if (!isIpLiteral(host)) {
    throw new TlsError("INVALID_CONFIG", `hostname must be an IP address, not ${hostname}`);
  }
  const port = checkPort(tcp.port ?? 0, true);
  const flags = tcp.reusePort === true ? LISTEN.REUSE_PORT : 0;
  const errno = lib.symbols.rustls_sockets_tcp_listen(cString(host), port, BACKLOG, flags, fdCell);
  if (errno !== 0) throw errnoError(errno, `listening on ${formatHost(host)}:${port}`);
  return fdCell[0];
}

/** The local (`peer` false) or remote address of the socket `fd`. */
export function socketAddress(lib: NativeLibrary, fd: number, peer: boolean): Addr {
  const buf = new Uint8Array(128);
  const n = outCell();
  const port = new Uint16Array(1);
  const errno = lib.symbols.rustls_sockets_socket_address(
    fd,
    peer ? 1 : 0,
    buf,
    buf.length,
    n,
    port,
  );
  if (errno !== 0) throw errnoError(errno, peer ? "getpeername" : "getsockname");
  const text = fromUtf8(buf.subarray(0, Number(n[0])));
  // IP text never is empty nor starts with "/": that is a Unix-domain path.
  if (text === "" || text.startsWith("/")) return { transport: "unix", path: text };
  return { transport: "tcp", hostname: text, port: port[0] };
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
