//! [`BufStream`]: one stream buffered in both directions, the job of the tutorial's
//! `BIO_f_buffer` pushed on top of an SSL BIO.
//!
//! `std` has `BufReader` and `BufWriter` but nothing that does both for one stream, so this
//! puts a `BufWriter` inside a `BufReader`. Reads go through the read buffer; writes collect
//! in the write buffer until it is full or until [`Write::flush`]. Nothing flushes by itself
//! before a read: like `BIO_f_buffer`, it trusts you to flush before you wait for an answer.

use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};

/// The write side, made readable so that a `BufReader` can sit on top of it. Reads go
/// straight to the stream underneath, past the (possibly unflushed) write buffer.
struct WriteBuffered<S: Write>(BufWriter<S>);

impl<S: Read + Write> Read for WriteBuffered<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.get_mut().read(buf)
    }
}

/// A stream with a read buffer and a write buffer.
pub struct BufStream<S: Read + Write> {
    inner: BufReader<WriteBuffered<S>>,
}

impl<S: Read + Write> BufStream<S> {
    pub fn new(stream: S) -> BufStream<S> {
        BufStream {
            inner: BufReader::new(WriteBuffered(BufWriter::new(stream))),
        }
    }

    /// The bytes already read from the stream and not yet consumed. When this is empty, the
    /// next read waits for the peer: flush first if the peer is waiting for you.
    pub fn buffered_input(&self) -> &[u8] {
        self.inner.buffer()
    }

    /// The stream underneath (for `shutdown()`, `ssl()`, ...). Writing to it directly skips
    /// whatever still sits in the write buffer.
    pub fn get_mut(&mut self) -> &mut S {
        self.inner.get_mut().0.get_mut()
    }
}

impl<S: Read + Write> Read for BufStream<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl<S: Read + Write> BufRead for BufStream<S> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.inner.consume(amt)
    }
}

impl<S: Read + Write> Write for BufStream<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.get_mut().0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.get_mut().0.flush()
    }
}
