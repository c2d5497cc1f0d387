//! The standard streams a caller gives a container process, in terms every backend takes:
//! this process's own stdio, nothing, or a reader/writer the caller owns (a log, a buffer).

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

/// A writer several streams (and restarts of a process) can share.
pub type SharedWriter = Arc<Mutex<Box<dyn Write + Send>>>;

/// Where a process's stdin comes from.
#[derive(Clone, Default)]
pub enum Input {
    /// End of file at once.
    #[default]
    Null,
    /// This skiff process's own stdin (a terminal, a pipe).
    Inherit,
    /// Bytes from the caller.
    Reader(Arc<Mutex<Box<dyn Read + Send>>>),
}

/// Where a process's stdout or stderr goes.
#[derive(Clone, Default)]
pub enum Output {
    /// Discarded.
    #[default]
    Null,
    /// This skiff process's own stdout (for fd 1) or stderr (for fd 2).
    Inherit,
    Writer(SharedWriter),
}

impl Output {
    pub fn writer(w: impl Write + Send + 'static) -> Output {
        Output::Writer(Arc::new(Mutex::new(Box::new(w))))
    }
}

impl Input {
    pub fn reader(r: impl Read + Send + 'static) -> Input {
        Input::Reader(Arc::new(Mutex::new(Box::new(r))))
    }
}

/// The three standard streams of a process.
#[derive(Clone, Default)]
pub struct Stdio {
    pub stdin: Input,
    pub stdout: Output,
    pub stderr: Output,
}

impl Stdio {
    /// This process's own streams (`exec`, an attached `run`); stdin only with `-i`.
    pub fn inherit(stdin: bool) -> Stdio {
        Stdio {
            stdin: if stdin { Input::Inherit } else { Input::Null },
            stdout: Output::Inherit,
            stderr: Output::Inherit,
        }
    }
}

/// A writer into a shared buffer (what `capture` reads back).
#[derive(Clone, Default)]
pub struct Buffer(pub Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}
