//! The socket side of one connection: the first request head read under our own limits
//! (so an oversized request line is answered 414 and oversized headers 431, with a reason,
//! before any parser buffers them), the bytes already read handed back to the HTTP parser,
//! writes that give up on a client that stopped reading, and the few fixed answers given
//! without a parser.

use super::limits::Limits;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

/// What reading the first request head of a connection found.
#[derive(Debug, PartialEq, Eq)]
pub enum FirstHead {
    /// Everything read so far (the head, and whatever followed it in the same reads).
    Complete(Vec<u8>),
    LineTooLong,
    HeadTooLarge,
    /// The client closed before sending a head.
    Closed,
}

/// Where the head ends in `buf` (after the empty line), if it does yet. Leading empty
/// lines are tolerated, as RFC 9112 asks.
fn head_end(buf: &[u8]) -> Option<usize> {
    let start = buf.iter().position(|b| *b != b'\r' && *b != b'\n')?;
    let body = &buf[start..];
    let mut i = 0;
    while let Some(nl) = body[i..].iter().position(|b| *b == b'\n') {
        let line_end = i + nl;
        let line = &body[i..line_end];
        if line.is_empty() || line == b"\r" {
            return Some(start + line_end + 1);
        }
        i = line_end + 1;
    }
    None
}

/// The request line's length so far (to its newline, or everything when none arrived).
fn request_line_len(buf: &[u8]) -> usize {
    let start = buf.iter().position(|b| *b != b'\r' && *b != b'\n').unwrap_or(buf.len());
    buf[start..].iter().position(|b| *b == b'\n').unwrap_or(buf.len() - start)
}

/// Classifies what has been read of a first head.
pub fn classify(buf: &[u8], limits: &Limits) -> Option<FirstHead> {
    if request_line_len(buf) > limits.max_request_line {
        return Some(FirstHead::LineTooLong);
    }
    match head_end(buf) {
        Some(end) if end > limits.max_head => Some(FirstHead::HeadTooLarge),
        Some(_) => Some(FirstHead::Complete(buf.to_vec())),
        None if buf.len() > limits.max_head => Some(FirstHead::HeadTooLarge),
        None => None,
    }
}

/// Reads until the first head is complete or a limit is crossed (the caller bounds the
/// time it may take).
pub async fn read_first_head(stream: &mut TcpStream, limits: &Limits) -> io::Result<FirstHead> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(FirstHead::Closed);
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(found) = classify(&buf, limits) {
            return Ok(found);
        }
    }
}

/// A fixed answer written without the parser, then the connection is closed. What the
/// client was still sending is read and dropped for a moment first, so that closing does
/// not reset the connection before the client has read the answer.
pub async fn answer_and_close(mut stream: TcpStream, status: &str, reason: &str) {
    let body = format!("{reason}\n");
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\r\n{body}",
        body.len()
    );
    let wrote = tokio::time::timeout(Duration::from_secs(1), stream.write_all(response.as_bytes())).await;
    if !matches!(wrote, Ok(Ok(()))) {
        return;
    }
    let _ = stream.shutdown().await;
    let drain = async {
        let mut sink = [0u8; 8192];
        let mut left: usize = 4 * 1024 * 1024;
        while left > 0 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(500), drain).await;
}

/// The connection as the HTTP parser sees it: the bytes already read first, then the
/// socket; a write stalled longer than `write_timeout` fails.
pub struct Connection {
    already_read: Vec<u8>,
    replayed: usize,
    stream: TcpStream,
    write_timeout: Duration,
    write_stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Connection {
    pub fn new(stream: TcpStream, already_read: Vec<u8>, write_timeout: Duration) -> Connection {
        Connection { already_read, replayed: 0, stream, write_timeout, write_stalled: None }
    }

    /// Called when a write could not proceed: fails once the stall outlasts the timeout.
    fn stalled<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let timeout = self.write_timeout;
        let sleep = self.write_stalled.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the client stopped reading"))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn progressed<T>(&mut self, result: Poll<io::Result<T>>, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        match result {
            Poll::Ready(r) => {
                self.write_stalled = None;
                Poll::Ready(r)
            }
            Poll::Pending => self.stalled(cx),
        }
    }
}

impl AsyncRead for Connection {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.replayed < this.already_read.len() {
            let rest = &this.already_read[this.replayed..];
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.replayed += n;
            if this.replayed == this.already_read.len() {
                this.already_read = Vec::new();
                this.replayed = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.progressed(result, cx)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_flush(cx);
        this.progressed(result, cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_shutdown(cx);
        this.progressed(result, cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_head_is_complete_at_its_empty_line() {
        let limits = Limits::default();
        assert_eq!(classify(b"GET / HTTP/1.1\r\nHost: x\r\n", &limits), None);
        let full = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /status HTTP/1.1\r\n".to_vec();
        assert_eq!(classify(&full, &limits), Some(FirstHead::Complete(full.clone())));
        assert!(matches!(classify(b"\r\nGET / HTTP/1.1\nHost: x\n\n", &limits), Some(FirstHead::Complete(_))));
    }

    #[test]
    fn oversized_lines_and_heads_are_told_apart() {
        let limits = Limits::default();
        let long_line = format!("GET /metrics?{} HTTP/1.1\r\n", "a".repeat(limits.max_request_line));
        assert_eq!(classify(long_line.as_bytes(), &limits), Some(FirstHead::LineTooLong));
        assert_eq!(classify(&long_line.as_bytes()[..limits.max_request_line + 1], &limits), Some(FirstHead::LineTooLong), "no newline needed");
        let many_headers = format!("GET / HTTP/1.1\r\n{}", "X-Filler: 0123456789abcdef\r\n".repeat(limits.max_head / 20));
        assert_eq!(classify(many_headers.as_bytes(), &limits), Some(FirstHead::HeadTooLarge));
    }
}
