//! One epoll instance for every socket of the process, plus a small pool of
//! worker threads for CPU-heavy handshake steps (certificate verification,
//! key exchange, signing) so they never run on the JS thread.
//!
//! Both report to JS through one queue of 6-`u32` events:
//! `[token, kind, result, a, b, c]`, where `kind` is a readiness set
//! (bit 1 = readable, bit 2 = writable; errors and hang-ups count as both)
//! or [`RUSTLS_SOCKETS_EVENT_DONE`] for a finished job (`result` is its
//! `rustls_result` and `a, b, c` its state block, or a pointer in `a, b`).
//!
//! A native thread waits and queues the events; JS collects them with
//! [`rustls_sockets_poller_take`] once told that the queue turned non-empty:
//! - Bun: [`rustls_sockets_poller_start_signal_thread`] tells it by calling a
//!   thread-safe JS callback;
//! - Deno: [`rustls_sockets_poller_start_signal_socket`] tells it by writing
//!   one byte to a socket pair whose other end the runtime's own reactor
//!   watches, so no thread of Deno's blocking pool is involved (that pool is
//!   shared with the runtime's file I/O and DNS, and a wait queued behind
//!   them stalled every socket for seconds).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use libc::c_int;
use rustls_ffi::acceptor::rustls_accepted;
use rustls_ffi::certificate::rustls_root_cert_store_builder;
use rustls_ffi::client::rustls_client_config;
use rustls_ffi::server::rustls_server_config;

use crate::pointers::{self, Conn, Handoff, Signal};
use crate::sys;
use crate::{boundary, RESULT_PANIC};

/// Readiness bit: the fd can be read (or has an error / hang-up).
pub const RUSTLS_SOCKETS_READABLE: u32 = 1;
/// Readiness bit: the fd can be written (or has an error / hang-up).
pub const RUSTLS_SOCKETS_WRITABLE: u32 = 2;
/// Event kind of a finished job.
pub const RUSTLS_SOCKETS_EVENT_DONE: u32 = 0x100;

const WAKE_TOKEN: u64 = u64::MAX;
const BATCH: usize = 256;
const WORKERS: usize = 2;

type Event = [u32; 6];

enum Work {
    Recv(Handoff<rustls_ffi::connection::rustls_connection>, c_int),
    RecvBuf(
        Handoff<rustls_ffi::connection::rustls_connection>,
        Vec<u8>,
        bool,
    ),
    IntoConnection(
        Handoff<rustls_accepted>,
        Handoff<rustls_server_config>,
        c_int,
    ),
    LoadRoots(Handoff<rustls_root_cert_store_builder>, std::ffi::CString),
    NewClient(Handoff<rustls_client_config>, std::ffi::CString),
    Connect(std::ffi::CString, u16),
    Close(Handoff<rustls_ffi::connection::rustls_connection>, c_int),
}

struct Job {
    token: u32,
    work: Work,
}

struct Queue {
    events: VecDeque<Event>,
    /// JS was told and has not yet found the queue empty.
    signalled: bool,
}

/// How the signal thread tells JS that events are queued.
#[derive(Clone, Copy)]
enum Notify {
    /// Call a thread-safe JS callback (Bun).
    Callback(Signal),
    /// Write a byte to this end of a socket pair (Deno).
    Socket(c_int),
}

struct Inner {
    epfd: c_int,
    /// Wakes the signal thread's wait when the poller is freed.
    wakefd: c_int,
    stop: AtomicBool,
    queue: Mutex<Queue>,
    /// Set once a signal thread runs: how to tell JS the queue turned non-empty.
    signal: Mutex<Option<Notify>>,
    jobs: Mutex<VecDeque<Job>>,
    jobs_ready: Condvar,
}

impl Drop for Inner {
    fn drop(&mut self) {
        sys::close(self.epfd);
        sys::close(self.wakefd);
        let signal = match self.signal.get_mut() {
            Ok(signal) => *signal,
            Err(poisoned) => *poisoned.into_inner(),
        };
        if let Some(Notify::Socket(fd)) = signal {
            sys::close(fd);
        }
    }
}

