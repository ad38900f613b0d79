//! One epoll instance for every socket of the process. JS arms an fd for
//! one readiness event (`EPOLLONESHOT`) and learns about it in batches:
//!
//! - Deno calls [`rustls_sockets_poller_wait`] as a `nonblocking` FFI call:
//!   one outstanding call, on one worker thread, for all sockets;
//! - Bun has no off-thread FFI calls: [`rustls_sockets_poller_start_signal_thread`]
//!   runs the wait on a native thread that queues events and calls a
//!   thread-safe JS callback once per batch; JS collects the queue with
//!   [`rustls_sockets_poller_take`].
//!
//! Events are `u32` pairs `(token, readiness)`, readiness bit 1 = readable,
//! 2 = writable (errors and hang-ups count as both).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use libc::c_int;

use crate::boundary;
use crate::raw::{self, sys, Signal};

/// Readiness bit: the fd can be read (or has an error / hang-up).
pub const RUSTLS_SOCKETS_READABLE: u32 = 1;
/// Readiness bit: the fd can be written (or has an error / hang-up).
pub const RUSTLS_SOCKETS_WRITABLE: u32 = 2;

const WAKE_TOKEN: u64 = u64::MAX;
const BATCH: usize = 256;

struct Inner {
    epfd: c_int,
    wakefd: c_int,
    stop: AtomicBool,
    /// Events gathered by the signal thread, and whether JS was signalled
    /// since it last found the queue empty.
    queue: Mutex<(Vec<u32>, bool)>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        sys::close(self.epfd);
        sys::close(self.wakefd);
    }
}

