//! The public listener's connection handling. `axum::serve` sets no header
//! read timeout and never closes an idle or stuck connection, so a client
//! could hold sockets and tasks open forever by sending headers slowly, by
//! keeping idle keep-alive connections, or by not reading its answers. Each
//! connection here is served by hyper's HTTP/1 server with:
//! - a header read timeout (slow headers: the connection is closed);
//! - an idle timeout: no request in progress and no byte moved in either
//!   direction for that long closes the connection (a long tool call or an
//!   SSE stream with keep-alives is never idle);
//! - a write stall timeout: an answer that cannot be written for that long
//!   (the client stopped reading) closes the connection;
//! - a lingering close: when hyper ends a connection, its write side is shut
//!   and what the client is still sending is read and dropped, for at most
//!   [`LINGER`] and [`LINGER_BYTES`]. A socket closed with unread data sends
//!   RST, and a client still sending a refused body (413) would get a broken
//!   pipe instead of reading its answer.
//!
//! Draining: on `draining`, no new connection is accepted and every
//! connection is shut down gracefully (idle ones at once, busy ones after
//! their answer); [`serve`] returns when all are gone.

use std::{
    future::Future,
    io,
    pin::{Pin, pin},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    task::{Context, Poll, ready},
    time::Duration,
};

use axum::{Router, body::Body};
use hyper::{body::Incoming, server::conn::http1};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::mpsc,
    time::{Instant, Sleep},
};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;
use tracing::{debug, warn};

/// Longest a closing connection reads and drops what its client still sends.
pub const LINGER: Duration = Duration::from_secs(2);
/// Most bytes a closing connection reads and drops (four default body limits).
pub const LINGER_BYTES: usize = 4 * 1024 * 1024;

/// Connection timeouts of the public listener.
#[derive(Clone, Debug)]
pub struct ConnectionSettings {
    /// Time allowed to receive a request's headers.
    pub header_read_timeout: Duration,
    /// A connection with no request in progress and no traffic for this long is closed.
    pub idle_timeout: Duration,
    /// An answer that cannot be written for this long closes the connection.
    pub write_stall_timeout: Duration,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
            write_stall_timeout: Duration::from_secs(30),
        }
    }
}

/// Serves `app` on `listener` until `draining` is cancelled and every
/// connection has finished.
pub async fn serve(listener: TcpListener, app: Router, settings: ConnectionSettings, draining: CancellationToken) {
    // Every connection task holds a clone of `open`; `recv` returns None once all are gone.
    let (open, mut all_closed) = mpsc::channel::<()>(1);
    loop {
        tokio::select! {
            _ = draining.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    tokio::spawn(connection(stream, app.clone(), settings.clone(), draining.clone(), open.clone()));
                }
                Err(error) => {
                    // Out of file descriptors and the like: do not spin.
                    warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    drop(open);
    let _ = all_closed.recv().await;
}

async fn connection(stream: TcpStream, app: Router, settings: ConnectionSettings, draining: CancellationToken, _open: mpsc::Sender<()>) {
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched { inner: stream, activity: activity.clone(), linger: None });
    let in_progress = activity.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let app = app.clone();
        // A request is in progress from its headers until its answer's headers.
        let guard = in_progress.begin();
        async move {
            let response = app.oneshot(request.map(Body::new)).await;
            drop(guard);
            response
        }
    });
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(settings.header_read_timeout).keep_alive(true);
    let mut conn = pin!(builder.serve_connection(io, service));
    let check_every =
        (settings.idle_timeout.min(settings.write_stall_timeout) / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
    let mut tick = tokio::time::interval(check_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut shutting_down = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(error) = result {
                    debug!(%error, "connection ended with an error");
                }
                return;
            }
            _ = draining.cancelled(), if !shutting_down => {
                shutting_down = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = tick.tick() => {
                let now = Instant::now();
                if activity.write_stalled_for(now) >= settings.write_stall_timeout {
                    debug!("closing a connection whose client does not read");
                    return;
                }
                if activity.in_progress() == 0 && activity.idle_for(now) >= settings.idle_timeout {
                    debug!("closing an idle connection");
                    return;
                }
            }
        }
    }
}

/// What a connection is doing, for the idle and stall checks.
struct Activity {
    requests: AtomicUsize,
    last_io: Mutex<Instant>,
    write_blocked_since: Mutex<Option<Instant>>,
}

struct InProgress(Arc<Activity>);

impl Drop for InProgress {
    fn drop(&mut self) {
        self.0.requests.fetch_sub(1, Ordering::AcqRel);
        self.0.touch();
    }
}

impl Activity {
    fn new() -> Self {
        Self { requests: AtomicUsize::new(0), last_io: Mutex::new(Instant::now()), write_blocked_since: Mutex::new(None) }
    }

    fn begin(self: &Arc<Self>) -> InProgress {
        self.requests.fetch_add(1, Ordering::AcqRel);
        InProgress(self.clone())
    }

    fn in_progress(&self) -> usize {
        self.requests.load(Ordering::Acquire)
    }

    fn touch(&self) {
        *self.last_io.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    fn idle_for(&self, now: Instant) -> Duration {
        now.saturating_duration_since(*self.last_io.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn write_result<T>(&self, poll: &Poll<io::Result<T>>) {
        let mut blocked = self.write_blocked_since.lock().unwrap_or_else(|e| e.into_inner());
        match poll {
            Poll::Pending => {
                blocked.get_or_insert_with(Instant::now);
            }
            Poll::Ready(_) => *blocked = None,
        }
    }

    fn write_stalled_for(&self, now: Instant) -> Duration {
        self.write_blocked_since.lock().unwrap_or_else(|e| e.into_inner()).map_or(Duration::ZERO, |at| now.saturating_duration_since(at))
    }
}

/// A socket that reports reads, writes and blocked writes to its [`Activity`],
/// and lingers when it is shut down.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
    linger: Option<Linger>,
}

/// What is left of a lingering close.
struct Linger {
    until: Pin<Box<Sleep>>,
    bytes_left: usize,
}

impl Linger {
    fn new() -> Self {
        Self { until: Box::pin(tokio::time::sleep(LINGER)), bytes_left: LINGER_BYTES }
    }

    /// Reads and drops until the client closes, fails, or a bound is reached.
    fn drain(&mut self, stream: &mut TcpStream, cx: &mut Context<'_>) -> Poll<()> {
        let mut scratch = [0u8; 8192];
        loop {
            if self.bytes_left == 0 || self.until.as_mut().poll(cx).is_ready() {
                return Poll::Ready(());
            }
            let mut buf = ReadBuf::new(&mut scratch);
            match ready!(Pin::new(&mut *stream).poll_read(cx, &mut buf)) {
                Ok(()) if !buf.filled().is_empty() => self.bytes_left = self.bytes_left.saturating_sub(buf.filled().len()),
                _ => return Poll::Ready(()),
            }
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(poll, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        poll
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.written(&poll);
        poll
    }

    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.written(&poll);
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_flush(cx);
        self.activity.write_result(&poll);
        poll
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let linger = match &mut this.linger {
            Some(linger) => linger,
            None => {
                ready!(Pin::new(&mut this.inner).poll_shutdown(cx))?;
                this.linger.insert(Linger::new())
            }
        };
        ready!(linger.drain(&mut this.inner, cx));
        Poll::Ready(Ok(()))
    }
}

impl Watched {
    fn written(&self, poll: &Poll<io::Result<usize>>) {
        self.activity.write_result(poll);
        if matches!(poll, Poll::Ready(Ok(n)) if *n > 0) {
            self.activity.touch();
        }
    }
}
