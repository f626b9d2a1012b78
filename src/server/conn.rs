//! The connection layer: our own accept loop over hyper's HTTP/1 connection
//! builder (and tokio-rustls for TLS), because `axum::serve` has neither
//! read timeouts nor a connection limit. Each connection task serves until
//! it ends, its phase times out (`activity::watchdog`) or the registry
//! evicts it to admit a newcomer; on shutdown, hyper's graceful shutdown
//! finishes the request in flight. A TLS port answers plain HTTP with a
//! plain 400 saying so.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

use super::activity::{Activity, Phase, Registry, Slot, watchdog};
use super::limits::ConnLimits;
use super::tls::TlsIdentity;

/// One listener and what it serves.
pub(super) struct Endpoint {
    pub(super) listener: TcpListener,
    pub(super) app: Router,
    pub(super) tls: Option<TlsIdentity>,
    /// Write response header names in Title-Case (variation mode).
    pub(super) title_case_headers: bool,
}

/// Accepts connections on `ep` until `stop` turns true; each connection
/// then finishes its request in flight and closes (graceful shutdown).
pub(super) async fn accept_loop(
    ep: Endpoint,
    registry: Arc<Registry>,
    limits: ConnLimits,
    mut stop: watch::Receiver<bool>,
) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(None)
        .max_buf_size(limits.max_head_bytes)
        .title_case_headers(ep.title_case_headers)
        .keep_alive(true);
    let tls = ep.tls.map(|t| tokio_rustls::TlsAcceptor::from(t.config));
    loop {
        let accepted = tokio::select! {
            a = ep.listener.accept() => a,
            () = stopped(&mut stop) => return,
        };
        let tcp = match accepted {
            Ok((tcp, _)) => tcp,
            Err(e) => {
                // EMFILE and friends: wait for descriptors to come back
                // rather than spinning (as axum::serve does).
                tracing::warn!(target: "modspec::conn", "accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let slot = tokio::select! {
            s = registry.admit() => s,
            () = stopped(&mut stop) => return,
        };
        let Some(slot) = slot else { continue };
        let conn = Conn {
            http: http.clone(),
            app: ep.app.clone(),
            tls: tls.clone(),
            limits,
            stop: stop.clone(),
        };
        tokio::spawn(conn.run(tcp, slot));
    }
}

/// Resolves once the server stops (or its stop signal is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Everything one connection task needs.
struct Conn {
    http: http1::Builder,
    app: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    limits: ConnLimits,
    stop: watch::Receiver<bool>,
}

impl Conn {
    async fn run(self, tcp: TcpStream, slot: Slot) {
        let _ = tcp.set_nodelay(true);
        let activity = slot.activity.clone();
        let limits = self.limits;
        let serve = self.serve(tcp, activity.clone());
        let watchdog = watchdog(&activity, &limits);
        tokio::pin!(serve, watchdog);
        loop {
            tokio::select! {
                () = &mut serve => break,
                () = activity.evict.notified() => {
                    // A request arrived since it was chosen: it stays, and
                    // the waiting newcomer picks another.
                    if activity.get().0 == Phase::Busy {
                        activity.evicting.store(false, Ordering::Relaxed);
                        slot.registry.freed.notify_waiters();
                        continue;
                    }
                    tracing::debug!(target: "modspec::conn", "connection evicted at the connection limit");
                    break;
                }
                phase = &mut watchdog => {
                    tracing::debug!(target: "modspec::conn", "connection closed: {phase:?} timeout");
                    break;
                }
            }
        }
        drop(slot);
    }

    async fn serve(self, tcp: TcpStream, activity: Arc<Activity>) {
        let metered = Metered {
            io: tcp,
            activity: activity.clone(),
        };
        let Some(tls) = self.tls.clone() else {
            return self.serve_http(metered, activity).await;
        };
        // A TLS client speaks first with a handshake record (0x16); anything
        // else is most likely plain HTTP, which gets a plain answer saying
        // so, as nginx and Go's net/http do, instead of a silent close.
        let mut first = [0u8; 1];
        match metered.io.peek(&mut first).await {
            Ok(1) if first[0] == 0x16 => {}
            Ok(1) => return plain_http_on_tls_port(metered).await,
            _ => return,
        }
        match tls.accept(metered).await {
            Ok(stream) => self.serve_http(stream, activity).await,
            Err(e) => tracing::debug!(target: "modspec::conn", "TLS handshake failed: {e}"),
        }
    }

    async fn serve_http<I>(self, io: I, activity: Arc<Activity>)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let app = self.app.clone();
        // Marks the connection busy while a request is handled and hands
        // the app a body that reports waiting.
        let service = hyper::service::service_fn(move |req: Request<Incoming>| {
            let app = app.clone();
            let activity = activity.clone();
            async move {
                activity.set(Phase::Busy);
                let req = req.map(|inner| {
                    Body::new(Tracked {
                        inner,
                        activity: activity.clone(),
                    })
                });
                let resp = app.oneshot(req).await;
                activity.set(Phase::Idle);
                resp
            }
        });
        let conn = self.http.serve_connection(TokioIo::new(io), service);
        tokio::pin!(conn);
        let mut stop = self.stop.clone();
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(target: "modspec::conn", "connection ended: {e}");
                }
            }
            () = stopped(&mut stop) => {
                conn.as_mut().graceful_shutdown();
                let _ = conn.await;
            }
        }
    }
}

/// The one answer to plain HTTP on a TLS port, then the connection closes.
async fn plain_http_on_tls_port(io: Metered<TcpStream>) {
    let svc = hyper::service::service_fn(|_req: Request<Incoming>| async {
        let text = "this port speaks HTTPS (TLS) and the request came in plain HTTP: use an https:// URL\n";
        Response::builder()
            .status(StatusCode::BAD_REQUEST)
            .header("content-type", "text/plain; charset=utf-8")
            .header("connection", "close")
            .body(Body::from(text))
    });
    let mut http = http1::Builder::new();
    http.keep_alive(false);
    let _ = http.serve_connection(TokioIo::new(io), svc).await;
}

/// A request body that tells the connection when its handler waits for
/// bytes (`Body`) and when it has them (`Busy`).
struct Tracked {
    inner: Incoming,
    activity: Arc<Activity>,
}

impl hyper::body::Body for Tracked {
    type Data = hyper::body::Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let r = Pin::new(&mut self.inner).poll_frame(cx);
        match r {
            Poll::Pending => self.activity.shift(Phase::Busy, Phase::Body),
            Poll::Ready(_) => self.activity.shift(Phase::Body, Phase::Busy),
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A socket that records when it last read a byte; the first byte after a
/// keep-alive pause starts the head clock.
struct Metered<S> {
    io: S,
    activity: Arc<Activity>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Metered<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.io).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.on_read();
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Metered<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}
