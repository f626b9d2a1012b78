//! A child process measured as a whole: its exit code, its output, its wall
//! time and its peak RSS, read with `wait4` (the rusage of exactly that
//! child), with a watchdog that kills it if it outlives a bound. Shared by
//! the tests that put time and memory bounds on a `modspec` run.

// Each test file uses the parts it needs.
#![allow(dead_code)]

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a measured run came to.
pub struct Ran {
    /// `None` if it did not exit by itself (killed by the watchdog or a
    /// signal).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub wall: Duration,
    pub rss_mib: u64,
}

/// Runs `cmd` (its stdout and stderr are captured) and measures it; the
/// child is killed after `kill_after`. Blocking: call it off any runtime.
// The child is reaped by wait4 (which also gives its rusage).
#[allow(clippy::zombie_processes)]
pub fn run_measured(mut cmd: Command, kill_after: Duration) -> Ran {
    let started = Instant::now();
    let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(kill_after).is_err() {
            // SAFETY: kill(2) on the pid of our own child, not yet reaped.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });
    let read_all = |mut from: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            from.read_to_string(&mut s).ok();
            s
        })
    };
    let reader = read_all(Box::new(child.stdout.unwrap()));
    let err_reader = read_all(Box::new(child.stderr.unwrap()));
    let mut status = 0;
    // SAFETY: wait4 fills `status` and `usage` for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 failed");
    let wall = started.elapsed();
    let _ = done_tx.send(());
    watchdog.join().unwrap();
    Ran {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        stdout: reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
        wall,
        // ru_maxrss is in KiB on Linux.
        rss_mib: usage.ru_maxrss as u64 / 1024,
    }
}
