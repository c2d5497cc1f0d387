//! A container's log, in Docker's `json-file` format: one JSON object per line of output
//! (`{"log":"hi\n","stream":"stdout","time":"…"}`), written as the guest writes and read back
//! by `logs` (`--tail`, `--since`, `-t`, `-f`).

use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// One line of the log file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub log: String,
    pub stream: String,
    pub time: String,
}

/// The log file of container `id` in its directory.
pub fn path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}-json.log"))
}

/// A guest stream's writer: whole lines become entries (a partial line waits for its end,
/// or for the stream to close). Several writers (stdout, stderr) share one file.
pub struct LogWriter {
    file: Arc<Mutex<File>>,
    stream: &'static str,
    partial: Vec<u8>,
    /// Also copy the output here (an attached `run`/`start -a` shows it as it logs it).
    tee: Option<Box<dyn Write + Send + Sync>>,
}

/// Open (append) the log and make writers for stdout and stderr.
pub fn writers(path: &Path, tee: bool) -> std::io::Result<(LogWriter, LogWriter)> {
    let file = Arc::new(Mutex::new(OpenOptions::new().create(true).append(true).open(path)?));
    let out_tee: Option<Box<dyn Write + Send + Sync>> = if tee { Some(Box::new(std::io::stdout())) } else { None };
    let err_tee: Option<Box<dyn Write + Send + Sync>> = if tee { Some(Box::new(std::io::stderr())) } else { None };
    Ok((
        LogWriter { file: file.clone(), stream: "stdout", partial: Vec::new(), tee: out_tee },
        LogWriter { file, stream: "stderr", partial: Vec::new(), tee: err_tee },
    ))
}

impl LogWriter {
    /// Append one JSON entry per line to `out`.
    fn encode(&self, lines: &[&[u8]], time: &str, out: &mut Vec<u8>) {
        for line in lines {
            let e = Entry {
                log: String::from_utf8_lossy(line).into_owned(),
                stream: self.stream.into(),
                time: time.to_string(),
            };
            serde_json::to_writer(&mut *out, &e).expect("entry serialises");
            out.push(b'\n');
        }
    }

    fn emit(&mut self, lines: &[&[u8]]) -> std::io::Result<()> {
        let mut text = Vec::new();
        self.encode(lines, &super::now(), &mut text);
        self.file.lock().unwrap_or_else(|p| p.into_inner()).write_all(&text)
    }
}

impl Write for LogWriter {
    /// Every complete line of one write becomes an entry, all written at once (a server's
    /// batch of access-log lines costs one file write, not one per line).
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(t) = &mut self.tee {
            t.write_all(buf)?;
            t.flush()?;
        }
        self.partial.extend_from_slice(buf);
        let Some(last) = self.partial.iter().rposition(|&b| b == b'\n') else { return Ok(buf.len()) };
        let done: Vec<u8> = self.partial.drain(..=last).collect();
        let lines: Vec<&[u8]> = done.split_inclusive(|&b| b == b'\n').collect();
        self.emit(&lines)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        if !self.partial.is_empty() {
            let rest = std::mem::take(&mut self.partial);
            let _ = self.emit(&[&rest]);
        }
    }
}

/// What `logs` shows.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub tail: Option<usize>,
    pub timestamps: bool,
    /// Only entries at or after this RFC 3339 time.
    pub since: Option<String>,
}

/// Print the log's entries to `out`/`err`; returns the byte offset read up to (to follow from).
pub fn print(path: &Path, opts: &Options, out: &mut dyn Write, err: &mut dyn Write) -> std::io::Result<u64> {
    let f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut entries = Vec::new();
    let mut offset = 0u64;
    let mut r = BufReader::new(f);
    let mut line = String::new();
    while r.read_line(&mut line)? > 0 {
        if !line.ends_with('\n') {
            break; // being written: the next read gets it whole
        }
        offset += line.len() as u64;
        if let Ok(e) = serde_json::from_str::<Entry>(&line) {
            if opts.since.as_ref().is_none_or(|s| e.time.as_str() >= s.as_str()) {
                entries.push(e);
            }
        }
        line.clear();
    }
    let skip = opts.tail.map(|n| entries.len().saturating_sub(n)).unwrap_or(0);
    for e in &entries[skip..] {
        show(e, opts, out, err)?;
    }
    Ok(offset)
}

/// Print entries added after `offset`; returns the new offset.
pub fn follow_from(
    path: &Path,
    offset: u64,
    opts: &Options,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<u64> {
    let mut f = File::open(path)?;
    f.seek(SeekFrom::Start(offset))?;
    let mut r = BufReader::new(f);
    let mut offset = offset;
    let mut line = String::new();
    while r.read_line(&mut line)? > 0 {
        if !line.ends_with('\n') {
            break;
        }
        offset += line.len() as u64;
        if let Ok(e) = serde_json::from_str::<Entry>(&line) {
            show(&e, opts, out, err)?;
        }
        line.clear();
    }
    Ok(offset)
}

fn show(e: &Entry, opts: &Options, out: &mut dyn Write, err: &mut dyn Write) -> std::io::Result<()> {
    let w: &mut dyn Write = if e.stream == "stderr" { err } else { out };
    if opts.timestamps {
        write!(w, "{} ", e.time)?;
    }
    w.write_all(e.log.as_bytes())?;
    w.flush()
}
