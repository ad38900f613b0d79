/**
 * The client side's plan for a connection: options checked, the (cached)
 * configuration loaned, and the checks after the handshake (pins,
 * `verifyPeer`) and key log sink they ask for. `connectTls` and `startTls`
 * share it.
 *
 * @module
 */
import { clientConfig } from "../config/client_config.ts";
import { exporterWanted } from "../config/options.ts";
import { keyLogSink } from "../config/keylog.ts";
import { TlsError } from "../core/errors.ts";
import type { NativeLibrary, Pointer } from "../core/native.ts";
import type { HandshakeInfo, TlsClientOptions } from "../core/types.ts";
import { checkPinForm, checkPins } from "../tls/certificate.ts";

/** A client configuration and the post-handshake checks the options ask for. */
export interface ClientPlan {
  /**
   * The (cached) rustls client configuration, retained for the caller: end
   * the loan with `releaseConfig` once the session was made.
   */
  config: Pointer;
  /** Pins and `verifyPeer`, when given. */
  verify?: (info: HandshakeInfo) => Promise<void>;
  /** Where key log lines go (`keyLog`), when given. */
  keyLog?: (line: string) => void;
  /** Whether the exporter's secrets are kept (`exportKeyingMaterial`). */
  exporter: boolean;
}

/**
 * Validates the client options and builds their configuration; `endpoint`
 * keys the configuration cache (resumption tickets are per endpoint).
 */
export async function clientPlan(
  lib: NativeLibrary,
  options: TlsClientOptions,
  endpoint: string,
): Promise<ClientPlan> {
  const pins = options.pinnedPublicKeys === undefined
    ? undefined
    : checkPinForm(options.pinnedPublicKeys);
  if (options.verifyPeer !== undefined && typeof options.verifyPeer !== "function") {
    throw new TlsError("INVALID_CONFIG", "verifyPeer must be a function");
  }
  const keyLog = keyLogSink(options.keyLog);
  const exporter = exporterWanted(options);
  const verifyPeer = options.verifyPeer;
  const verify = pins === undefined && verifyPeer === undefined
    ? undefined
    : async (info: HandshakeInfo): Promise<void> => {
      if (pins !== undefined) checkPins(lib, info, pins);
      if (verifyPeer !== undefined) await verifyPeer(info);
    };
  // Last, so nothing can throw between the loan and its return.
  const config = await clientConfig(lib, options, endpoint);
  return { config, verify, keyLog, exporter };
}