impl Inner {
    /// Queues events for JS and makes sure JS hears of them (also of events
    /// queued earlier, e.g. before the signal thread existed). `signal` is
    /// read under the queue lock: either it is set, or the signal thread's
    /// first post, which follows its setting, finds these events queued.
    fn post(&self, events: &[Event]) {
        let (signal, must_signal) = match self.queue.lock() {
            Ok(mut queue) => {
                let signal = self.signal.lock().map(|s| *s).unwrap_or(None);
                queue.events.extend(events.iter().copied());
                let must = !queue.events.is_empty()
                    && signal.is_some()
                    && !std::mem::replace(&mut queue.signalled, true);
                (signal, must)
            }
            Err(_) => (None, false),
        };
        // Without a signal thread yet, nothing to do: it posts what is queued when it starts.
        match signal {
            Some(Notify::Callback(signal)) if must_signal => signal(),
            // A full socket buffer (EAGAIN) means JS has a byte to read already.
            Some(Notify::Socket(fd)) if must_signal => {
                while sys::send(fd, &[1]) < 0 && sys::errno() == libc::EINTR {}
            }
            _ => {}
        }
    }

    /// Moves up to `max` queued events into `out`.
    fn take(&self, out: &mut [u8], max: usize) -> usize {
        let Ok(mut queue) = self.queue.lock() else {
            return 0;
        };
        let count = queue.events.len().min(max);
        for (i, event) in queue.events.drain(..count).enumerate() {
            for (j, value) in event.iter().enumerate() {
                let at = (i * 6 + j) * 4;
                out[at..at + 4].copy_from_slice(&value.to_ne_bytes());
            }
        }
        if queue.events.is_empty() {
            queue.signalled = false;
        }
        count
    }
}

/// The poller handle given to JS.
#[allow(non_camel_case_types)]
pub struct rustls_sockets_poller {
    inner: Arc<Inner>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    workers_started: AtomicBool,
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

/// Waits up to `timeout_ms` (-1 = forever) for readiness and appends at
/// most `max` events to `out` (the kernel keeps the rest: one-shot events
/// must never be dropped). Returns how many, or `-errno`.
fn wait_into(inner: &Inner, out: &mut Vec<Event>, max: usize, timeout_ms: c_int) -> c_int {
    let mut events = [libc::epoll_event { events: 0, u64: 0 }; BATCH];
    let n = sys::epoll_wait(inner.epfd, &mut events[..max.clamp(1, BATCH)], timeout_ms);
    if n < 0 {
        let errno = sys::errno();
        return if errno == libc::EINTR { 0 } else { -errno };
    }
    let mut count = 0;
    for event in &events[..n as usize] {
        let (bits, token) = (event.events, event.u64);
        if token == WAKE_TOKEN {
            sys::eventfd_drain(inner.wakefd);
            continue;
        }
        out.push([token as u32, readiness(bits), 0, 0, 0, 0]);
        count += 1;
    }
    count
}

fn run(job: Job) -> Event {
    let done = |result: u32, a: u32, b: u32, c: u32| {
        [job.token, RUSTLS_SOCKETS_EVENT_DONE, result, a, b, c]
    };
    match job.work {
        Work::Recv(conn, fd) => {
            let mut state = crate::record_io::State::default();
            let rc = crate::record_io::recv(
                conn.0,
                &mut crate::fd_io::FdWire::new(fd),
                &mut [],
                &mut state,
            );
            done(rc, state[0], state[1], state[2])
        }
        Work::RecvBuf(conn, input, eof) => {
            // Records to send wait in rustls for the caller's next buffer call.
            let mut wire = crate::buffer_io::BufWire::new(&input, eof, &mut []);
            let mut state = crate::record_io::State::default();
            let rc = crate::record_io::recv(conn.0, &mut wire, &mut [], &mut state);
            done(rc, wire.input.pos as u32, state[1], state[2])
        }
        Work::IntoConnection(accepted, config, fd) => {
            let mut conn: Conn = std::ptr::null_mut();
            let rc = crate::acceptor::into_connection_fd(accepted.0, config.0, fd, &mut conn);
            if rc == crate::RESULT_OK {
                crate::live_objects::created(crate::live_objects::Kind::Connection);
            }
            let address = conn as usize as u64;
            done(rc, address as u32, (address >> 32) as u32, 0)
        }
        Work::NewClient(config, name) => {
            let mut conn: Conn = std::ptr::null_mut();
            let rc = crate::lifecycle::rustls_sockets_client_connection_new(
                config.0,
                name.as_ptr(),
                &mut conn,
            );
            let address = conn as usize as u64;
            done(rc, address as u32, (address >> 32) as u32, 0)
        }
        Work::Connect(ip, port) => {
            let mut fd: c_int = -1;
            let mut pending = 0u32;
            let errno =
                crate::socket::rustls_sockets_tcp_connect(ip.as_ptr(), port, &mut fd, &mut pending);
            done(errno as u32, fd as u32, pending, 0)
        }
        Work::Close(conn, fd) => {
            crate::lifecycle::rustls_sockets_connection_free(conn.0);
            if fd >= 0 {
                sys::close(fd);
            }
            done(0, 0, 0, 0)
        }
        Work::LoadRoots(builder, path) => {
            let rc =
                rustls_root_cert_store_builder::rustls_root_cert_store_builder_load_roots_from_file(
                    builder.0,
                    path.as_ptr(),
                    false,
                ) as u32;
            done(rc, 0, 0, 0)
        }
    }
}

fn worker(inner: Arc<Inner>) {
    // Below the event loop's priority: on a busy machine the JS thread keeps its core.
    sys::lower_thread_priority(10);
    loop {
        let job = {
            let Ok(mut jobs) = inner.jobs.lock() else {
                return;
            };
            loop {
                if inner.stop.load(Ordering::SeqCst) {
                    return;
                }
                if let Some(job) = jobs.pop_front() {
                    break job;
                }
                jobs = match inner.jobs_ready.wait(jobs) {
                    Ok(guard) => guard,
                    Err(_) => return,
                };
            }
        };
        let token = job.token;
        let event = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(job)))
            .unwrap_or([token, RUSTLS_SOCKETS_EVENT_DONE, RESULT_PANIC, 0, 0, 0]);
        inner.post(&[event]);
    }
}

