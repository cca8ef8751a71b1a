//! An external program as a guard: spawned with its output captured, killed on drop.

use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// A running program. Dropping it kills the program and reaps it, so no test leaves a
/// process behind, whether it passes or fails.
pub struct Process {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<thread::JoinHandle<()>>,
    status: Option<ExitStatus>,
}

fn drain(
    mut from: impl Read + Send + 'static,
    into: Arc<Mutex<Vec<u8>>>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => into.lock().unwrap().extend_from_slice(&buf[..n]),
            }
        }
    })
}

impl Process {
    /// Starts `program` with `args`, stdin piped (and kept open until [`Process::close_stdin`]),
    /// stdout and stderr captured. A missing program is a panic that says how to install it,
    /// since a test that skips its peer proves nothing.
    pub fn spawn<I, S>(program: &str, args: I) -> Process
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let mut child = Command::new(program)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start `{program}`: {e}. The tests need the real `{program}` program \
                     as a peer; `workbook doctor` says how to install it."
                )
            });
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            drain(child.stdout.take().unwrap(), stdout.clone()),
            drain(child.stderr.take().unwrap(), stderr.clone()),
        ];
        let shown: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        Process {
            name: format!("{program} {}", shown.join(" ")),
            stdin: child.stdin.take(),
            child,
            stdout,
            stderr,
            readers,
            status: None,
        }
    }

    /// The command line, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the program printed on stdout so far.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned()
    }

    /// What the program printed on stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// Both, labelled, for a failure message.
    pub fn transcript(&self) -> String {
        format!(
            "--- `{}` stdout ---\n{}\n--- stderr ---\n{}",
            self.name,
            self.stdout().trim_end(),
            self.stderr().trim_end()
        )
    }

    /// Writes to the program's stdin.
    pub fn send(&mut self, data: &[u8]) -> io::Result<()> {
        match self.stdin.as_mut() {
            Some(s) => {
                s.write_all(data)?;
                s.flush()
            }
            None => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "stdin already closed",
            )),
        }
    }

    /// Closes stdin: `openssl s_client` takes that as "done sending" and shuts down.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits until stdout or stderr contains `needle`; returns the stream's text. After
    /// `timeout`, or if the program exits first, returns an error that includes the transcript.
    pub fn wait_for(&mut self, needle: &str, timeout: Duration) -> Result<String, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let (out, err) = (self.stdout(), self.stderr());
            if out.contains(needle) {
                return Ok(out);
            }
            if err.contains(needle) {
                return Ok(err);
            }
            if let Some(status) = self.try_status() {
                // Let the readers catch the last bytes before judging.
                thread::sleep(Duration::from_millis(50));
                if self.stdout().contains(needle) || self.stderr().contains(needle) {
                    continue;
                }
                return Err(format!(
                    "`{}` exited ({status}) before printing {needle:?}\n{}",
                    self.name,
                    self.transcript()
                ));
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "`{}` did not print {needle:?} within {} s\n{}",
                    self.name,
                    timeout.as_secs(),
                    self.transcript()
                ));
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// Waits for the program to exit by itself; `None` if it is still running after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.try_status() {
                for r in self.readers.drain(..) {
                    let _ = r.join();
                }
                return Some(s);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// The process id, for tests that check nothing is left behind.
    pub fn id(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stdin = None;
        if self.try_status().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
