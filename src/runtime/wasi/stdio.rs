//! Host-owned standard streams: cloneable, so a child can inherit its parent's stream and
//! `2>&1` can share one writer; a pipe reader sees EOF when every writer clone is dropped.

use std::io::{Read, Write};
use wasi_common::pipe::{ReadPipe, WritePipe};
use wasi_common::WasiFile;

pub type Reader = ReadPipe<Box<dyn Read + Send + Sync>>;
pub type Writer = WritePipe<Box<dyn Write + Send + Sync>>;

/// One standard stream of a guest process.
#[derive(Clone)]
pub enum Stream {
    /// This host process's own stdin / stdout / stderr (a terminal, a log file, a pipe).
    HostStdin,
    HostStdout,
    HostStderr,
    /// EOF on read, discarded on write.
    Null,
    Read(Reader),
    Write(Writer),
    /// The container's terminal (`-t`).
    Tty(std::sync::Arc<super::tty::Tty>),
}

impl Stream {
    pub fn reader(r: impl Read + Send + Sync + 'static) -> Stream {
        Stream::Read(ReadPipe::new(Box::new(r)))
    }

    pub fn writer(w: impl Write + Send + Sync + 'static) -> Stream {
        Stream::Write(WritePipe::new(Box::new(w)))
    }

    /// Whether the stream can be written (a valid stdout/stderr).
    pub fn is_writable(&self) -> bool {
        matches!(self, Stream::HostStdout | Stream::HostStderr | Stream::Null | Stream::Write(_) | Stream::Tty(_))
    }

    /// Whether the stream can be read (a valid stdin).
    pub fn is_readable(&self) -> bool {
        matches!(self, Stream::HostStdin | Stream::Null | Stream::Read(_) | Stream::Tty(_))
    }

    /// A WASI file for a guest's fd table.
    pub fn to_file(&self, fd: u32) -> Box<dyn WasiFile> {
        match self {
            Stream::HostStdin => Box::new(wasi_common::sync::stdio::stdin()),
            Stream::HostStdout => Box::new(wasi_common::sync::stdio::stdout()),
            Stream::HostStderr => Box::new(wasi_common::sync::stdio::stderr()),
            Stream::Null if fd == 0 => {
                Box::new(ReadPipe::new(Box::new(std::io::empty()) as Box<dyn Read + Send + Sync>))
            }
            Stream::Null => Box::new(WritePipe::new(Box::new(std::io::sink()) as Box<dyn Write + Send + Sync>)),
            Stream::Read(r) => Box::new(r.clone()),
            Stream::Write(w) => Box::new(w.clone()),
            Stream::Tty(t) => Box::new(super::tty::TtyFile(t.clone())),
        }
    }
}

/// A reader the caller shares (`runtime::Input::Reader`), as a guest stream.
pub struct SharedRead(pub std::sync::Arc<std::sync::Mutex<Box<dyn Read + Send>>>);

impl Read for SharedRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).read(buf)
    }
}

/// A writer the caller shares (`runtime::Output::Writer`), as a guest stream.
pub struct SharedWrite(pub crate::runtime::SharedWriter);

impl Write for SharedWrite {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).flush()
    }
}
