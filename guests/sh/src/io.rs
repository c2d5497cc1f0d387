//! The shell's file descriptors: where each fd of a command reads or writes, in-process.

use std::cell::RefCell;
use std::fs::File;
use std::io::{Read, Write};
use std::rc::Rc;

/// A pipe end held by the shell: a host handle until it is moved into a child or
/// turned into a file of this process (then children can no longer receive it).
pub struct PipeEnd {
    pub raw: Option<i32>,
    pub file: Option<File>,
}

impl PipeEnd {
    pub fn new(h: i32) -> Rc<RefCell<PipeEnd>> {
        Rc::new(RefCell::new(PipeEnd { raw: Some(h), file: None }))
    }

    fn file(&mut self) -> Option<&mut File> {
        if let Some(h) = self.raw.take() {
            self.file = skiff_guest::pipe_file(h).ok();
        }
        self.file.as_mut()
    }
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        if let Some(h) = self.raw.take() {
            let _ = skiff_guest::pipe_close(h);
        }
    }
}

#[derive(Default)]
pub struct MemBuf {
    pub data: Vec<u8>,
    pub pos: usize,
}

#[derive(Clone)]
pub enum Io {
    /// The shell's own original fd 0, 1 or 2.
    Std(u32),
    Null,
    Closed,
    /// An opened file (path absolute): children get `file:r:` / `file:a:` of the path.
    In(Rc<RefCell<File>>, String),
    Out(Rc<RefCell<File>>, String),
    /// In-memory input (here-documents) or output (command substitution).
    Mem(Rc<RefCell<MemBuf>>),
    Pipe(Rc<RefCell<PipeEnd>>),
}

impl Io {
    pub fn mem() -> (Io, Rc<RefCell<MemBuf>>) {
        let m = Rc::new(RefCell::new(MemBuf::default()));
        (Io::Mem(m.clone()), m)
    }

    /// Same stream (so a child can get `dup:N` for it).
    pub fn same(&self, o: &Io) -> bool {
        match (self, o) {
            (Io::Std(a), Io::Std(b)) => a == b,
            (Io::Null, Io::Null) => true,
            (Io::In(a, _), Io::In(b, _)) | (Io::Out(a, _), Io::Out(b, _)) => Rc::ptr_eq(a, b),
            (Io::Mem(a), Io::Mem(b)) => Rc::ptr_eq(a, b),
            (Io::Pipe(a), Io::Pipe(b)) => Rc::ptr_eq(a, b),
            _ => false,
        }
    }

    pub fn write(&self, data: &[u8]) -> std::io::Result<()> {
        match self {
            Io::Std(1) => {
                let mut o = std::io::stdout().lock();
                o.write_all(data)?;
                o.flush()
            }
            Io::Std(2) => std::io::stderr().write_all(data),
            Io::Out(f, _) => f.borrow_mut().write_all(data),
            Io::Mem(m) => {
                m.borrow_mut().data.extend_from_slice(data);
                Ok(())
            }
            Io::Pipe(p) => match p.borrow_mut().file() {
                Some(f) => f.write_all(data),
                None => Err(std::io::ErrorKind::BrokenPipe.into()),
            },
            Io::Null => Ok(()),
            _ => Err(std::io::Error::from_raw_os_error(skiff_guest::errno::EBADF)),
        }
    }

    /// Read one byte (so that `read` leaves the rest for whoever reads next); None at EOF.
    pub fn read_byte(&self) -> Option<u8> {
        let mut b = [0u8; 1];
        let n = match self {
            Io::Std(0) => std::io::stdin().lock().read(&mut b).ok()?,
            Io::In(f, _) => f.borrow_mut().read(&mut b).ok()?,
            Io::Mem(m) => {
                let mut m = m.borrow_mut();
                let c = *m.data.get(m.pos)?;
                m.pos += 1;
                return Some(c);
            }
            Io::Pipe(p) => p.borrow_mut().file()?.read(&mut b).ok()?,
            _ => 0,
        };
        (n == 1).then_some(b[0])
    }
}

/// Fds 0..9 of a command.
#[derive(Clone)]
pub struct Fds(pub [Io; 10]);

impl Fds {
    pub fn std() -> Fds {
        let mut f: [Io; 10] = std::array::from_fn(|_| Io::Closed);
        for (i, io) in f.iter_mut().enumerate().take(3) {
            *io = Io::Std(i as u32);
        }
        Fds(f)
    }

    pub fn out(&self, s: &str) {
        let _ = self.0[1].write(s.as_bytes());
    }

    pub fn err(&self, s: &str) {
        let _ = self.0[2].write(s.as_bytes());
    }
}

/// An `io::Error` as the C library words it (without Rust's "(os error N)").
pub fn errstr(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        NotFound => "No such file or directory".into(),
        PermissionDenied => "Permission denied".into(),
        AlreadyExists => "File exists".into(),
        IsADirectory => "Is a directory".into(),
        NotADirectory => "Not a directory".into(),
        DirectoryNotEmpty => "Directory not empty".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    }
}
