//! An external program as a guard: spawned with its output captured, killed on drop.
//!
//! A guard's `Drop` does not run when the test program dies without unwinding (SIGKILL,
//! SIGTERM, an abort). So that no peer outlives it even then, every program is started
//! with `PR_SET_PDEATHSIG` (Linux): the kernel kills it when the thread that forked it
//! ends. That is a *thread*, not the process: a peer forked on a test's own thread would be
//! killed as soon as that thread ended, even if another thread still uses it. So every
//! program is forked by one spawner thread that lives as long as the test program, and the
//! signal comes exactly when the test program dies.
//!
//! Every program also gets [`PEER_MARKER`] in its environment (the test program's pid),
//! so `.ci/run` can tell the processes the tests started from any other `openssl` on the
//! machine.

use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// The environment variable every program started through this module carries: the pid of
/// the test program that started it.
pub const PEER_MARKER: &str = "TLS_WORKBOOK_TEST_PEER";

type SpawnJob = (Command, mpsc::Sender<io::Result<Child>>);

/// The thread that forks every program (see the module's comment); it never ends.
fn spawner() -> &'static Mutex<mpsc::Sender<SpawnJob>> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<SpawnJob>>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnJob>();
        thread::Builder::new()
            .name("testkit: the peers' parent".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .expect("start the thread that starts peers");
        Mutex::new(tx)
    })
}

/// Starts `cmd` from the spawner thread, marked and tied to this process's life.
pub fn spawn_tied(mut cmd: Command) -> io::Result<Child> {
    cmd.env(PEER_MARKER, std::process::id().to_string());
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // Its own process group, so that the guard kills what it starts too (a `sh -c`
        // leaves its `sleep` behind otherwise). Its stdin is a pipe, never the terminal.
        cmd.process_group(0);
        // SAFETY: getpid/prctl/getppid/_exit are async-signal-safe, as pre_exec requires.
        let parent = unsafe { libc::getpid() };
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
                // The test program may have died between fork and prctl.
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
    }
    let (tx, rx) = mpsc::channel();
    spawner()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .send((cmd, tx))
        .map_err(|_| io::Error::other("the thread that starts peers is gone"))?;
    rx.recv()
        .map_err(|_| io::Error::other("the thread that starts peers is gone"))?
}

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
        Process::try_spawn(program, args, &[]).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Process::spawn`] with variables added to the program's environment, and an error
    /// instead of a panic when the program cannot start.
    pub fn try_spawn<I, S>(program: &str, args: I, env: &[(&str, &str)]) -> Result<Process, String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let mut cmd = Command::new(program);
        cmd.args(&args)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // grade.rs (the workbook) recognises "The tests need the real `" as "the machine
        // is not ready", not as a verdict on the learner's code: keep the words.
        let mut child = spawn_tied(cmd).map_err(|e| {
            format!(
                "cannot start `{program}`: {e}. The tests need the real `{program}` program \
                 as a peer; `workbook doctor` says how to install it."
            )
        })?;
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            drain(child.stdout.take().unwrap(), stdout.clone()),
            drain(child.stderr.take().unwrap(), stderr.clone()),
        ];
        // A script passed inline (`python3 -c SOURCE`) is named by its size, not printed:
        // a failure message names the peer in one line.
        let shown: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .map(|a| match a.lines().count() {
                n if n > 1 => format!("<a script of {n} lines>"),
                _ => a,
            })
            .collect();
        Ok(Process {
            name: format!("{program} {}", shown.join(" ")),
            stdin: child.stdin.take(),
            child,
            stdout,
            stderr,
            readers,
            status: None,
        })
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

    /// Both, labelled, for a failure message. The workbook's `check` moves everything from
    /// the first line to "--- end ---" into a log file and names the file instead.
    pub fn transcript(&self) -> String {
        format!(
            "--- `{}` stdout ---\n{}\n--- stderr ---\n{}\n--- end ---",
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

    /// Waits until stdout or stderr holds a whole line (ended by a newline) that starts
    /// with `prefix`, and returns the rest of that line, trimmed. A line still being
    /// written is not read: a program may write "LISTENING" and the port separately.
    pub fn wait_for_line(&mut self, prefix: &str, timeout: Duration) -> Result<String, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let exited = self.try_status();
            if exited.is_some() {
                // Let the readers catch the last bytes before judging.
                for r in self.readers.drain(..) {
                    let _ = r.join();
                }
            }
            for text in [self.stdout(), self.stderr()] {
                if let Some(rest) = whole_line_after(&text, prefix) {
                    return Ok(rest);
                }
            }
            if let Some(status) = exited {
                return Err(format!(
                    "`{}` exited ({status}) before printing a line starting with {prefix:?}\n{}",
                    self.name,
                    self.transcript()
                ));
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "`{}` did not print a line starting with {prefix:?} within {} s\n{}",
                    self.name,
                    timeout.as_secs(),
                    self.transcript()
                ));
            }
            thread::sleep(Duration::from_millis(5));
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

/// The rest of the first whole line of `text` (ended by a newline) that starts with
/// `prefix`, trimmed.
pub fn whole_line_after(text: &str, prefix: &str) -> Option<String> {
    let whole = &text[..text.rfind('\n')? + 1];
    whole
        .lines()
        .find_map(|l| l.trim().strip_prefix(prefix))
        .map(|rest| rest.trim().to_string())
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stdin = None;
        let running = self.try_status().is_none();
        #[cfg(target_os = "linux")]
        if let Ok(group) = i32::try_from(self.child.id()) {
            // The whole group: the program and whatever it started. While any of them
            // lives, the group's id cannot name another process.
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(-group, libc::SIGKILL) };
        }
        if running {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
