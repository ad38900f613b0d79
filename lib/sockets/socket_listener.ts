/**
 * What `TlsListener` and `PlainListener` share: a non-blocking listening
 * socket (TCP or Unix-domain), accepted without blocking through the shared
 * readiness waiter, closed once (also when dropped without `close()`).
 *
 * @module
 */
import { ERRNO, INTEREST } from "../../ffi/constants.ts";
import { rmSync } from "node:fs";
import { closedError, errnoError, TlsError } from "../core/errors.ts";
import { socketAddress } from "./socket.ts";
import type { NativeLibrary } from "../core/native.ts";
import { readiness, type Watch } from "../runtime/readiness.ts";
import type { NetAddr, UnixAddr } from "../core/types.ts";

/** The safety net for listeners dropped without `close()`. */
const droppedListeners = new FinalizationRegistry<() => void>((release) => release());

/** Removes a Unix-domain socket file, if it is still there. */
export function removeSocketFile(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // not ours to worry about any more
  }
}

/** A listening socket yielding connections of type `C`. */
export abstract class SocketListener<C, A extends NetAddr | UnixAddr>
  implements AsyncIterable<C>, AsyncDisposable, Disposable {
  /** The address it listens on (with the real port when `0` was asked for). */
  readonly addr: A;
  readonly #lib: NativeLibrary;
  readonly #fd: number;
  readonly #watch: Watch;
  readonly #path: string | undefined;
  #closed = false;

  /**
   * Takes ownership of the listening socket `fd` (`path`: its Unix-domain
   * socket file, removed on close); `release` frees what the subclass holds,
   * also when the listener is garbage collected unclosed.
   */
  protected constructor(lib: NativeLibrary, fd: number, path?: string, release?: () => void) {
    this.#lib = lib;
    this.#fd = fd;
    this.#path = path;
    this.#watch = readiness(lib).watch(fd);
    this.addr = socketAddress(lib, fd, false) as A;
    const watch = this.#watch;
    droppedListeners.register(this, () => {
      watch.forget();
      lib.symbols.rustls_sockets_socket_close(fd);
      release?.();
    }, this);
  }

  /** Makes the connection object for an accepted socket. */
  protected abstract wrap(fd: number): C;

  /** Frees what the subclass holds; called once by `close()`. */
  protected onClose(): void {}

  /**
   * Whether a new connection may be accepted now; when not, the accepted
   * socket is closed at once (a connection limit).
   */
  protected admits(): boolean {
    return true;
  }

  /** The next connection; rejects with `CLOSED` once the listener is closed. */
  async accept(): Promise<C> {
    const fdCell = new Int32Array(1);
    for (;;) {
      if (this.#closed) throw closedError("listener");
      const errno = this.#lib.symbols.rustls_sockets_tcp_accept(this.#fd, fdCell);
      if (errno === 0) {
        if (this.admits()) return this.wrap(fdCell[0]);
        this.#lib.symbols.rustls_sockets_socket_close(fdCell[0]);
        continue;
      }
      if (errno === ERRNO.EAGAIN) {
        await this.#watch.wait(INTEREST.READABLE);
        continue;
      }
      if (errno === ERRNO.EINTR || errno === ERRNO.ECONNABORTED) continue;
      throw errnoError(errno, "accepting a connection");
    }
  }

  /** Yields connections until the listener is closed. */
  async *[Symbol.asyncIterator](): AsyncIterator<C> {
    for (;;) {
      try {
        yield await this.accept();
      } catch (error) {
        if (error instanceof TlsError && error.code === "CLOSED") return;
        throw error;
      }
    }
  }

  /**
   * Stops listening: pending `accept()`s reject with `CLOSED`; connections
   * already accepted stay usable. A Unix-domain socket's file is removed.
   * Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    droppedListeners.unregister(this);
    this.#watch.forget();
    this.#lib.symbols.rustls_sockets_socket_close(this.#fd);
    if (this.#path !== undefined) removeSocketFile(this.#path);
    this.onClose();
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /** Same as {@link close} (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Lets the process exit while `accept()` waits here (an idle listener no
   * longer keeps it alive); undone by {@link ref}. Accepted connections keep
   * their own setting.
   */
  unref(): void {
    this.#watch.setRef(false);
  }

  /** Makes a waiting `accept()` keep the process alive again (the default). */
  ref(): void {
    this.#watch.setRef(true);
  }
}
