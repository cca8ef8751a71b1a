//! Tests of the code we ship outside the learner's regions (`BufStream`). They live in the
//! solution crate, not in the shared `exercises/10-data/tests/data.rs`, because every test
//! of that shared file must fail on the unsolved exercise, and these pass on it.
//!
//! `BufStream` works over any `Read + Write`, so an in-memory stream stands in for TLS.

use std::io::{self, BufRead, Cursor, Read, Write};

use ch10_data::BufStream;

// No verdict here depends on the CAs this machine trusts (see the macro).
testkit::no_system_trust!();

/// A stream in memory: reads come from `input`, writes go to `output`.
struct Memory {
    input: Cursor<Vec<u8>>,
    output: Vec<u8>,
}

impl Memory {
    fn with_input(input: &[u8]) -> Memory {
        Memory {
            input: Cursor::new(input.to_vec()),
            output: Vec::new(),
        }
    }
}

impl Read for Memory {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.input.read(buf)
    }
}

impl Write for Memory {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn read_gives_the_stream_s_bytes_in_order() {
    let mut s = BufStream::new(Memory::with_input(b"hello world"));
    let mut first = [0u8; 5];
    let n = s.read(&mut first).unwrap();
    assert_eq!(
        &first[..n],
        b"hello",
        "BufStream's read gives the bytes of the stream underneath, in order, as many as fit"
    );
    let mut rest = [0u8; 64];
    let n = s.read(&mut rest).unwrap();
    assert_eq!(
        &rest[..n],
        b" world",
        "BufStream's read gives the rest of the stream's bytes after the first read"
    );
    let n = s.read(&mut rest).unwrap();
    assert_eq!(
        n, 0,
        "BufStream's read returns 0 once the stream underneath has ended"
    );
}

#[test]
fn buffered_input_is_what_was_read_and_not_yet_consumed() {
    let mut s = BufStream::new(Memory::with_input(b"one\ntwo\n"));
    assert_eq!(
        s.buffered_input(),
        b"",
        "nothing is buffered before the first read"
    );
    let mut line = String::new();
    s.read_line(&mut line).unwrap();
    assert_eq!(line, "one\n");
    assert_eq!(
        s.buffered_input(),
        b"two\n",
        "buffered_input() is the bytes already read from the stream and not yet consumed: \
         after reading the first line of \"one\\ntwo\\n\", the second line is waiting there"
    );
}

#[test]
fn writes_wait_for_flush() {
    let mut s = BufStream::new(Memory::with_input(b""));
    s.write_all(b"answer\n").unwrap();
    assert_eq!(
        s.get_mut().output,
        b"",
        "writes collect in the write buffer until flush"
    );
    s.flush().unwrap();
    assert_eq!(
        s.get_mut().output,
        b"answer\n",
        "flush sends what the write buffer holds"
    );
}