fn submit(poller: *const rustls_sockets_poller, token: u32, work: Work) -> c_int {
    let Some(p) = pointers::box_ref(poller) else {
        return libc::EINVAL;
    };
    if !p.workers_started.swap(true, Ordering::SeqCst) {
        let Ok(mut threads) = p.threads.lock() else {
            return libc::EIO;
        };
        for i in 0..WORKERS {
            let inner = Arc::clone(&p.inner);
            let spawned = std::thread::Builder::new()
                .name(format!("rustls-sockets-worker-{i}"))
                .spawn(move || worker(inner));
            match spawned {
                Ok(handle) => threads.push(handle),
                Err(e) => return e.raw_os_error().unwrap_or(libc::EIO),
            }
        }
    }
    match p.inner.jobs.lock() {
        Ok(mut jobs) => jobs.push_back(Job { token, work }),
        Err(_) => return libc::EIO,
    }
    p.inner.jobs_ready.notify_one();
    0
}

/// Creates a poller. Returns 0 or an errno.
///
/// The caller owns the poller put in `*out` and frees it with
/// `rustls_sockets_poller_free`.
#[no_mangle]
pub extern "C" fn rustls_sockets_poller_new(out: *mut *mut rustls_sockets_poller) -> c_int {
    boundary(libc::EIO, || {
        let epfd = sys::epoll_create();
        if epfd < 0 {
            return sys::errno();
        }
        let wakefd = sys::eventfd();
        if wakefd < 0 {
            let errno = sys::errno();
            sys::close(epfd);
            return errno;
        }
        let inner = Inner {
            epfd,
            wakefd,
            stop: AtomicBool::new(false),
            queue: Mutex::new(Queue {
                events: VecDeque::new(),
                signalled: false,
            }),
            signal: Mutex::new(None),
            jobs: Mutex::new(VecDeque::new()),
            jobs_ready: Condvar::new(),
        };
        if sys::epoll_ctl(
            epfd,
            libc::EPOLL_CTL_ADD,
            wakefd,
            libc::EPOLLIN as u32,
            WAKE_TOKEN,
        ) < 0
        {
            return sys::errno();
        }
        let poller = rustls_sockets_poller {
            inner: Arc::new(inner),
            threads: Mutex::new(Vec::new()),
            workers_started: AtomicBool::new(false),
        };
        pointers::put(out, pointers::into_box(poller));
        0
    })
}

