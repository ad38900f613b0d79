//! Read-ahead for sockets. rustls reads at most 4 KiB per `read_tls` call,
//! so a full 16 KiB record cost four or five `read(2)` calls. When a receive
//! call has room for a lot of plaintext, [`ReadAhead`] reads as much
//! ciphertext as that room allows in one `read(2)` and hands it to rustls
//! from memory (a copy at memory speed instead of system calls).
//!
//! The bytes read ahead must all reach rustls before the call returns: the
//! read size is capped so that their plaintext (plus that of a partial record
//! rustls may hold already) fits the caller's room, so they always do in a
//! live connection. Should any be left (the peer closed with close_notify
//! mid-read, say), they are parked in the connection's entry of
//! [`crate::side_table`] and handed to rustls first on its next receive
//! call: nothing is lost.

use std::cell::Cell;

use libc::c_int;

use crate::io_callbacks::{self, Cursor};
use crate::pointers::Conn;
use crate::side_table;
use crate::sys;

/// The most ciphertext one `read(2)` takes.
const READ_AHEAD_MAX: usize = 256 * 1024;
/// A record on the wire at most (TLS 1.2 allows 2^14 + 2048 bytes of ciphertext).
const MAX_RECORD_WIRE: usize = 5 + 16384 + 2048;
/// Below this many bytes a read-ahead saves nothing worth its copy.
const READ_AHEAD_MIN: usize = 16 * 1024;

thread_local! {
    /// One buffer per thread, lent to the wire of the current call.
    static POOL: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// How much ciphertext may be read ahead for `room` bytes of plaintext room
/// (0: read the usual way).
pub(crate) fn read_size(room: usize) -> usize {
    let size = room.saturating_sub(MAX_RECORD_WIRE).min(READ_AHEAD_MAX);
    if size < READ_AHEAD_MIN {
        0
    } else {
        size
    }
}

/// Ciphertext read from a socket and not yet handed to rustls.
#[derive(Default)]
pub(crate) struct ReadAhead {
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    restored: bool,
    /// The last [`Self::fill`] read less than it asked for.
    short: bool,
}

impl ReadAhead {
    /// Whether bytes wait for rustls.
    pub(crate) fn holds_bytes(&self) -> bool {
        self.pos < self.len
    }

    /// Takes back what an earlier call of `conn` parked, once per call.
    pub(crate) fn restore(&mut self, conn: Conn) {
        if self.restored {
            return;
        }
        self.restored = true;
        if !side_table::any_held_for_receive() {
            return;
        }
        let parked = side_table::update(conn, |side| side.parked.take()).flatten();
        if let Some(bytes) = parked {
            self.buf = bytes;
            self.pos = 0;
            self.len = self.buf.len();
        }
    }

    /// Hands rustls what it takes of the bytes read ahead (at most 4 KiB).
    pub(crate) fn feed(&mut self, conn: Conn) -> Result<usize, c_int> {
        let mut cursor = Cursor {
            data: &self.buf[self.pos..self.len],
            pos: 0,
        };
        let n = io_callbacks::read_tls_from(conn, &mut cursor)?;
        self.pos += n;
        Ok(n)
    }

    /// One `read(2)` of up to `size` bytes from `fd`, then [`Self::feed`];
    /// `Ok(0)` (end of stream, also told to rustls) or an errno.
    pub(crate) fn fill(&mut self, conn: Conn, fd: c_int, size: usize) -> Result<usize, c_int> {
        if self.buf.is_empty() {
            self.buf = POOL.with(|pool| pool.take());
        }
        if self.buf.len() < size {
            self.buf.resize(size, 0);
        }
        self.short = false;
        let got = sys::read(fd, &mut self.buf[..size]);
        if got < 0 {
            return Err(sys::errno());
        }
        self.pos = 0;
        self.len = got as usize;
        self.short = self.len < size;
        self.feed(conn)
    }

    /// Whether the last [`Self::fill`] read less than it asked for (the
    /// socket held nothing more at that moment).
    pub(crate) fn filled_short(&self) -> bool {
        self.short
    }

    /// Parks what is left for `conn`'s next call (the call ends).
    pub(crate) fn park(&mut self, conn: Conn) {
        if !self.holds_bytes() {
            return;
        }
        let rest = self.buf[self.pos..self.len].to_vec();
        self.pos = self.len;
        side_table::update(conn, |side| side.parked = Some(rest));
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        // Keep the per-thread buffer (a parked one is returned too: same size class).
        if buf.capacity() >= READ_AHEAD_MIN {
            POOL.with(|pool| {
                let current = pool.take();
                pool.set(if current.capacity() >= buf.capacity() {
                    current
                } else {
                    buf
                });
            });
        }
    }
}
