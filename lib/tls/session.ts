/**
 * `TlsSession`: one rustls connection as a sans-IO state machine —
 * ciphertext in / plaintext out, plaintext in / ciphertext out. It knows
 * nothing about sockets; transports move its ciphertext.
 *
 * @module
 */
import { RESULT } from "../../ffi/constants.ts";
import { closedError, TlsError, type TlsErrorCode } from "../core/errors.ts";
import {
  check,
  copyGrowing,
  cString,
  fromUtf8,
  type NativeLibrary,
  outCell,
  type Pointer,
  resultError,
  u32Length,
} from "../core/native.ts";
import { releaseConfig, retainConfig } from "../config/client_config.ts";
import { type JobResult, readiness } from "../runtime/readiness.ts";
import type { HandshakeInfo, TlsVersion } from "../core/types.ts";
import { fileVerifyFailure, type VerifyFailure, verifyFailureMessage } from "./verify_failure.ts";

const HANDSHAKE_KIND_RESUMED = 3;

/** Who the session talks to, for messages and `HandshakeInfo.serverName`. */
export interface SessionPeer {
  /** Client side: the name verified (and sent as SNI unless it is an IP address). */
  serverName?: string;
  /** Client side: whether `serverName` is an IP address (no SNI is sent). */
  serverNameIsIp?: boolean;
}

/** One rustls connection, client or server, driven by a transport. */
export class TlsSession {
  /** The library the connection lives in. */
  readonly lib: NativeLibrary;
  /** Who the peer is meant to be. */
  readonly peer: SessionPeer;
  #handle: Pointer;
  #freed = false;
  #n = outCell();

  private constructor(lib: NativeLibrary, handle: Pointer, peer: SessionPeer) {
    this.lib = lib;
    this.#handle = handle;
    this.peer = peer;
  }

  /**
   * A client session for `serverName` with a built `rustls_client_config`.
   * The ClientHello (key shares included) is built on a worker thread, off
   * the event loop.
   */
  static async clientOffThread(
    lib: NativeLibrary,
    config: Pointer,
    serverName: string,
    serverNameIsIp: boolean,
  ): Promise<TlsSession> {
    const name = cString(serverName); // a NUL inside would cut the name the native side verifies
    retainConfig(config);
    let result: JobResult;
    try {
      result = await readiness(lib).runJob((poller, token) =>
        lib.symbols.rustls_sockets_poller_submit_client_connection(poller, config, name, token)
      );
    } finally {
      releaseConfig(lib, config);
    }
    if (result[0] !== RESULT.OK) {
      const error = resultError(lib, result[0], `server name ${JSON.stringify(serverName)}`);
      throw new TlsError("INVALID_CONFIG", error.message, { rustlsResult: result[0] });
    }
    const cell = outCell();
    cell[0] = (BigInt(result[2]) << 32n) | BigInt(result[1]);
    return new TlsSession(lib, lib.pointerFrom(cell), { serverName, serverNameIsIp });
  }

  /** A server session around a `rustls_connection` made from an accepted ClientHello. */
  static server(lib: NativeLibrary, handle: Pointer): TlsSession {
    return new TlsSession(lib, handle, {});
  }

  /** The `rustls_connection *`. Throws once freed. */
  get #conn(): Pointer {
    if (this.#freed) throw closedError();
    return this.#handle;
  }

  /** Whether the session was freed. */
  get freed(): boolean {
    return this.#freed;
  }