/// Stops the threads (if any), waits for them, and frees the poller.
/// NULL is ignored. No call on the poller may be in flight.
///
/// Takes ownership of `poller`: it must not be used again.
#[no_mangle]
pub extern "C" fn rustls_sockets_poller_free(poller: *mut rustls_sockets_poller) {
    boundary((), || {
        if let Some(p) = pointers::box_ref(poller) {
            p.inner.stop.store(true, Ordering::SeqCst);
            sys::eventfd_signal(p.inner.wakefd);
            p.inner.jobs_ready.notify_all();
            let threads = p
                .threads
                .lock()
                .map(|mut t| std::mem::take(&mut *t))
                .unwrap_or_default();
            for thread in threads {
                let _ = thread.join();
            }
        }
        pointers::free_box(poller);
    })
}

/// Asks for one notification when `fd` becomes ready for `interest`
/// (readiness bits), reported with `token`. Re-arming replaces the previous
/// interest. Returns 0 or an errno.
///
/// Borrows `poller` for the call; `fd` stays the caller's.
#[no_mangle]
pub extern "C" fn rustls_sockets_poller_arm(
    poller: *const rustls_sockets_poller,
    fd: c_int,
    interest: u32,
    token: u32,
) -> c_int {
    boundary(libc::EIO, || {
        let Some(p) = pointers::box_ref(poller) else {
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
        let errno = sys::errno();
        if errno != libc::ENOENT {
            return errno;
        }
        if sys::epoll_ctl(epfd, libc::EPOLL_CTL_ADD, fd, events, token as u64) == 0 {
            0
        } else {
            sys::errno()
        }
    })
}

/// Forgets `fd` (call before closing it). Returns 0 or an errno.
///
/// Borrows `poller` for the call; `fd` stays the caller's.
#[no_mangle]
pub extern "C" fn rustls_sockets_poller_disarm(
    poller: *const rustls_sockets_poller,
    fd: c_int,
) -> c_int {
    boundary(libc::EIO, || {
        let Some(p) = pointers::box_ref(poller) else {
            return libc::EINVAL;
        };
        if sys::epoll_ctl(p.inner.epfd, libc::EPOLL_CTL_DEL, fd, 0, 0) == 0 {
            0
        } else {
            sys::errno()
        }
    })
}

/// Starts the native thread that waits for readiness and queues events,
/// telling JS through `notify` whenever the queue turns non-empty (job
/// completions tell it the same way). Returns 0 or an errno (`EALREADY` if
/// a signal thread was started before).
fn start_signal_thread(p: &rustls_sockets_poller, notify: Notify) -> c_int {
    // Held until the thread exists: `notify` is published only then, and a
    // worker's post() meanwhile waits for it (it never sees a half start).
    let mut slot = match p.inner.signal.lock() {
        Ok(slot) if slot.is_none() => slot,
        Ok(_) => return libc::EALREADY,
        Err(_) => return libc::EIO,
    };
    let inner = Arc::clone(&p.inner);
    let spawned = std::thread::Builder::new()
        .name("rustls-sockets-poller".into())
        .spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            // Completions queued before this thread existed are signalled now.
            inner.post(&[]);
            while !inner.stop.load(Ordering::SeqCst) {
                batch.clear();
                if wait_into(&inner, &mut batch, BATCH, -1) >= 0 {
                    inner.post(&batch);
                }
            }
        });
    match spawned {
        Ok(handle) => {
            *slot = Some(notify);
            drop(slot);
            if let Ok(mut threads) = p.threads.lock() {
                threads.push(handle);
            }
            0
        }
        Err(e) => e.raw_os_error().unwrap_or(libc::EIO),
    }
}