/// The poller handle given to JS.
#[allow(non_camel_case_types)]
pub struct rustls_sockets_poller {
    inner: Arc<Inner>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

fn readiness(events: u32) -> u32 {
    let broken = (libc::EPOLLERR | libc::EPOLLHUP) as u32;
    let mut ready = 0;
    if events & (libc::EPOLLIN as u32 | libc::EPOLLRDHUP as u32 | broken) != 0 {
        ready |= RUSTLS_SOCKETS_READABLE;
    }
    if events & (libc::EPOLLOUT as u32 | broken) != 0 {
        ready |= RUSTLS_SOCKETS_WRITABLE;
    }
    ready
}

/// Waits up to `timeout_ms` (-1 = forever) and appends `(token, readiness)`
/// pairs to `out`, at most `max_pairs`. Returns the number of pairs or `-errno`.
fn wait_into(inner: &Inner, out: &mut Vec<u32>, max_pairs: usize, timeout_ms: c_int) -> c_int {
    let mut events = [libc::epoll_event { events: 0, u64: 0 }; BATCH];
    let max = max_pairs.clamp(1, BATCH);
    let n = sys::epoll_wait(inner.epfd, &mut events[..max], timeout_ms);
    if n < 0 {
        let errno = raw::errno();
        return if errno == libc::EINTR { 0 } else { -errno };
    }
    let mut count = 0;
    for event in &events[..n as usize] {
        let (bits, token) = (event.events, event.u64);
        if token == WAKE_TOKEN {
            sys::eventfd_drain(inner.wakefd);
            continue;
        }
        out.push(token as u32);
        out.push(readiness(bits));
        count += 1;
    }
    count
}

/// Creates a poller. Returns 0 or an errno.
#[no_mangle]
pub extern "C" fn rustls_sockets_poller_new(out: *mut *mut rustls_sockets_poller) -> c_int {
    boundary(libc::EIO, || {
        let epfd = sys::epoll_create();
        if epfd < 0 {
            return raw::errno();
        }
        let wakefd = sys::eventfd();
        if wakefd < 0 {
            let errno = raw::errno();
            sys::close(epfd);
            return errno;
        }
        let inner = Inner {
            epfd,
            wakefd,
            stop: AtomicBool::new(false),
            queue: Mutex::new((Vec::new(), false)),
        };
        if sys::epoll_ctl(epfd, libc::EPOLL_CTL_ADD, wakefd, libc::EPOLLIN as u32, WAKE_TOKEN) < 0 {
            return raw::errno();
        }
        let poller = rustls_sockets_poller { inner: Arc::new(inner), thread: Mutex::new(None) };
        raw::put(out, raw::into_box(poller));
        0
    })
}

/// Stops the signal thread (if any), waits for it, and frees the poller.
/// NULL is ignored. No call on the poller may be in flight.
#[no_mangle]
pub extern "C" fn rustls_sockets_poller_free(poller: *mut rustls_sockets_poller) {
    boundary((), || {
        if let Some(p) = raw::box_ref(poller) {
            p.inner.stop.store(true, Ordering::SeqCst);
            sys::eventfd_signal(p.inner.wakefd);
            if let Some(thread) = p.thread.lock().map(|mut t| t.take()).unwrap_or(None) {
                let _ = thread.join();
            }
        }
        raw::free_box(poller);
    })
}

/// Asks for one notification when `fd` becomes ready for `interest`
/// (readiness bits), reported with `token`. Re-arming replaces the previous
/// interest. Returns 0 or an errno.
#[no_mangle]
pub extern "C" fn rustls_sockets_poller_arm(
    poller: *const rustls_sockets_poller,
    fd: c_int,
    interest: u32,
    token: u32,
) -> c_int {
    boundary(libc::EIO, || {
        let Some(p) = raw::box_ref(poller) else {
            return libc::EINVAL;
        };
        let mut events = (libc::EPOLLONESHOT | libc::EPOLLRDHUP) as u32;
        if interest & RUSTLS_SOCKETS_READABLE != 0 {
            events |= libc::EPOLLIN as u32;
        }
        if interest & RUSTLS_SOCKETS_WRITABLE != 0 {
            events |= libc::EPOLLOUT as u32;
        }
        let epfd = p.inner.epfd;
        if sys::epoll_ctl(epfd, libc::EPOLL_CTL_MOD, fd, events, token as u64) == 0 {
            return 0;
        }
        let errno = raw::errno();
        if errno != libc::ENOENT {
            return errno;
        }
        if sys::epoll_ctl(epfd, libc::EPOLL_CTL_ADD, fd, events, token as u64) == 0 {
            0
        } else {
            raw::errno()
        }
    })
}

/// Forgets `fd` (call before closing it). Returns 0 or an errno.
#[no_mangle]
pub extern "C" fn rustls_sockets_poller_disarm(
    poller: *const rustls_sockets_poller,
    fd: c_int,
) -> c_int {
    boundary(libc::EIO, || {
        let Some(p) = raw::box_ref(poller) else {
            return libc::EINVAL;
        };
        if sys::epoll_ctl(p.inner.epfd, libc::EPOLL_CTL_DEL, fd, 0, 0) == 0 {
            0
        } else {
            raw::errno()
        }
    })
}

/// Blocks up to `timeout_ms` (-1 = until an event or a wake) and writes up to
/// `max_pairs` `(token, readiness)` pairs to `out`. Returns the number of
/// pairs (0 after a wake or timeout) or `-errno`. Meant for a worker thread.
#[no_mangle]
pub extern "C" fn rustls_sockets_poller_wait(
    poller: *const rustls_sockets_poller,
    out: *mut u32,
    max_pairs: u32,
    timeout_ms: c_int,
) -> c_int {
    boundary(-libc::EIO, || {
        let Some(p) = raw::box_ref(poller) else {
            return -libc::EINVAL;
        };
        let dest = raw::bytes_mut(out as *mut u8, max_pairs as usize * 8);
        let mut pairs = Vec::with_capacity(max_pairs as usize * 2);
        let n = wait_into(&p.inner, &mut pairs, dest.len() / 8, timeout_ms);
        for (i, value) in pairs.iter().enumerate() {
            dest[i * 4..i * 4 + 4].copy_from_slice(&value.to_ne_bytes());
        }
        n
    })
}

/// Makes a blocked [`rustls_sockets_poller_wait`] return 0 now.
#[no_mangle]
pub extern "C" fn rustls_sockets_poller_wake(poller: *const rustls_sockets_poller) {
    boundary((), || {
        if let Some(p) = raw::box_ref(poller) {
            sys::eventfd_signal(p.inner.wakefd);
        }
    })
}

/// Starts the native thread that waits for events, queues them and calls
/// `signal` (from that thread) whenever the queue turns non-empty. Returns 0
/// or an errno (`EALREADY` if started before).
#[no_mangle]
pub extern "C" fn rustls_sockets_poller_start_signal_thread(
    poller: *const rustls_sockets_poller,
    signal: Option<Signal>,
) -> c_int {
    boundary(libc::EIO, || {
        let (Some(p), Some(signal)) = (raw::box_ref(poller), signal) else {
            return libc::EINVAL;
        };
        let Ok(mut slot) = p.thread.lock() else {
            return libc::EIO;
        };
        if slot.is_some() {
            return libc::EALREADY;
        }
        let inner = Arc::clone(&p.inner);
        let spawned = std::thread::Builder::new().name("rustls-sockets-poller".into()).spawn(
            move || {
                let mut batch = Vec::with_capacity(BATCH * 2);
                while !inner.stop.load(Ordering::SeqCst) {
                    batch.clear();
                    if wait_into(&inner, &mut batch, BATCH, -1) <= 0 {
                        continue;
                    }
                    let must_signal = match inner.queue.lock() {
                        Ok(mut queue) => {
                            queue.0.extend_from_slice(&batch);
                            !std::mem::replace(&mut queue.1, true)
                        }
                        Err(_) => false,
                    };
                    if must_signal {
                        signal();
                    }
                }
            },
        );
        match spawned {
            Ok(handle) => {
                *slot = Some(handle);
                0
            }
            Err(e) => e.raw_os_error().unwrap_or(libc::EIO),
        }
    })
}

/// Moves up to `max_pairs` queued `(token, readiness)` pairs into `out`;
/// returns how many. When it returns fewer than `max_pairs` the queue is
/// empty and the next event will signal again.
#[no_mangle]
pub extern "C" fn rustls_sockets_poller_take(
    poller: *const rustls_sockets_poller,
    out: *mut u32,
    max_pairs: u32,
) -> u32 {
    boundary(0, || {
        let Some(p) = raw::box_ref(poller) else {
            return 0;
        };
        let dest = raw::bytes_mut(out as *mut u8, max_pairs as usize * 8);
        let Ok(mut queue) = p.inner.queue.lock() else {
            return 0;
        };
        let take = (queue.0.len() / 2).min(dest.len() / 8);
        for (i, value) in queue.0.drain(..take * 2).enumerate() {
            dest[i * 4..i * 4 + 4].copy_from_slice(&value.to_ne_bytes());
        }
        if queue.0.is_empty() {
            queue.1 = false;
        }
        take as u32
    })
}
