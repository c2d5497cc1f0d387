//! A container's log, in Docker's `json-file` format: one JSON object per line of output
//! (`{"log":"hi\n","stream":"stdout","time":"…"}`), written as the guest writes and read back
//! by `logs` (`--tail`, `--since`, `-t`, `-f`).
//!
//! Bounded, as Docker's json-file with `--log-opt max-size=…,max-file=…`: when the file
//! reaches `max-size` it becomes `<id>-json.log.1` (older ones shift up to `max-file - 1`, the
//! oldest is dropped), so a guest writing for ever cannot fill the disk. skiff's default is
//! 10 MiB × 3 files (Docker's is unbounded; a classroom's disk is not). Output without a
//! newline is cut into entries of at most 16 KiB, as Docker cuts long lines, and a write is
//! scanned once, so a guest printing no newline costs neither memory nor time. `--tail N`
//! reads from the end of the newest file backwards, however big the log is.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// One line of the log file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub log: String,
    pub stream: String,
    pub time: String,
}

/// The longest entry: longer output without a newline is cut here (Docker's 16 KiB).
pub const MAX_LINE: usize = 16 * 1024;

/// Appends `s` as a JSON string (quoted and escaped, as serde_json writes it).
fn json_str(out: &mut Vec<u8>, s: &str) {
    // Writing a string into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Docker's `HostConfig.LogConfig`: the driver (`json-file`) and its options.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct LogConfig {
    #[serde(rename = "Type")]
    pub kind: String,
    pub config: BTreeMap<String, String>,
}

impl Default for LogConfig {
    /// json-file, 10 MiB × 3 files: what a teaching machine can afford per container.
    fn default() -> Self {
        LogConfig {
            kind: "json-file".into(),
            config: BTreeMap::from([("max-size".into(), "10m".into()), ("max-file".into(), "3".into())]),
        }
    }
}

/// When to rotate the log: at `max_size` bytes (0: never), keeping `max_file` files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    pub max_size: u64,
    pub max_file: u32,
}

impl LogConfig {
    /// The config for `--log-opt` values (`max-size=10m`, `max-file=3`), checked as Docker's
    /// json-file driver checks them; options not given keep skiff's defaults.
    pub fn from_opts(opts: &[String]) -> crate::Result<LogConfig> {
        let mut c = LogConfig::default();
        for o in opts {
            let Some((k, v)) = o.split_once('=') else {
                return Err(crate::Error::Other(format!("invalid key value pair format in log options: {o}")));
            };
            match k {
                "max-size" | "max-file" => {
                    c.config.insert(k.into(), v.into());
                }
                _ => return Err(crate::Error::Other(format!("unknown log opt '{k}' for json-file log driver"))),
            }
        }
        c.rotation()?;
        Ok(c)
    }

    /// The rotation these options ask for (an unparsable option is an error).
    pub fn rotation(&self) -> crate::Result<Rotation> {
        let max_size = match self.config.get("max-size").map(String::as_str) {
            None | Some("-1") => 0,
            Some(s) => parse_size(s).ok_or_else(|| crate::Error::Other(format!("invalid size: '{s}'")))?,
        };
        let max_file = match self.config.get("max-file") {
            None => 1,
            Some(s) => s.parse::<u32>().map_err(|_| crate::Error::Other(format!("invalid max-file: {s}")))?,
        };
        if max_file < 1 {
            return Err(crate::Error::Other("max-file cannot be less than 1".into()));
        }
        if max_file > 1 && max_size == 0 {
            return Err(crate::Error::Other("max-file cannot be set when max-size is not set".into()));
        }
        Ok(Rotation { max_size, max_file })
    }
}

