//! The API's connections, held to account: a request's head must arrive within the header-read
//! timeout, a client that sends nothing while the API waits for it is dropped after the idle
//! timeout, and at most `max_connections` are open at once. At the cap the oldest connection
//! that is not inside a request (a half-sent head, an idle keep-alive) is closed to make room,
//! so that a flood of slow clients cannot keep others out. On shutdown the listener closes,
//! connections not inside a request close at once, requests in flight get the grace period,
//! and whatever is left then is dropped: the process never waits on a client.

use crate::config::ConnectionSettings;
use axum::Router;
use http_body_util::BodyExt;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// File descriptors kept for everything but the API's connections (the database, the
/// scraper's and webhooks' sockets, the browser).
const RESERVED_FILES: u64 = 1024;

/// One open connection, as the server sees it.
struct Conn {
    /// Requests on it whose response has not been sent in full.
    busy: Arc<AtomicUsize>,
    /// Closes it at once.
    close: CancellationToken,
}

/// The open connections, oldest first.
#[derive(Default)]
struct Conns {
    open: Mutex<BTreeMap<u64, Conn>>,
    gone: tokio::sync::Notify,
}

impl Conns {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Conn>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes room for one more under `cap`: closes the oldest connection not inside a
    /// request. False when every one is busy.
    fn make_room(&self, cap: usize) -> bool {
        let open = self.lock();
        if open.len() < cap {
            return true;
        }
        crate::metrics::METRICS.http_connections_shed.inc();
        match open.values().find(|c| c.busy.load(Ordering::Acquire) == 0 && !c.close.is_cancelled()) {
            Some(idle) => {
                idle.close.cancel();
                true
            }
            None => false,
        }
    }

    /// Closes every connection not inside a request; with `all`, every one.
    fn close(&self, all: bool) {
        for conn in self.lock().values() {
            if all || conn.busy.load(Ordering::Acquire) == 0 {
                conn.close.cancel();
            }
        }
    }

    fn insert(&self, id: u64, conn: Conn) {
        self.lock().insert(id, conn);
        crate::metrics::METRICS.http_connections.inc();
    }

    fn remove(&self, id: u64) {
        self.lock().remove(&id);
        crate::metrics::METRICS.http_connections.dec();
        self.gone.notify_waiters();
    }

    /// Waits until no connection is open.
    async fn drained(&self) {
        loop {
            let gone = self.gone.notified();
            if self.lock().is_empty() {
                return;
            }
            gone.await;
        }
    }
}

/// The connection cap the settings ask for, within what the process may open: the soft limit
/// on open files is raised to the hard one first.
fn connection_cap(wanted: usize) -> usize {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read or write the struct given.
    let files = unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return wanted;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit.rlim_cur = limit.rlim_max;
            }
        }
        limit.rlim_cur
    };
    let room = usize::try_from(files.saturating_sub(RESERVED_FILES).max(files / 2)).unwrap_or(usize::MAX);
    if room < wanted {
        tracing::warn!(
            wanted,
            open_files_limit = files,
            cap = room,
            "KRAWLR_MAX_CONNECTIONS lowered to fit the open-files limit"
        );
    }
    wanted.min(room).max(1)
}

/// Serves `router` on `listener` until `shutdown` is cancelled, then as described above.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    settings: &ConnectionSettings,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let cap = connection_cap(settings.max_connections);
    let conns = Arc::new(Conns::default());
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(settings.header_read_timeout).keep_alive(true);
    let mut next_id = 0u64;
    loop {
        let (stream, _peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of files or memory for a moment, or a connection reset before it was
                    // accepted: none of them ends the server.
                    tracing::debug!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        if !conns.make_room(cap) {
            continue;
        }
        let _ = stream.set_nodelay(true);
        next_id += 1;
        let (id, busy, close) = (next_id, Arc::new(AtomicUsize::new(0)), CancellationToken::new());
        conns.insert(id, Conn { busy: busy.clone(), close: close.clone() });
        let service = hyper::service::service_fn({
            let router = router.clone();
            move |request: hyper::Request<hyper::body::Incoming>| {
                let in_request = InRequest::enter(&busy);
                let router = router.clone();
                async move {
                    let response = router.oneshot(request.map(axum::body::Body::new)).await?;
                    // The request counts as in flight until its body is sent or dropped.
                    Ok::<_, std::convert::Infallible>(response.map(|body| {
                        axum::body::Body::new(body.map_frame(move |frame| {
                            let _ = &in_request;
                            frame
                        }))
                    }))
                }
            }
        });
        let io = TokioIo::new(IdleTimeout::new(stream, settings.idle_timeout));
        let connection = http.serve_connection(io, service);
        let (conns, shutdown) = (conns.clone(), shutdown.clone());
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = close.cancelled() => {}
                _ = shutdown.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    tokio::select! {
                        _ = connection.as_mut() => {}
                        _ = close.cancelled() => {}
                    }
                }
            }
            conns.remove(id);
        });
    }
    drop(listener);
    conns.close(false);
    if tokio::time::timeout(settings.shutdown_grace, conns.drained()).await.is_err() {
        tracing::warn!(grace = ?settings.shutdown_grace, "requests still in flight after the grace period; closing them");
        conns.close(true);
        let _ = tokio::time::timeout(Duration::from_secs(1), conns.drained()).await;
    }
    Ok(())
}

/// Counts one request in flight on its connection while it lives.
struct InRequest(Arc<AtomicUsize>);

impl InRequest {
    fn enter(busy: &Arc<AtomicUsize>) -> InRequest {
        busy.fetch_add(1, Ordering::AcqRel);
        InRequest(busy.clone())
    }
}

impl Drop for InRequest {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A socket that fails a read when the client has sent nothing for `timeout` while the server
/// waits to read (a body trickled in byte by byte). Writes (a response, an event stream's
/// keep-alives) count as activity too.
struct IdleTimeout {
    stream: TcpStream,
    timeout: Duration,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl IdleTimeout {
    fn new(stream: TcpStream, timeout: Duration) -> IdleTimeout {
        IdleTimeout { stream, timeout, deadline: Box::pin(tokio::time::sleep(timeout)) }
    }

    fn active(&mut self) {
        self.deadline.as_mut().reset(tokio::time::Instant::now() + self.timeout);
    }
}

impl AsyncRead for IdleTimeout {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(result) => {
                this.active();
                Poll::Ready(result)
            }
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(std::io::ErrorKind::TimedOut.into())),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl AsyncWrite for IdleTimeout {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write(cx, data);
        if written.is_ready() {
            this.active();
        }
        written
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        if written.is_ready() {
            this.active();
        }
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
