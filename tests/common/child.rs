//! `modspec serve` as a child process: started with arguments (optionally
//! under a lower file-descriptor limit), its stdout lines, its memory.
//! `MODSPEC_SERVE_BIN` runs another build (e.g. the release binary, for
//! the figures in BENCHMARKS.md) instead of the test's own.

use std::io::{BufRead, BufReader, Lines};
use std::net::SocketAddr;
use std::process::{Child, ChildStdout, Command, Stdio};

/// The binary the child runs.
pub fn bin() -> String {
    std::env::var("MODSPEC_SERVE_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_modspec").to_string())
}

/// `modspec serve` with these arguments, killed when dropped.
pub struct Serve {
    pub child: Child,
    pub lines: Lines<BufReader<ChildStdout>>,
}

impl Serve {
    pub fn start(args: &[&str]) -> Serve {
        Self::start_opts(args, None, false)
    }

    /// Under `ulimit -n fds` if given (as a server on a default Linux
    /// account runs); with `log`, stderr is kept at `warn` (the request log
    /// off, so the pipe cannot fill) and [`Serve::log`] reads it.
    pub fn start_opts(args: &[&str], fd_limit: Option<u32>, log: bool) -> Serve {
        let mut cmd = match fd_limit {
            Some(fds) => {
                let mut c = Command::new("sh");
                c.arg("-c")
                    .arg(format!("ulimit -n {fds} && exec \"$0\" serve \"$@\""))
                    .arg(bin())
                    .args(args);
                c
            }
            None => {
                let mut c = Command::new(bin());
                c.arg("serve").args(args);
                c
            }
        };
        if log {
            cmd.env("RUST_LOG", "modspec=warn").stderr(Stdio::piped());
        } else {
            cmd.stderr(Stdio::null());
        }
        let mut child = cmd.stdout(Stdio::piped()).spawn().expect("start modspec serve");
        let lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        Serve { child, lines }
    }

    /// Stops the child and returns what it logged (started with `log`).
    pub fn log(mut self) -> String {
        use std::io::Read;
        let _ = self.child.kill();
        let mut text = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut text);
        }
        text
    }

    pub fn line(&mut self) -> String {
        self.lines.next().expect("a line").expect("utf-8")
    }

    /// The first line: the API's address.
    pub fn addr(&mut self) -> SocketAddr {
        let l = self.line();
        l.parse().unwrap_or_else(|e| panic!("{e}: {l}"))
    }

    /// Resident memory now and at its peak (`VmRSS`, `VmHWM`), in bytes.
    pub fn rss(&self) -> Rss {
        rss_of(self.child.id())
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Rss {
    pub now: u64,
    pub peak: u64,
}

pub const MIB: u64 = 1024 * 1024;

/// Reads `/proc/<pid>/status`.
pub fn rss_of(pid: u32) -> Rss {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/<pid>/status");
    let kb = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"))
            * 1024
    };
    Rss {
        now: kb("VmRSS:"),
        peak: kb("VmHWM:"),
    }
}

/// How long a normal request may take while an attack runs (generous, so
/// it cannot flake on a busy machine; the aim, under 100 ms, is measured,
/// not asserted, and goes to BENCHMARKS.md).
pub const ANSWER_BOUND: std::time::Duration = std::time::Duration::from_secs(5);

/// `n` normal signed V3 DryRun requests to `addr` (each over a new
/// connection) from a thread and runtime of their own, so an attack's tasks
/// in the test process cannot delay them: the latency measured is the
/// server's. Each must be answered correctly within [`ANSWER_BOUND`].
pub fn probe(
    addr: SocketAddr,
    world: modspec::client::WorldHandle,
    n: usize,
) -> std::thread::JoinHandle<Vec<std::time::Duration>> {
    use super::{DRY, JSON, assert_passed, attach};
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut seen = Vec::new();
            for _ in 0..n {
                let t = attach(addr);
                let started = std::time::Instant::now();
                let r = tokio::time::timeout(ANSWER_BOUND, t.send_v3(&t.v3(&world, DRY)))
                    .await
                    .expect("a normal request is answered under attack");
                seen.push(started.elapsed());
                assert_passed(&t, &r, JSON);
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            seen
        })
    })
}
