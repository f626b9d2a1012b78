//! `modspec run`'s progress lines: when stderr is not a terminal (a CI log,
//! a pipe), one line every few seconds, so a long run against a slow
//! target is never silent. On a terminal the run stays quiet until its
//! report, as before.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use modspec::runner::Progress;

/// Prints [`Progress::line`] to stderr every `every` until dropped.
pub(crate) struct Ticker {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    /// A ticker for `progress`, or none when stderr is a terminal or
    /// `every` is zero.
    pub(crate) fn start(progress: &Arc<Progress>, every: Duration) -> Option<Ticker> {
        if every.is_zero() || std::io::stderr().is_terminal() {
            return None;
        }
        let (stop, stopped) = channel::<()>();
        let progress = progress.clone();
        let started = Instant::now();
        let thread = std::thread::spawn(move || {
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                let line = progress.line();
                let _ = writeln!(std::io::stderr(), "{line} in {:.0}s", started.elapsed().as_secs_f64());
            }
        });
        Some(Ticker {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