  /** Whether the handshake is still running. */
  get isHandshaking(): boolean {
    return this.lib.symbols.rustls_connection_is_handshaking(this.#conn);
  }

  /** Whether ciphertext is waiting to be sent. */
  get wantsWrite(): boolean {
    return this.lib.symbols.rustls_connection_wants_write(this.#conn);
  }

  /**
   * Feeds ciphertext received from the peer and processes it; returns how
   * many bytes were taken (fewer than given when rustls' plaintext buffer is
   * full: read plaintext, then feed the rest). An empty `data` signals end of stream.
   */
  feedTls(data: Uint8Array): number {
    const result = this.lib.symbols.rustls_sockets_connection_feed_tls(
      this.#conn,
      data,
      u32Length(data.length),
      this.#n,
    );
    if (result !== RESULT.OK) throw this.error(result);
    return Number(this.#n[0]);
  }

  /**
   * Reads and processes records from the non-blocking socket `fd` and copies
   * plaintext into `buf` (`null`: only advance the handshake), answering
   * what rustls queued, without waiting; `state` gets `[bytes, errno, flags, 0]`
   * (`IO_STATE`). Returns the rustls result.
   */
  recvFd(fd: number, buf: Uint8Array | null, state: Uint32Array): number {
    return this.lib.symbols.rustls_sockets_connection_recv_fd(
      this.#conn,
      fd,
      buf,
      u32Length(buf?.length ?? 0),
      state,
    );
  }

  /**
   * Encrypts `data` (`null`: only flush) and writes what it can to the
   * non-blocking socket `fd` without waiting; `state` as for {@link recvFd}.
   */
  sendFd(fd: number, data: Uint8Array | null, state: Uint32Array): number {
    return this.lib.symbols.rustls_sockets_connection_send_fd(
      this.#conn,
      fd,
      data,
      u32Length(data?.length ?? 0),
      state,
    );
  }

  /**
   * The buffer form of {@link recvFd}: processes ciphertext from `input`
   * (`eof`: the carrier ended), copies plaintext into `plain`, and writes
   * the records rustls queued into `output`; `block` gets
   * `[bytes, errno, flags, 0, consumed, output bytes, 0, 0]` (`BUFFER_STATE`).
   */
  recvBuf(
    input: Uint8Array,
    eof: boolean,
    plain: Uint8Array | null,
    output: Uint8Array,
    block: Uint32Array,
  ): number {
    return this.lib.symbols.rustls_sockets_connection_recv_buf(
      this.#conn,
      input,
      u32Length(input.length),
      // Past 4 GiB the call sees only part of the input: not its end yet.
      eof && u32Length(input.length) === input.length ? 1 : 0,
      plain,
      u32Length(plain?.length ?? 0),
      output,
      u32Length(output.length),
      block,
    );
  }

  /**
   * The buffer form of {@link sendFd}: encrypts `data` (`null`: only flush)
   * and writes records into `output`; `block` as for {@link recvBuf}.
   */
  sendBuf(data: Uint8Array | null, output: Uint8Array, block: Uint32Array): number {
    return this.lib.symbols.rustls_sockets_connection_send_buf(
      this.#conn,
      data,
      u32Length(data?.length ?? 0),
      output,
      u32Length(output.length),
      block,
    );
  }

  /**
   * A worker job that does {@link recvFd} without plaintext (the handshake:
   * certificate verification and key exchange happen there); the session
   * must not be used until the job settles.
   */
  recvFdJob(fd: number): (poller: Pointer, token: number) => number {
    const conn = this.#conn;
    return (poller, token) =>
      this.lib.symbols.rustls_sockets_poller_submit_recv(poller, conn, fd, token);
  }

  /**
   * A worker job that processes the ciphertext in `input` (the buffer form
   * of {@link recvFdJob}); its result is `[rustls result, consumed, 0, 0]`.
   * `input` must stay untouched until the job settles.
   */
  recvBufJob(input: Uint8Array, eof: boolean): (poller: Pointer, token: number) => number {
    const conn = this.#conn;
    return (poller, token) =>
      this.lib.symbols.rustls_sockets_poller_submit_recv_buf(
        poller,
        conn,
        input,
        u32Length(input.length),
        // Past 4 GiB the call sees only part of the input: not its end yet.
        eof && u32Length(input.length) === input.length ? 1 : 0,
        token,
      );
  }

  /**
   * Queues a TLS 1.3 KeyUpdate: new traffic keys for what we send, and a
   * request that the peer renews its own (send it by draining).
   */
  refreshTrafficKeys(): void {
    const result = this.lib.symbols.rustls_connection_refresh_traffic_keys(this.#conn);
    if (result !== RESULT.OK) throw this.error(result);
  }

  /**
   * The key log lines (NSS format) rustls produced since the last call;
   * only configurations built with `keyLog` capture them.
   */
  takeKeyLog(): string[] {
    if (this.freed) return [];
    const { result, bytes } = copyGrowing(
      (buf, n) =>
        this.lib.symbols.rustls_sockets_connection_take_key_log(this.#conn, buf, buf.length, n),
      1024,
    );
    if (result !== RESULT.OK) throw this.error(result);
    const text = fromUtf8(bytes);
    bytes.fill(0); // the hex secrets live on only in the strings handed to keyLog
    return text === "" ? [] : text.trimEnd().split("\n");
  }

  /**
   * Ends a session whose handshake finished but whose peer is refused: drops
   * the records rustls queued (our last flight, session tickets) and returns
   * the fatal alert `description` as the peer expects it now (encrypted or
   * not: native/src/alert.rs), or `null` when its secrets were not captured.
   * Send it, then close: the session must not be used again.
   */
  fatalAlert(description: number): Uint8Array | null {
    const buf = new Uint8Array(64);
    const result = this.lib.symbols.rustls_sockets_connection_fatal_alert(
      this.#conn,
      this.peer.serverName === undefined ? 0 : 1,
      description,
      buf,
      buf.length,
      this.#n,
    );
    if (result === RESULT.NOT_FOUND) return null;
    if (result !== RESULT.OK) throw this.error(result);
    return buf.subarray(0, Number(this.#n[0]));
  }

  /**
   * Drops the secrets filed for the connection once its handshake ended (a
   * late alert is sent or no longer possible); `keepExporter` keeps those
   * {@link exportKeyingMaterial} needs.
   */
  forgetSecrets(keepExporter: boolean): void {
    if (!this.freed) {
      this.lib.symbols.rustls_sockets_connection_forget_secrets(this.#conn, keepExporter ? 1 : 0);
    }
  }

  /**
   * Exporter keying material (RFC 8446 §7.5) of a TLS 1.3 session: `length`
   * bytes for `label` and optional `context`; `null` when the exporter
   * secret is not known (TLS 1.2, or the handshake is not done).
   */
  exportKeyingMaterial(
    length: number,
    label: Uint8Array,
    context: Uint8Array | undefined,
  ): Uint8Array | null {
    const out = new Uint8Array(length);
    const result = this.lib.symbols.rustls_sockets_connection_export_keying_material(
      this.#conn,
      out,
      length,
      label,
      label.length,
      context ?? null,
      context?.length ?? 0,
      context === undefined ? 0 : 1,
    );
    if (result === RESULT.NOT_FOUND) return null;
    if (result !== RESULT.OK) throw this.error(result);
    return out;
  }

  /** Queues a close_notify alert (send it by draining). */
  sendCloseNotify(): void {
    this.lib.symbols.rustls_connection_send_close_notify(this.#conn);
  }

  /** A `TlsError` for a failed rustls call, saying whose certificate failed and what to do. */
  error(result: number): TlsError {
    const name = this.peer.serverName;
    const who = name === undefined ? "TLS" : `TLS with ${JSON.stringify(name)}`;
    const error = resultError(this.lib, result, who);
    const subject = name === undefined
      ? "the client's certificate"
      : `the certificate of ${JSON.stringify(name)}`;
    const hint: Partial<Record<TlsErrorCode, string>> = {
      UNKNOWN_ISSUER: `${subject} does not chain to a trusted root (a missing intermediate, a ` +
        "self-signed certificate or a private CA: trust it with caCerts or extraCaCerts)",
      CERT_EXPIRED:
        `${subject} or one of its chain has expired (renew it, or check this machine's clock)`,
      CERT_NOT_YET_VALID:
        `${subject} or one of its chain is not valid yet (check this machine's clock)`,
      CERT_REVOKED: `${subject} or one of its chain was revoked by one of the CRLs given`,
      CERT_INVALID_PURPOSE: `${subject} is not issued for this use (its extendedKeyUsage lacks ${
        name === undefined ? "clientAuth" : "serverAuth"
      })`,
      CERT_NAME_MISMATCH: `${subject} is not valid for that name: connect with the name it was ` +
        "issued for, or set serverName",
      CERT_INVALID: `${subject} is not acceptable`,
    };
    if (result === RESULT.CERT_EXPIRED_REVOCATION_LIST) {
      return new TlsError(
        error.code,
        `a CRL given in crls is past its nextUpdate, so it cannot vouch for ${subject} ` +
          `(fetch a current CRL, or set dangerouslyIgnoreCrlExpiry) (${error.message})`,
        { rustlsResult: result },
      );
    }
    const detail = hint[error.code] === undefined ? undefined : this.#verifyFailure();
    const text = (detail && verifyFailureMessage(error.code, subject, detail)) ??
      hint[error.code];
    if (text === undefined) return error;
    const detailed = new TlsError(error.code, `${text} (${error.message})`, {
      rustlsResult: result,
    });
    if (detail) fileVerifyFailure(detailed, detail);
    return detailed;
  }

  /** What the recording verifier filed about a refused chain, if anything. */
  #verifyFailure(): VerifyFailure | undefined {
    if (this.freed) return undefined;
    const buf = new Uint8Array(16 * 1024);
    const result = this.lib.symbols.rustls_sockets_connection_verify_failure(
      this.#conn,
      buf,
      buf.length,
      this.#n,
    );
    if (result !== RESULT.OK) return undefined;
    try {
      return JSON.parse(fromUtf8(buf.subarray(0, Number(this.#n[0])))) as VerifyFailure;
    } catch {
      return undefined;
    }
  }

  /** What the handshake negotiated; call once `isHandshaking` is false. */
  info(): HandshakeInfo {
    const lib = this.lib;
    const buf = new Uint8Array(1024);
    check(
      lib,
      lib.symbols.rustls_sockets_connection_get_info(this.#conn, buf, buf.length, this.#n),
      "handshake info",
    );
    const view = new DataView(buf.buffer, 0, Number(this.#n[0]));
    const version = view.getUint16(0, true);
    const kind = view.getUint8(6);
    let at = 8;
    const text = (): string => {
      const len = view.getUint16(at, true);
      const value = fromUtf8(buf.subarray(at + 2, at + 2 + len));
      at += 2 + len;
      return value;
    };
    const cipherSuite = text();
    const keyExchangeGroup = text();
    const alpn = text();
    const sni = text();
    const protocol: TlsVersion = version === 0x0304 ? "TLSv1.3" : "TLSv1.2";
    const serverName = this.peer.serverName !== undefined
      ? (this.peer.serverNameIsIp ? null : this.peer.serverName)
      : (sni === "" ? null : sni);
    return {
      protocol,
      cipherSuite,
      keyExchangeGroup,
      alpnProtocol: alpn === "" ? null : alpn,
      serverName,
      resumed: kind === HANDSHAKE_KIND_RESUMED,
      peerCertificates: this.peerCertificates(),
      ocspResponse: this.peer.serverName === undefined ? null : this.#stapledOcspResponse(),
    };
  }

  /** Client: the OCSP response the server stapled (taken from the library), or `null`. */
  #stapledOcspResponse(): Uint8Array | null {
    const { result, bytes } = copyGrowing(
      (buf, n) =>
        this.lib.symbols.rustls_sockets_connection_take_ocsp_response(
          this.#conn,
          buf,
          buf.length,
          n,
        ),
      4096,
    );
    if (result === RESULT.NOT_FOUND) return null;
    check(this.lib, result, "OCSP response");
    return bytes.slice();
  }

  /** The peer's certificate chain as DER, leaf first. */
  peerCertificates(): Uint8Array[] {
    const certs: Uint8Array[] = [];
    for (let i = 0;; i++) {
      const { result, bytes } = copyGrowing(
        (buf, n) =>
          this.lib.symbols.rustls_sockets_connection_copy_peer_certificate(
            this.#conn,
            i,
            buf,
            buf.length,
            n,
          ),
        4096,
      );
      if (result === RESULT.NOT_FOUND) return certs;
      check(this.lib, result, "peer certificate");
      certs.push(bytes.slice());
    }
  }

  /**
   * Gives up the rustls connection without freeing it (the caller frees it,
   * e.g. on a worker thread); NULL if it was freed or released before.
   */
  release(): Pointer {
    if (this.#freed) return null;
    this.#freed = true;
    const handle = this.#handle;
    this.#handle = null;
    return handle;
  }

  /** Frees the rustls connection. Safe to call more than once. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    this.lib.symbols.rustls_sockets_connection_free(this.#handle);
    this.#handle = null;
  }
}