/// Docker's `FromHumanSize`-style `10m`, `1g`, `512k`, `100` (here binary units, as `-m`).
fn parse_size(s: &str) -> Option<u64> {
    let t = s.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let (num, mult) = match t.chars().last()? {
        'k' => (&t[..t.len() - 1], 1u64 << 10),
        'm' => (&t[..t.len() - 1], 1 << 20),
        'g' => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    let n: f64 = num.parse().ok()?;
    let bytes = n * mult as f64;
    (bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

/// The log file of container `id` in its directory.
pub fn path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}-json.log"))
}

/// The rotated file `n` (1 is the newest) of the log at `path`.
fn rotated(path: &Path, n: u32) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

/// The open log shared by a container's writers (stdout, stderr).
struct Sink {
    file: File,
    path: PathBuf,
    size: u64,
    rotation: Rotation,
}

impl Sink {
    fn append(&mut self, text: &[u8]) -> std::io::Result<()> {
        self.file.write_all(text)?;
        self.size += text.len() as u64;
        if self.rotation.max_size > 0 && self.size >= self.rotation.max_size {
            self.rotate()?;
        }
        Ok(())
    }

    /// The current file becomes `.1`, `.1` becomes `.2`, …; the oldest is dropped.
    fn rotate(&mut self) -> std::io::Result<()> {
        let keep = self.rotation.max_file.saturating_sub(1);
        if keep == 0 {
            self.file.set_len(0)?;
            self.size = 0;
            return Ok(());
        }
        let _ = std::fs::remove_file(rotated(&self.path, keep));
        for n in (1..keep).rev() {
            let _ = std::fs::rename(rotated(&self.path, n), rotated(&self.path, n + 1));
        }
        std::fs::rename(&self.path, rotated(&self.path, 1))?;
        self.file = OpenOptions::new().create(true).append(true).open(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

/// A guest stream's writer: whole lines become entries (a partial line waits for its end, or
/// for the stream to close, or until it is [`MAX_LINE`] long). Several writers (stdout,
/// stderr) share one file.
pub struct LogWriter {
    sink: Arc<Mutex<Sink>>,
    stream: &'static str,
    partial: Vec<u8>,
    /// Also copy the output here (an attached `run`/`start -a` shows it as it logs it).
    tee: Option<Box<dyn Write + Send + Sync>>,
}

/// Open (append) the log, with skiff's default rotation, and make writers for stdout and stderr.
pub fn writers(path: &Path, tee: bool) -> std::io::Result<(LogWriter, LogWriter)> {
    let rotation = LogConfig::default().rotation().expect("the default is valid");
    writers_rotating(path, tee, rotation)
}

/// [`writers`] with the container's rotation.
pub fn writers_rotating(path: &Path, tee: bool, rotation: Rotation) -> std::io::Result<(LogWriter, LogWriter)> {
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    let size = file.metadata()?.len();
    let sink = Arc::new(Mutex::new(Sink { file, path: path.to_path_buf(), size, rotation }));
    let out_tee: Option<Box<dyn Write + Send + Sync>> = if tee { Some(Box::new(std::io::stdout())) } else { None };
    let err_tee: Option<Box<dyn Write + Send + Sync>> = if tee { Some(Box::new(std::io::stderr())) } else { None };
    Ok((
        LogWriter { sink: sink.clone(), stream: "stdout", partial: Vec::new(), tee: out_tee },
        LogWriter { sink, stream: "stderr", partial: Vec::new(), tee: err_tee },
    ))
}

impl LogWriter {
    /// Append one JSON entry per line to `out` (an [`Entry`], fields in its order).
    fn encode(&self, lines: &[&[u8]], time: &str, out: &mut Vec<u8>) {
        // The fields after "log" are the same for every line of one write: encoded once.
        let mut tail = b",\"stream\":".to_vec();
        json_str(&mut tail, self.stream);
        tail.extend_from_slice(b",\"time\":");
        json_str(&mut tail, time);
        tail.extend_from_slice(b"}\n");
        for line in lines {
            let log = match std::str::from_utf8(line) {
                Ok(s) => std::borrow::Cow::Borrowed(s),
                Err(_) => String::from_utf8_lossy(line),
            };
            out.extend_from_slice(b"{\"log\":");
            json_str(out, &log);
            out.extend_from_slice(&tail);
        }
    }

    fn emit(&mut self, lines: &[&[u8]]) -> std::io::Result<()> {
        let mut text = Vec::new();
        self.encode(lines, &super::now(), &mut text);
        self.sink.lock().unwrap_or_else(|p| p.into_inner()).append(&text)
    }
}

impl Write for LogWriter {
    /// Every complete line of one write becomes an entry, all written at once (a server's
    /// batch of access-log lines costs one file write, not one per line). Only the new bytes
    /// are scanned; a pending partial line never grows past [`MAX_LINE`].
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(t) = &mut self.tee {
            t.write_all(buf)?;
            t.flush()?;
        }
        let rest = match buf.iter().rposition(|&b| b == b'\n') {
            Some(last) => {
                let mut done = std::mem::take(&mut self.partial);
                done.extend_from_slice(&buf[..=last]);
                let mut lines: Vec<&[u8]> = Vec::new();
                for line in done.split_inclusive(|&b| b == b'\n') {
                    lines.extend(line.chunks(MAX_LINE));
                }
                self.emit(&lines)?;
                &buf[last + 1..]
            }
            None => buf,
        };
        self.partial.extend_from_slice(rest);
        if self.partial.len() >= MAX_LINE {
            let full = self.partial.len() / MAX_LINE * MAX_LINE;
            let chunk: Vec<u8> = self.partial.drain(..full).collect();
            let lines: Vec<&[u8]> = chunk.chunks(MAX_LINE).collect();
            self.emit(&lines)?;
        }
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

/// The log's files, oldest first: the rotated ones, then the current one.
fn files_oldest_first(path: &Path) -> Vec<PathBuf> {
    let mut rotated_files: Vec<PathBuf> = (1..=64).map(|n| rotated(path, n)).take_while(|p| p.exists()).collect();
    rotated_files.reverse();
    rotated_files.push(path.to_path_buf());
    rotated_files
}

/// Print the log's entries to `out`/`err`; returns the byte offset in the current file read
/// up to (to follow from).
pub fn print(path: &Path, opts: &Options, out: &mut dyn Write, err: &mut dyn Write) -> std::io::Result<u64> {
    let end = match std::fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    if let Some(n) = opts.tail {
        let (entries, offset) = tail(path, end, n, opts)?;
        for e in &entries {
            show(e, opts, out, err)?;
        }
        return Ok(offset);
    }
    let files = files_oldest_first(path);
    let mut offset = 0;
    for (i, f) in files.iter().enumerate() {
        let Ok(file) = File::open(f) else { continue };
        let current = i + 1 == files.len();
        let read = stream(file, if current { Some(end) } else { None }, opts, out, err)?;
        if current {
            offset = read;
        }
    }
    Ok(offset)
}

/// Print the complete lines of `f` (up to `limit` bytes); returns the bytes read.
fn stream(
    f: File,
    limit: Option<u64>,
    opts: &Options,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<u64> {
    let mut r = BufReader::new(f.take(limit.unwrap_or(u64::MAX)));
    let mut offset = 0u64;
    let mut line = Vec::new();
    while r.read_until(b'\n', &mut line)? > 0 {
        if line.last() != Some(&b'\n') {
            break; // being written: the next read gets it whole
        }
        offset += line.len() as u64;
        if let Ok(e) = serde_json::from_slice::<Entry>(&line) {
            if opts.since.as_ref().is_none_or(|s| e.time.as_str() >= s.as_str()) {
                show(&e, opts, out, err)?;
            }
        }
        line.clear();
    }
    Ok(offset)
}

/// The last `n` entries (at or after `since`), reading backwards from the end of the current
/// file (`end` bytes of it) and then the rotated ones; and the offset to follow from.
fn tail(path: &Path, end: u64, n: usize, opts: &Options) -> std::io::Result<(Vec<Entry>, u64)> {
    let mut found: Vec<Entry> = Vec::new();
    let mut offset = None;
    let mut files = files_oldest_first(path);
    files.reverse();
    'files: for (i, p) in files.iter().enumerate() {
        let Ok(mut f) = File::open(p) else { continue };
        let mut pos = if i == 0 { end } else { f.metadata()?.len() };
        let mut carry: Vec<u8> = Vec::new(); // the start of a line whose beginning is further back
        let mut first_chunk = true;
        while pos > 0 && found.len() < n {
            let step = pos.min(64 * 1024);
            pos -= step;
            f.seek(SeekFrom::Start(pos))?;
            let mut chunk = vec![0u8; step as usize];
            f.read_exact(&mut chunk)?;
            chunk.extend_from_slice(&carry);
            if first_chunk && i == 0 {
                // A last line without its newline is being written: follow from its start.
                let complete = chunk.iter().rposition(|&b| b == b'\n').map_or(0, |k| k + 1);
                offset = Some(pos + complete as u64);
                chunk.truncate(complete);
            }
            first_chunk = false;
            // Everything after the first newline is whole lines (unless we are at the start).
            let split =
                if pos == 0 { 0 } else { chunk.iter().position(|&b| b == b'\n').map_or(chunk.len(), |k| k + 1) };
            carry = chunk[..split].to_vec();
            for line in chunk[split..].split_inclusive(|&b| b == b'\n').rev() {
                if let Ok(e) = serde_json::from_slice::<Entry>(line) {
                    if opts.since.as_ref().is_some_and(|s| e.time.as_str() < s.as_str()) {
                        break 'files; // everything further back is older still
                    }
                    found.push(e);
                    if found.len() == n {
                        break 'files;
                    }
                }
            }
        }
    }
    found.reverse();
    Ok((found, offset.unwrap_or(end)))
}

/// Print entries added after `offset`; returns the new offset. A log rotated since (the
/// current file is shorter than `offset`) is read again from its start.
pub fn follow_from(
    path: &Path,
    offset: u64,
    opts: &Options,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<u64> {
    let mut f = File::open(path)?;
    let offset = if f.metadata()?.len() < offset { 0 } else { offset };
    f.seek(SeekFrom::Start(offset))?;
    let opts = Options { since: None, ..opts.clone() };
    Ok(offset + stream(f, None, &opts, out, err)?)
}

fn show(e: &Entry, opts: &Options, out: &mut dyn Write, err: &mut dyn Write) -> std::io::Result<()> {
    let w: &mut dyn Write = if e.stream == "stderr" { err } else { out };
    if opts.timestamps {
        write!(w, "{} ", e.time)?;
    }
    w.write_all(e.log.as_bytes())?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(path: &Path, tail: Option<usize>) -> String {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        print(path, &Options { tail, ..Default::default() }, &mut out, &mut err).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// Each line is written exactly as serde_json writes an [`Entry`].
    #[test]
    fn lines_are_encoded_as_entries() {
        let dir = tempfile::tempdir().unwrap();
        let (w, _e) = writers(&path(dir.path(), "c"), false).unwrap();
        let lines: [&[u8]; 5] =
            [b"plain\n", b"q\"b\\s\tt\x01\x7f\n", "caf\u{e9} \u{1f600}\n".as_bytes(), b"bad \xff\xfe utf8\n", b""];
        let time = "2024-01-02T03:04:05.123456789Z";
        let mut got = Vec::new();
        w.encode(&lines, time, &mut got);
        let mut want = Vec::new();
        for line in lines {
            let e =
                Entry { log: String::from_utf8_lossy(line).into_owned(), stream: "stdout".into(), time: time.into() };
            serde_json::to_writer(&mut want, &e).unwrap();
            want.push(b'\n');
        }
        assert_eq!(String::from_utf8(got).unwrap(), String::from_utf8(want).unwrap());
    }

    #[test]
    fn rotates_and_tails_across_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = path(dir.path(), "c");
        let (mut w, _e) = writers_rotating(&p, false, Rotation { max_size: 2000, max_file: 3 }).unwrap();
        for i in 0..1000 {
            writeln!(w, "line {i}").unwrap();
        }
        drop(w);
        let total: u64 = files_oldest_first(&p).iter().map(|f| std::fs::metadata(f).map_or(0, |m| m.len())).sum();
        assert!(total <= 3 * 2100, "the log is bounded: {total} bytes");
        assert!(!rotated(&p, 3).exists(), "max-file 3 keeps the current file and two rotated ones");
        assert_eq!(entries(&p, Some(2)), "line 998\nline 999\n");
        let all = entries(&p, None);
        assert!(all.ends_with("line 999\n") && all.lines().count() < 1000, "{all}");
        let many = entries(&p, Some(40));
        assert_eq!(many.lines().count(), 40);
        assert!(many.starts_with("line 960\n"), "the tail reaches into the rotated file: {many}");
    }

    #[test]
    fn output_without_newlines_is_cut_and_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let p = path(dir.path(), "c");
        let (mut w, _e) = writers_rotating(&p, false, Rotation { max_size: 0, max_file: 1 }).unwrap();
        for _ in 0..100 {
            w.write_all(&[b'x'; 1000]).unwrap();
        }
        assert!(w.partial.len() < MAX_LINE);
        drop(w);
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<Entry> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.iter().map(|e| e.log.len()).sum::<usize>(), 100_000);
        assert!(lines.iter().all(|e| e.log.len() <= MAX_LINE));
    }

    #[test]
    fn log_opts_are_checked() {
        let r = |o: &[&str]| LogConfig::from_opts(&o.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            r(&["max-size=1k", "max-file=2"]).unwrap().rotation().unwrap(),
            Rotation { max_size: 1024, max_file: 2 }
        );
        assert_eq!(r(&["max-size=abc"]).unwrap_err().to_string(), "invalid size: 'abc'");
        assert_eq!(r(&["max-file=0"]).unwrap_err().to_string(), "max-file cannot be less than 1");
        assert_eq!(r(&["color=red"]).unwrap_err().to_string(), "unknown log opt 'color' for json-file log driver");
    }
}
