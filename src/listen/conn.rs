//! Connection limits: at most [`Limits::max_connections`](super::Limits) open at once
//! (default [`MAX_CONNECTIONS`]; further ones wait in the kernel's backlog until one
//! closes), and a connection on which nothing is read or written for
//! [`Limits::idle`](super::Limits) (default [`IDLE`]) is closed. The idle limit also bounds the time to send the request
//! headers and every pause in a body, so slow or abandoned clients cannot hold
//! connections, file descriptors or memory for long.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// Most connections served at once.
pub const MAX_CONNECTIONS: usize = 512;

/// A connection with no bytes read or written for this long is closed.
pub const IDLE: Duration = Duration::from_secs(60);

/// A listener that holds at most `max` connections, each closed after `idle` without
/// progress.
#[derive(Debug)]
pub struct Capped {
    listener: TcpListener,
    permits: Arc<Semaphore>,
    idle: Duration,
}

impl Capped {
    /// Wraps `listener`: at most `max` connections (at least one), each closed after
    /// `idle` without a byte read or written.
    #[must_use]
    pub fn new(listener: TcpListener, max: usize, idle: Duration) -> Self {
        Self {
            listener,
            permits: Arc::new(Semaphore::new(max.clamp(1, Semaphore::MAX_PERMITS))),
            idle,
        }
    }
}

impl axum::serve::Listener for Capped {
    type Io = Conn;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok(permit) = Arc::clone(&self.permits).acquire_owned().await else {
                // The semaphore is never closed; should it be, stop accepting for a while.
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            };
            match self.listener.accept().await {
                Ok((io, addr)) => {
                    let _ = io.set_nodelay(true);
                    return (
                        Conn {
                            io,
                            _permit: permit,
                            idle_for: self.idle,
                            idle: Box::pin(tokio::time::sleep(self.idle)),
                        },
                        addr,
                    );
                }
                // Out of file descriptors and the like: wait a little, as axum does.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}

/// A connection: its permit is given back when it is dropped, and it fails with
/// `TimedOut` after its idle limit without progress.
#[derive(Debug)]
pub struct Conn {
    io: TcpStream,
    _permit: OwnedSemaphorePermit,
    idle_for: Duration,
    idle: Pin<Box<Sleep>>,
}

impl Conn {
    fn progress(&mut self) {
        self.idle.as_mut().reset(Instant::now() + self.idle_for);
    }

    fn check_idle(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Error> {
        match self.idle.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the connection was idle too long",
            )),
            Poll::Pending => Poll::Pending,
        }
    }
}

use std::future::Future as _;

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(r) => {
                this.progress();
                Poll::Ready(r)
            }
            Poll::Pending => this.check_idle(cx).map(Err),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.io).poll_write(cx, buf) {
            Poll::Ready(r) => {
                this.progress();
                Poll::Ready(r)
            }
            Poll::Pending => this.check_idle(cx).map(Err),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.io).poll_write_vectored(cx, bufs) {
            Poll::Ready(r) => {
                this.progress();
                Poll::Ready(r)
            }
            Poll::Pending => this.check_idle(cx).map(Err),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
