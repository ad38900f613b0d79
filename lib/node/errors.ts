/**
 * Node's error codes for the module's `TlsError`s: libraries built on
 * `node:net` / `node:tls` (pg, ioredis, undici, `node:http`) branch on
 * `error.code` (`ECONNRESET`, `EPIPE`, `ETIMEDOUT`, `CERT_HAS_EXPIRED`...),
 * so the errors a `TlsNodeSocket` emits carry Node's code, with the
 * `TlsError` as `cause` and its code as `tlsCode`.
 *
 * @module
 */
import { ERRNO } from "../../ffi/constants.ts";
import { TlsError, type TlsErrorCode } from "../core/errors.ts";
import { verifyFailureOf } from "../tls/verify_failure.ts";

/** An error as Node's sockets emit them, made from a `TlsError`. */
export interface NodeTlsError extends Error {
  /** Node's code (`ECONNRESET`, `CERT_HAS_EXPIRED`, ...), or the module's own where Node has none. */
  code: string;
  /** The module's own code (see `TlsError`). */
  tlsCode: TlsErrorCode;
  /** The `TlsError` behind it. */
  cause: TlsError;
  /** The system call's error number as Node gives it (negative), for transport failures. */
  errno?: number;
  /** The system call, for transport failures (`connect`, `read`, `write`). */
  syscall?: string;
}

/** Node's codes that have a direct counterpart; the rest are decided in {@link nodeCode}. */
const DIRECT: Partial<Record<TlsErrorCode, string>> = {
  CERT_EXPIRED: "CERT_HAS_EXPIRED",
  CERT_NOT_YET_VALID: "CERT_NOT_YET_VALID",
  CERT_NAME_MISMATCH: "ERR_TLS_CERT_ALTNAME_INVALID",
  CERT_REVOKED: "CERT_REVOKED",
  CERT_INVALID_PURPOSE: "INVALID_PURPOSE",
  CERT_INVALID: "CERT_REJECTED",
  CERT_REQUIRED: "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE",
  PEER_INCOMPATIBLE: "EPROTO",
  PEER_MISBEHAVED: "EPROTO",
  // Before the handshake ended (after it, a TCP close is a plain end: see TlsNodeSocket).
  UNEXPECTED_EOF: "ECONNRESET",
  TIMED_OUT: "ETIMEDOUT",
  ABORTED: "ABORT_ERR",
  CONNECTION_REFUSED: "ECONNREFUSED",
  NAME_RESOLUTION_FAILED: "ENOTFOUND",
  CLOSED: "ERR_SOCKET_CLOSED",
  INVALID_CONFIG: "ERR_INVALID_ARG_VALUE",
};

/** OpenSSL's alert prefixes, as Node's `ERR_SSL_*_ALERT_*` codes carry them. */
const SSLV3_ALERTS = new Set([
  "close_notify",
  "unexpected_message",
  "bad_record_mac",
  "decompression_failure",
  "handshake_failure",
  "no_certificate",
  "bad_certificate",
  "unsupported_certificate",
  "certificate_revoked",
  "certificate_expired",
  "certificate_unknown",
  "illegal_parameter",
]);

const ERRNO_NAMES = new Map<number, string>(
  Object.entries(ERRNO).map(([name, value]) => [value as number, name]),
);

/** OpenSSL's verification code for an unknown issuer, from the refused chain's shape. */
function unknownIssuerCode(error: TlsError): string {
  const chain = verifyFailureOf(error)?.chain ?? [];
  const last = chain[chain.length - 1];
  const selfSigned = last?.subject != null && last.subject === last.issuer;
  if (chain.length === 1 && selfSigned) return "DEPTH_ZERO_SELF_SIGNED_CERT";
  if (chain.length > 1 && selfSigned) return "SELF_SIGNED_CERT_IN_CHAIN";
  if (chain.length > 1) return "UNABLE_TO_GET_ISSUER_CERT_LOCALLY";
  return "UNABLE_TO_VERIFY_LEAF_SIGNATURE";
}

/** Node's code for `error`. */
export function nodeCode(error: TlsError): string {
  switch (error.code) {
    case "UNKNOWN_ISSUER":
      return unknownIssuerCode(error);
    case "CONNECTION_RESET":
      return error.errno === ERRNO.EPIPE ? "EPIPE" : "ECONNRESET";
    case "NETWORK_ERROR":
      return (error.errno !== undefined && ERRNO_NAMES.get(error.errno)) || "ERR_SOCKET_NETWORK";
    case "ALERT_RECEIVED": {
      const alert = error.alert ?? "unknown";
      if (alert === "unrecognised_name") return "ERR_SSL_TLSV1_UNRECOGNIZED_NAME";
      const prefix = alert === "certificate_required"
        ? "TLSV13"
        : SSLV3_ALERTS.has(alert)
        ? "SSLV3"
        : "TLSV1";
      return `ERR_SSL_${prefix}_ALERT_${alert.toUpperCase()}`;
    }
    default:
      // PIN_MISMATCH, VERIFY_REJECTED, NOT_SUPPORTED, INTERNAL: Node has no such code.
      return DIRECT[error.code] ?? error.code;
  }
}

/**
 * `error` as Node's sockets report it: an `Error` with Node's `code`, the
 * `TlsError` as `cause` and its code as `tlsCode`. Anything that is not a
 * `TlsError` becomes an `INTERNAL` one first; an error that already has
 * `tlsCode` is returned as it is.
 *
 * @example
 * ```ts
 * socket.on("error", (error) => {
 *   if (error.code === "CERT_HAS_EXPIRED") console.error(error.cause.message);
 * });
 * ```
 */
export function toNodeError(error: unknown, syscall?: string): NodeTlsError {
  if (error instanceof Error && "tlsCode" in error && error.cause instanceof TlsError) {
    return error as NodeTlsError;
  }
  const cause = error instanceof TlsError
    ? error
    : new TlsError("INTERNAL", error instanceof Error ? error.message : String(error), {
      cause: error,
    });
  const node = new Error(cause.message, { cause }) as NodeTlsError;
  node.code = nodeCode(cause);
  node.tlsCode = cause.code;
  if (cause.errno !== undefined) {
    node.errno = -cause.errno;
    if (syscall !== undefined) node.syscall = syscall;
  }
  return node;
}