/// Bun: starts the signal thread, which calls `signal` (from a native
/// thread) whenever the queue turns non-empty; JS then collects the events
/// with [`rustls_sockets_poller_take`]. Returns 0 or an errno (`EALREADY` if
/// a signal thread was started before).
///
/// Borrows `poller` for the call; `signal` must stay callable until the poller
/// is freed.
#[no_mangle]
pub extern "C" fn rustls_sockets_poller_start_signal_thread(
    poller: *const rustls_sockets_poller,
    signal: Option<extern "C" fn()>, // a `Signal`, spelled out for the generated header
) -> c_int {
    boundary(libc::EIO, || {
        let (Some(p), Some(signal)) = (pointers::box_ref(poller), signal) else {
            return libc::EINVAL;
        };
        start_signal_thread(p, Notify::Callback(signal))
    })
}

/// Deno: starts the signal thread, which writes one byte to a socket pair
/// whenever the queue turns non-empty, and stores the pair's other end (a
/// non-blocking `AF_UNIX` stream socket) in `*out_fd`: when it is readable,
/// read what it holds and collect the events with
/// [`rustls_sockets_poller_take`]. Returns 0 or an errno (`EALREADY` if a
/// signal thread was started before).
///
/// Borrows `poller` for the call; the caller owns the socket put in `*out_fd`.
#[no_mangle]
pub extern "C" fn rustls_sockets_poller_start_signal_socket(
    poller: *const rustls_sockets_poller,
    out_fd: *mut c_int,
) -> c_int {
    boundary(libc::EIO, || {
        let Some(p) = pointers::box_ref(poller) else {
            return libc::EINVAL;
        };
        if out_fd.is_null() {
            return libc::EINVAL;
        }
        let [ours, theirs] = match sys::socketpair() {
            Ok(pair) => pair,
            Err(errno) => return errno,
        };
        let errno = start_signal_thread(p, Notify::Socket(ours));
        if errno != 0 {
            sys::close(ours);
            sys::close(theirs);
            return errno;
        }
        pointers::put(out_fd, theirs);
        0
    })
}

/// Moves up to `max_events` queued events (6 `u32` each) into `out`;
/// returns how many. Fewer than `max_events` means the queue is empty and
/// the next event will signal again.
///
/// Borrows `poller` for the call; `out` must hold `max_events` events of six
/// `u32`.
#[no_mangle]
pub extern "C" fn rustls_sockets_poller_take(
    poller: *const rustls_sockets_poller,
    out: *mut u32,
    max_events: u32,
) -> u32 {
    boundary(0, || {
        let Some(p) = pointers::box_ref(poller) else {
            return 0;
        };
        let dest = pointers::bytes_mut(out as *mut u8, max_events as usize * 24);
        let max = dest.len() / 24;
        p.inner.take(dest, max) as u32
    })
}

/// Runs the handshake step `rustls_sockets_connection_recv_fd(conn, fd, NULL, 0, …)`
/// on a worker thread; its completion event carries `[result, bytes, errno, flags]`.
/// Returns 0 or an errno.
///
/// Borrows `poller` for the call and lends `conn` and `fd` to the job until its
/// completion event is collected.
#[no_mangle]
pub extern "C" fn rustls_sockets_poller_submit_recv(
    poller: *const rustls_sockets_poller,
    conn: Conn,
    fd: c_int,
    token: u32,
) -> c_int {
    boundary(libc::EIO, || {
        submit(poller, token, Work::Recv(Handoff(conn), fd))
    })
}

/// Runs the handshake step `rustls_sockets_connection_recv_buf(conn, input,
/// len, eof, NULL, 0, NULL, 0, …)` on a worker thread over a copy of the
/// `len` bytes at `input` (the caller's memory is free again on return).
/// Records to send stay queued in `conn`. The completion event carries
/// `[result, consumed, errno, flags]`. Returns 0 or an errno.
///
/// Borrows `poller` for the call, lends `conn` to the job until its completion
/// event is collected, and copies the `len` bytes at `input`.
#[no_mangle]
pub extern "C" fn rustls_sockets_poller_submit_recv_buf(
    poller: *const rustls_sockets_poller,
    conn: Conn,
    input: *const u8,
    len: u32,
    eof: u32,
    token: u32,
) -> c_int {
    boundary(libc::EIO, || {
        let copy = pointers::bytes(input, len as usize).to_vec();
        submit(poller, token, Work::RecvBuf(Handoff(conn), copy, eof != 0))
    })
}

