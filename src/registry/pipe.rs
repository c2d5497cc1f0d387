//! A bounded pipe of byte chunks between threads, for the stages of a layer's pull: a sender
//! that stops without [`ChunkTx::end`] (it failed) makes the reader fail, never look finished.
//! A reader can hand the chunks it has read back to their producer ([`Spares`]), so buffers are
//! reused rather than allocated and zeroed again.

use std::io::{self, BufRead, Read};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};

/// Chunks in flight at most. Each buffer is zero-filled by the kernel when first touched: at 16
/// deep, the ~13 MB of buffers a layer's pull made cost 8% of its CPU time (and left more to
/// drain after the download); 4 is enough to keep every stage busy.
const DEPTH: usize = 4;
/// Bytes per chunk.
pub(super) const CHUNK: usize = 256 * 1024;

enum Msg {
    Data(Vec<u8>),
    End,
}

/// The sending end.
pub(super) struct ChunkTx(SyncSender<Msg>);

/// The receiving end: chunk by chunk ([`ChunkRx::next_chunk`]) or as a reader.
pub(super) struct ChunkRx {
    rx: Receiver<Msg>,
    cur: Vec<u8>,
    pos: usize,
    ended: bool,
    spent: Option<Sender<Vec<u8>>>,
}

/// A new pipe.
pub(super) fn pipe() -> (ChunkTx, ChunkRx) {
    let (tx, rx) = sync_channel(DEPTH);
    (ChunkTx(tx), ChunkRx { rx, cur: Vec::new(), pos: 0, ended: false, spent: None })
}

/// Buffers handed back by readers, for a producer to fill again.
pub(super) struct Spares(Receiver<Vec<u8>>);

/// A pool of spare buffers: readers given the sender ([`ChunkRx::returning`]) fill it.
pub(super) fn spares() -> (Sender<Vec<u8>>, Spares) {
    let (tx, rx) = channel();
    (tx, Spares(rx))
}

impl Spares {
    /// A buffer of [`CHUNK`] bytes: a spare one when there is one.
    pub fn get(&self) -> Vec<u8> {
        match self.0.try_recv() {
            Ok(mut b) => {
                b.resize(CHUNK, 0);
                b
            }
            // Zeroed memory from the allocator: fresh pages are not zeroed a second time.
            Err(_) => vec![0; CHUNK],
        }
    }
}

impl ChunkTx {
    /// Send a chunk; false when the reader is gone (it stopped early).
    pub fn send(&self, chunk: Vec<u8>) -> bool {
        self.0.send(Msg::Data(chunk)).is_ok()
    }

    /// The stream is complete.
    pub fn end(self) {
        let _ = self.0.send(Msg::End);
    }
}

impl ChunkRx {
    /// Hand every chunk read through [`Read`]/[`BufRead`] back to `spent`.
    pub fn returning(mut self, spent: Sender<Vec<u8>>) -> ChunkRx {
        self.spent = Some(spent);
        self
    }

    /// The next chunk, `None` at the end; an error if the sender stopped without ending.
    pub fn next_chunk(&mut self) -> io::Result<Option<Vec<u8>>> {
        if self.ended {
            return Ok(None);
        }
        match self.rx.recv() {
            Ok(Msg::Data(c)) => Ok(Some(c)),
            Ok(Msg::End) => {
                self.ended = true;
                Ok(None)
            }
            Err(_) => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the stream was interrupted")),
        }
    }
}

impl Read for ChunkRx {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = buf.len().min(avail.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for ChunkRx {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos == self.cur.len() {
            match self.next_chunk()? {
                Some(c) => {
                    let old = std::mem::replace(&mut self.cur, c);
                    self.pos = 0;
                    if let Some(s) = &self.spent {
                        let _ = s.send(old);
                    }
                }
                None => break,
            }
        }
        Ok(&self.cur[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.cur.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_was_sent_and_fails_when_the_sender_did_not_end() {
        let (tx, mut rx) = pipe();
        std::thread::spawn(move || {
            tx.send(b"hello ".to_vec());
            tx.send(b"world".to_vec());
            tx.end();
        });
        let mut s = String::new();
        rx.read_to_string(&mut s).unwrap();
        assert_eq!(s, "hello world");

        let (tx, mut rx) = pipe();
        std::thread::spawn(move || {
            tx.send(b"half".to_vec());
            drop(tx);
        });
        let mut v = Vec::new();
        assert_eq!(rx.read_to_end(&mut v).unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
    }
}
