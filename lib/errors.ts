/**
 * `TlsError`: every failure of the module as a value with a stable `code`.
 * rustls-ffi's result code and text, and the OS errno, travel along.
 *
 * @module
 */

/** The stable error codes. */
export type TlsErrorCode =
  | "UNKNOWN_ISSUER"
  | "CERT_EXPIRED"
  | "CERT_NOT_YET_VALID"
  | "CERT_NAME_MISMATCH"
  | "CERT_REVOKED"
  | "CERT_INVALID_PURPOSE"
  | "CERT_INVALID"
  | "CERT_REQUIRED"
  | "PIN_MISMATCH"
  | "VERIFY_REJECTED"
  | "PEER_INCOMPATIBLE"
  | "ALERT_RECEIVED"
  | "PEER_MISBEHAVED"
  | "UNEXPECTED_EOF"
  | "TIMED_OUT"
  | "ABORTED"
  | "CONNECTION_REFUSED"
  | "CONNECTION_RESET"
  | "CLOSED"
  | "INVALID_CONFIG"
  | "NAME_RESOLUTION_FAILED"
  | "NETWORK_ERROR"
  | "NOT_SUPPORTED"
  | "INTERNAL";

/** Details a `TlsError` may carry. */
export interface TlsErrorDetails {
  /** The rustls-ffi `rustls_result` code, when rustls reported the failure. */
  rustlsResult?: number;
  /** The OS error number, when a system call failed. */
  errno?: number;
  /** The alert's name (e.g. `"handshake_failure"`) for `ALERT_RECEIVED`. */
  alert?: string;
  /** The underlying error. */
  cause?: unknown;
}

/** A TLS or transport failure with a stable string `code`. */
export class TlsError extends Error {
  /** What went wrong, as a stable code to branch on. */
  readonly code: TlsErrorCode;
  /** The rustls-ffi `rustls_result` code, when rustls reported the failure. */
  readonly rustlsResult?: number;
  /** The OS error number, when a system call failed. */
  readonly errno?: number;
  /** The alert's name for `ALERT_RECEIVED`. */
  readonly alert?: string;

  /** Creates an error; `message` should say what to do about it. */
  constructor(code: TlsErrorCode, message: string, details: TlsErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "TlsError";
    this.code = code;
    if (details.rustlsResult !== undefined) this.rustlsResult = details.rustlsResult;
    if (details.errno !== undefined) this.errno = details.errno;
    if (details.alert !== undefined) this.alert = details.alert;
  }
}

const CERT_CODES: Record<number, TlsErrorCode> = {
  7122: "CERT_EXPIRED",
  7123: "CERT_NOT_YET_VALID",
  7124: "CERT_REVOKED",
  7126: "UNKNOWN_ISSUER",
  7128: "CERT_NAME_MISMATCH",
  7129: "CERT_INVALID_PURPOSE",
};

const ALERT_NAMES = [
  "close_notify",
  "unexpected_message",
  "bad_record_mac",
  "decryption_failed",
  "record_overflow",
  "decompression_failure",
  "handshake_failure",
  "no_certificate",
  "bad_certificate",
  "unsupported_certificate",
  "certificate_revoked",
  "certificate_expired",
  "certificate_unknown",
  "illegal_parameter",
  "unknown_ca",
  "access_denied",
  "decode_error",
  "decrypt_error",
  "export_restriction",
  "protocol_version",
  "insufficient_security",
  "internal_error",
  "inappropriate_fallback",
  "user_canceled",
  "no_renegotiation",
  "missing_extension",
  "unsupported_extension",
  "certificate_unobtainable",
  "unrecognised_name",
  "bad_certificate_status_response",
  "bad_certificate_hash_value",
  "unknown_psk_identity",
  "certificate_required",
  "no_application_protocol",
  "unknown",
];

/** The library's own result for a feature its build left out (`native/src/lib.rs`). */
const RESULT_NOT_SUPPORTED = 7900;

/** Classifies a rustls-ffi `rustls_result` code. */
export function codeForResult(result: number): { code: TlsErrorCode; alert?: string } {
  if (CERT_CODES[result]) return { code: CERT_CODES[result] };
  if ((result >= 7121 && result <= 7131) || result >= 7154 && result <= 7157) {
    return { code: "CERT_INVALID" };
  }
  if (result >= 7200 && result <= 7234) {
    return { code: "ALERT_RECEIVED", alert: ALERT_NAMES[result - 7200] };
  }
  if (result >= 7400 && result <= 7411) return { code: "INVALID_CONFIG" }; // a bad CRL
  switch (result) {
    case 7010:
      return { code: "UNEXPECTED_EOF" };
    case 7101:
      return { code: "CERT_REQUIRED" };
    case 7107:
    case 7106: // no common application protocol
      return { code: "PEER_INCOMPATIBLE" };
    case 7002:
    case 7003:
    case 7005:
    case 7006:
    case 7009:
    case 7014:
    case 7015:
    case 7020:
    case 7500:
    case 7600:
    case 7601:
    case 7700:
    case 7701:
    case 7702:
      return { code: "INVALID_CONFIG" };
    case 7004:
    case 7016:
    case 7017:
    case 7103:
    case 7113:
      return { code: "INTERNAL" };
    case RESULT_NOT_SUPPORTED:
      return { code: "NOT_SUPPORTED" };
    default:
      return { code: "PEER_MISBEHAVED" };
  }
}

/** Classifies an OS error number. */
export function codeForErrno(errno: number): TlsErrorCode {
  switch (errno) {
    case 111: // ECONNREFUSED
      return "CONNECTION_REFUSED";
    case 104: // ECONNRESET
    case 32: // EPIPE
    case 103: // ECONNABORTED
      return "CONNECTION_RESET";
    case 110: // ETIMEDOUT
      return "TIMED_OUT";
    default:
      return "NETWORK_ERROR";
  }
}

const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT (no such socket file)",
  9: "EBADF",
  13: "EACCES",
  22: "EINVAL",
  24: "EMFILE",
  32: "EPIPE",
  97: "EAFNOSUPPORT",
  98: "EADDRINUSE",
  99: "EADDRNOTAVAIL",
  101: "ENETUNREACH",
  107: "ENOTCONN",
  103: "ECONNABORTED",
  104: "ECONNRESET",
  110: "ETIMEDOUT",
  111: "ECONNREFUSED",
  113: "EHOSTUNREACH",
};

/** A TlsError for a failed system call. */
export function errnoError(errno: number, what: string): TlsError {
  const name = ERRNO_NAMES[errno] ?? `errno ${errno}`;
  return new TlsError(codeForErrno(errno), `${what}: ${name}`, { errno });
}

/** The error for any operation on a closed connection or listener. */
export function closedError(what = "connection"): TlsError {
  return new TlsError("CLOSED", `the ${what} is closed`);
}