/// Runs `rustls_accepted_into_connection` (the server's first flight, with
/// its signature) on a worker thread, sending the alert to `fd` on failure.
/// The completion event carries `[result, conn_low32, conn_high32]`. Returns
/// 0 or an errno.
///
/// Borrows `poller` for the call and lends `accepted` and `config` to the job
/// until its completion event is collected (the caller frees `accepted` then);
/// the caller owns the connection the event carries and frees it with
/// `rustls_sockets_connection_free`.
#[no_mangle]
pub extern "C" fn rustls_sockets_poller_submit_into_connection(
    poller: *const rustls_sockets_poller,
    accepted: *mut rustls_accepted,
    config: *const rustls_server_config,
    fd: c_int,
    token: u32,
) -> c_int {
    boundary(libc::EIO, || {
        let work = Work::IntoConnection(Handoff(accepted), Handoff(config as *mut _), fd);
        submit(poller, token, work)
    })
}

/// Runs `rustls_root_cert_store_builder_load_roots_from_file(builder, path, false)`
/// on a worker thread (system root bundles are large). Returns 0 or an errno.
///
/// Borrows `poller` for the call, lends `builder` to the job until its
/// completion event is collected, and copies `path`.
#[no_mangle]
pub extern "C" fn rustls_sockets_poller_submit_load_roots(
    poller: *const rustls_sockets_poller,
    builder: *mut rustls_root_cert_store_builder,
    path: *const libc::c_char,
    token: u32,
) -> c_int {
    boundary(libc::EIO, || {
        let Some(path) = pointers::c_text(path).and_then(|p| std::ffi::CString::new(p).ok()) else {
            return libc::EINVAL;
        };
        submit(poller, token, Work::LoadRoots(Handoff(builder), path))
    })
}

/// Runs `rustls_client_connection_new(config, server_name, …)` (which builds
/// the ClientHello and its key shares) on a worker thread; the completion
/// event carries `[result, conn_low32, conn_high32]`. Returns 0 or an errno.
///
/// Borrows `poller` for the call, lends `config` to the job until its
/// completion event is collected, and copies `server_name`; the caller owns the
/// connection the event carries and frees it with
/// `rustls_sockets_connection_free`.
#[no_mangle]
pub extern "C" fn rustls_sockets_poller_submit_client_connection(
    poller: *const rustls_sockets_poller,
    config: *const rustls_client_config,
    server_name: *const libc::c_char,
    token: u32,
) -> c_int {
    boundary(libc::EIO, || {
        let Some(name) = pointers::c_text(server_name).and_then(|p| std::ffi::CString::new(p).ok())
        else {
            return libc::EINVAL;
        };
        submit(
            poller,
            token,
            Work::NewClient(Handoff(config as *mut _), name),
        )
    })
}

/// Starts a non-blocking TCP connect (`rustls_sockets_tcp_connect`) on a
/// worker thread (on loopback the kernel runs the TCP handshake inside the
/// call); the completion event carries `[errno, fd, pending]`. Returns 0 or an errno.
///
/// Borrows `poller` for the call and copies `ip`; the caller owns the socket
/// the event carries.
#[no_mangle]
pub extern "C" fn rustls_sockets_poller_submit_connect(
    poller: *const rustls_sockets_poller,
    ip: *const libc::c_char,
    port: u16,
    token: u32,
) -> c_int {
    boundary(libc::EIO, || {
        let Some(ip) = pointers::c_text(ip).and_then(|p| std::ffi::CString::new(p).ok()) else {
            return libc::EINVAL;
        };
        submit(poller, token, Work::Connect(ip, port))
    })
}

/// Frees `conn` (NULL is fine) and closes `fd` (negative is fine) on a worker
/// thread. JS gives up both at once. Returns 0 or an errno.
///
/// Borrows `poller` for the call and takes ownership of `conn` and `fd`.
#[no_mangle]
pub extern "C" fn rustls_sockets_poller_submit_close(
    poller: *const rustls_sockets_poller,
    conn: Conn,
    fd: c_int,
    token: u32,
) -> c_int {
    boundary(libc::EIO, || {
        submit(poller, token, Work::Close(Handoff(conn), fd))
    })
}
