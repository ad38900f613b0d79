/**
 * Where key log lines go: the user's `keyLog` function, or with `"env"`
 * the file `SSLKEYLOGFILE` names (read when a handshake ends, so it can be
 * set late; nothing is written while it is unset).
 *
 * @module
 */
import { appendFileSync } from "node:fs";
import process from "node:process";

/** The sink for `keyLog`, or `undefined` when secrets are not to be logged. */
export function keyLogSink(
  keyLog: ((line: string) => void) | "env" | undefined,
): ((line: string) => void) | undefined {
  if (keyLog === undefined) return undefined;
  if (keyLog !== "env") return keyLog;
  return (line) => {
    const path = process.env.SSLKEYLOGFILE;
    if (path) appendFileSync(path, line + "\n", { mode: 0o600 });
  };
}
