/**
 * `TlsError`: every failure of the module as a value with a stable `code`.
 * rustls-ffi's result code and text, and the OS errno, travel along.
 *
 * @module
 */

import { ERRNO, RESULT } from "../../ffi/constants.ts";

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
  [RESULT.CERT_EXPIRED]: "CERT_EXPIRED",
  [RESULT.CERT_NOT_YET_VALID]: "CERT_NOT_YET_VALID",
  [RESULT.CERT_REVOKED]: "CERT_REVOKED",
  [RESULT.CERT_UNKNOWN_ISSUER]: "UNKNOWN_ISSUER",
  [RESULT.CERT_NOT_VALID_FOR_NAME]: "CERT_NAME_MISMATCH",
  [RESULT.CERT_INVALID_PURPOSE]: "CERT_INVALID_PURPOSE",
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

/** Classifies a rustls-ffi `rustls_result` code. */
export function codeForResult(result: number): { code: TlsErrorCode; alert?: string } {
  if (CERT_CODES[result]) return { code: CERT_CODES[result] };
  if (
    (result >= RESULT.CERT_ENCODING_BAD && result <= RESULT.CERT_OTHER_ERROR) ||
    (result >= RESULT.CERT_UNKNOWN_REVOCATION_STATUS &&
      result <= RESULT.CERT_UNSUPPORTED_SIGNATURE_ALGORITHM)
  ) {
    return { code: "CERT_INVALID" };
  }
  if (result >= RESULT.ALERT_CLOSE_NOTIFY && result <= RESULT.ALERT_UNKNOWN) {
    return { code: "ALERT_RECEIVED", alert: ALERT_NAMES[result - RESULT.ALERT_CLOSE_NOTIFY] };
  }
  if (
    result >= RESULT.CERT_REVOCATION_LIST_BAD_SIGNATURE &&
    result <= RESULT.CERT_REVOCATION_LIST_UNSUPPORTED_SIGNATURE_ALGORITHM
  ) {
    return { code: "INVALID_CONFIG" }; // a bad CRL
  }
  switch (result) {
    case RESULT.UNEXPECTED_EOF:
      return { code: "UNEXPECTED_EOF" };
    case RESULT.NO_CERTIFICATES_PRESENTED:
      return { code: "CERT_REQUIRED" };
    case RESULT.PEER_INCOMPATIBLE_ERROR:
    case RESULT.NO_APPLICATION_PROTOCOL:
      return { code: "PEER_INCOMPATIBLE" };
    case RESULT.NULL_PARAMETER:
    case RESULT.INVALID_DNS_NAME_ERROR:
    case RESULT.CERTIFICATE_PARSE_ERROR:
    case RESULT.PRIVATE_KEY_PARSE_ERROR:
    case RESULT.INVALID_PARAMETER:
    case RESULT.CERTIFICATE_REVOCATION_LIST_PARSE_ERROR:
    case RESULT.NO_SERVER_CERT_VERIFIER:
    case RESULT.BUILDER_INCOMPATIBLE_TLS_VERSIONS:
    case RESULT.CLIENT_CERT_VERIFIER_BUILDER_NO_ROOT_ANCHORS:
    case RESULT.INCONSISTENT_KEYS_KEYS_MISMATCH:
    case RESULT.INCONSISTENT_KEYS_UNKNOWN:
    case RESULT.INVALID_ENCRYPTED_CLIENT_HELLO_INVALID_CONFIG_LIST:
    case RESULT.INVALID_ENCRYPTED_CLIENT_HELLO_NO_COMPATIBLE_CONFIG:
    case RESULT.INVALID_ENCRYPTED_CLIENT_HELLO_SNI_REQUIRED:
      return { code: "INVALID_CONFIG" };
    case RESULT.PANIC:
    case RESULT.NO_DEFAULT_CRYPTO_PROVIDER:
    case RESULT.GET_RANDOM_FAILED:
    case RESULT.FAILED_TO_GET_CURRENT_TIME:
    case RESULT.FAILED_TO_GET_RANDOM_BYTES:
      return { code: "INTERNAL" };
    case RESULT.NOT_SUPPORTED:
      return { code: "NOT_SUPPORTED" };
    default:
      return { code: "PEER_MISBEHAVED" };
  }
}

/** Classifies an OS error number. */
export function codeForErrno(errno: number): TlsErrorCode {
  switch (errno) {
    case ERRNO.ECONNREFUSED:
      return "CONNECTION_REFUSED";
    case ERRNO.ECONNRESET:
    case ERRNO.EPIPE:
    case ERRNO.ECONNABORTED:
      return "CONNECTION_RESET";
    case ERRNO.ETIMEDOUT:
      return "TIMED_OUT";
    default:
      return "NETWORK_ERROR";
  }
}

const ERRNO_NAMES: Record<number, string> = {
  ...Object.fromEntries(Object.entries(ERRNO).map(([name, value]) => [value, name])),
  [ERRNO.ENOENT]: "ENOENT (no such socket file)",
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
