/**
 * `connectTls`: resolve, connect a raw non-blocking socket, handshake.
 *
 * @module
 */
import { releaseConfig } from "../config/client_config.ts";
import { clientPlan } from "./client_plan.ts";
import { checkOptionKeys } from "../config/option_keys.ts";
import { handshaken, TlsConn } from "./conn.ts";
import { markUnverified } from "./unverified.ts";
import { TlsError } from "../core/errors.ts";
import { FdTransport } from "../transports/fd_transport.ts";
import { checkPort, connectTcpSocket, connectUnixSocket } from "../sockets/socket.ts";
import { native, type NativeLibrary } from "../core/native.ts";
import { raceAbort } from "../core/abort.ts";
import { CallDeadline, checkIdleTimeout, checkTimeout } from "../core/timeout.ts";
import { isIpLiteral, resolveHost } from "../sockets/resolve.ts";
import { TlsSession } from "../tls/session.ts";
import type { ConnectTlsOptions, ConnectUnixTlsOptions } from "../core/types.ts";

/**
 * Connects to a TLS server and completes the handshake.
 *
 * The server's certificate is verified against `caCerts` when given, else
 * against the system's roots; an invalid one rejects with the matching code
 * (`UNKNOWN_ISSUER`, `CERT_EXPIRED`, `CERT_NAME_MISMATCH`, ...).
 * `handshakeTimeout` and `signal` cover the TCP connect and the handshake.
 *
 * @example
 * ```ts
 * const conn = await connectTls({ hostname: "example.com", port: 443 });
 * await conn.write(new TextEncoder().encode("GET / HTTP/1.0\r\nHost: example.com\r\n\r\n"));
 * ```
 */
export async function connectTls(
  options: ConnectTlsOptions | ConnectUnixTlsOptions,
): Promise<TlsConn> {
  if (options === null || typeof options !== "object") {
    throw new TlsError("INVALID_CONFIG", "connectTls needs an options object");
  }
  checkOptionKeys(options, "connectTls");
  const path = "path" in options ? options.path : undefined;
  let hostname = "";
  let port = 0;
  if (path !== undefined) {
    if (typeof path !== "string" || path === "") {
      throw new TlsError("INVALID_CONFIG", "path must be a Unix-domain socket path");
    }
    if (options.serverName === undefined) {
      throw new TlsError(
        "INVALID_CONFIG",
        "connectTls({ path }) needs serverName: the name the server's certificate is verified for",
      );
    }
  } else {
    const tcp = options as ConnectTlsOptions;
    hostname = tcp.hostname ?? "127.0.0.1";
    port = checkPort(tcp.port);
  }
  const timeout = checkTimeout(options.handshakeTimeout);
  const idleTimeout = checkIdleTimeout(options.idleTimeout);
  const serverName = options.serverName ?? hostname.replace(/^\[(.*)\]$/, "$1");

  // The deadline counts from the call: loading the library and building the
  // configuration (which can take long: a big trust store, a busy machine) count too.
  // Those two race the deadline alone, so bad options are INVALID_CONFIG even
  // with a signal aborted already.
  const deadline = new CallDeadline(timeout, options.signal);
  const connectSignal = deadline.signal;
  const lib = await raceAbort(native(), deadline.timeoutSignal);
  const { config, verify, keyLog, exporter } = await raceAbort(
    clientPlan(lib, options, path ?? `${hostname}:${port}`),
    deadline.timeoutSignal,
    (late) => releaseConfig(lib, late.config),
  );

  // The session first: a bad server name fails before any network traffic.
  let session: TlsSession;
  try {
    // A configuration built on this thread may have outlasted the deadline's timer.
    if (deadline.passed()) await deadline.expire();
    session = await raceAbort(
      TlsSession.clientOffThread(lib, config, serverName, isIpLiteral(serverName)),
      connectSignal,
      (late) => late.free(),
    );
  } finally {
    releaseConfig(lib, config);
  }
  let transport: FdTransport | undefined;
  try {
    transport = new FdTransport(
      lib,
      path !== undefined
        ? await connectUnixSocket(lib, path, connectSignal)
        : await connectAny(lib, hostname, port, deadline),
    );
  } catch (error) {
    session.free();
    throw error;
  }
  const conn = new TlsConn(session, transport, {
    verify,
    keyLog,
    exporter,
    signal: options.signal,
    timeout: deadline.remaining(),
    timeoutAsGiven: timeout,
    idleTimeout,
  });
  if (options.dangerouslyDisableVerification === true) markUnverified(conn);
  return await handshaken(conn);
}

/** Resolves `hostname` and connects to its addresses in turn until one answers: its fd. */
async function connectAny(
  lib: NativeLibrary,
  hostname: string,
  port: number,
  deadline: CallDeadline,
): Promise<number> {
  const signal = deadline.signal;
  const addresses = await raceAbort(resolveHost(hostname), signal);
  let lastError: unknown;
  for (const address of addresses) {
    try {
      return await connectTcpSocket(lib, address, port, signal);
    } catch (error) {
      lastError = error;
      if (error instanceof TlsError && (error.code === "ABORTED" || error.code === "TIMED_OUT")) {
        break;
      }
    }
  }
  if (deadline.ended(lastError)) {
    throw new TlsError(
      "TIMED_OUT",
      `connecting to ${hostname}:${port}: ${(lastError as TlsError).message}`,
      { cause: lastError },
    );
  }
  throw lastError;
}
