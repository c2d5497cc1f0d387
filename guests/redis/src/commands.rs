//! The commands: arity checks, each command's meaning over the keyspace, and redis' error
//! texts.

use crate::glob;
use crate::resp::{self, parse_int, Args};
use crate::store::Db;

pub const VERSION: &str = "7.0.4";
const DATABASES: usize = 16;

const NOT_INT: &str = "ERR value is not an integer or out of range";
const SYNTAX: &str = "ERR syntax error";
const OVERFLOW: &str = "ERR increment or decrement would overflow";

/// Every command and its arity (redis' convention: `n` exactly, `-n` at least `n`,
/// counting the name).
const COMMANDS: &[(&str, i32)] = &[
    ("append", 3),
    ("auth", -2),
    ("bgsave", -1),
    ("client", -2),
    ("command", -1),
    ("config", -2),
    ("dbsize", 1),
    ("decr", 2),
    ("decrby", 3),
    ("del", -2),
    ("echo", 2),
    ("exists", -2),
    ("expire", -3),
    ("expireat", -3),
    ("flushall", -1),
    ("flushdb", -1),
    ("get", 2),
    ("getdel", 2),
    ("getset", 3),
    ("hello", -1),
    ("incr", 2),
    ("incrby", 3),
    ("info", -1),
    ("keys", 2),
    ("lastsave", 1),
    ("mget", -2),
    ("mset", -3),
    ("persist", 2),
    ("pexpire", -3),
    ("pexpireat", -3),
    ("ping", -1),
    ("psetex", 4),
    ("pttl", 2),
    ("quit", -1),
    ("randomkey", 1),
    ("rename", 3),
    ("save", 1),
    ("select", 2),
    ("set", -3),
    ("setex", 4),
    ("setnx", 3),
    ("shutdown", -1),
    ("strlen", 2),
    ("time", 1),
    ("ttl", 2),
    ("type", 2),
    ("unlink", -2),
];

/// What the connection does after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    Continue,
    /// Close once the reply is sent (`QUIT`).
    Close,
    /// Stop the server (`SHUTDOWN`).
    Shutdown,
}

/// One client's state.
#[derive(Debug, Default)]
pub struct Session {
    pub id: u64,
    pub db: usize,
    pub name: Option<Vec<u8>>,
}

/// The server's state: the databases and counters.
pub struct Server {
    pub dbs: Vec<Db>,
    pub port: u16,
    pub config_file: String,
    started_ms: u64,
    pub clients: usize,
    connections: u64,
    commands: u64,
    hits: u64,
    misses: u64,
    next_id: u64,
}

fn lower<'a>(name: &[u8], buf: &'a mut [u8; 24]) -> Option<&'a str> {
    if name.len() > buf.len() {
        return None;
    }
    for (d, s) in buf.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    std::str::from_utf8(&buf[..name.len()]).ok()
}

fn upper(b: &[u8]) -> Vec<u8> {
    b.to_ascii_uppercase()
}

impl Server {
    pub fn new(port: u16, now_ms: u64) -> Server {
        Server {
            dbs: (0..DATABASES).map(|_| Db::default()).collect(),
            port,
            config_file: String::new(),
            started_ms: now_ms,
            clients: 0,
            connections: 0,
            commands: 0,
            hits: 0,
            misses: 0,
            next_id: 0,
        }
    }

    /// A client connected.
    pub fn connect(&mut self) -> Session {
        self.clients += 1;
        self.connections += 1;
        self.next_id += 1;
        Session { id: self.next_id + 2, db: 0, name: None }
    }

    pub fn disconnect(&mut self) {
        self.clients = self.clients.saturating_sub(1);
    }

    /// Run one command, appending its reply to `out`.
    pub fn execute(&mut self, s: &mut Session, a: &Args, now: u64, out: &mut Vec<u8>) -> After {
        self.commands += 1;
        if self.commands % 10_000 == 0 {
            for db in &mut self.dbs {
                db.sweep(now);
            }
        }
        let mut buf = [0u8; 24];
        let name = lower(a.get(0), &mut buf).and_then(|n| COMMANDS.iter().find(|(c, _)| *c == n).copied());
        let Some((name, arity)) = name else {
            let mut args = String::new();
            for i in 1..a.len() {
                if args.len() >= 128 {
                    break;
                }
                let room = 128 - args.len();
                let text = String::from_utf8_lossy(a.get(i));
                let cut: String = text.chars().take(room).collect();
                args.push_str(&format!("'{cut}' "));
            }
            let cmd: String = String::from_utf8_lossy(a.get(0)).chars().take(128).collect();
            resp::error(out, &format!("ERR unknown command '{cmd}', with args beginning with: {args}"));
            return After::Continue;
        };
        let n = a.len() as i32;
        if (arity > 0 && n != arity) || (arity < 0 && n < -arity) {
            resp::error(out, &format!("ERR wrong number of arguments for '{name}' command"));
            return After::Continue;
        }
        let db = s.db;
        match name {
            "ping" => match a.len() {
                1 => resp::simple(out, "PONG"),
                2 => resp::bulk(out, a.get(1)),
                _ => resp::error(out, "ERR wrong number of arguments for 'ping' command"),
            },
            "echo" => resp::bulk(out, a.get(1)),
            "quit" => {
                resp::ok(out);
                return After::Close;
            }
            "shutdown" => return After::Shutdown,
            "select" => match parse_int(a.get(1)) {
                None => resp::error(out, NOT_INT),
                Some(i) if i < 0 || i >= DATABASES as i64 => resp::error(out, "ERR DB index is out of range"),
                Some(i) => {
                    s.db = i as usize;
                    resp::ok(out);
                }
            },
            "get" => match self.dbs[db].get(a.get(1), now) {
                Some(v) => {
                    self.hits += 1;
                    resp::bulk(out, &v.data);
                }
                None => {
                    self.misses += 1;
                    resp::null(out);
                }
            },
            "set" => self.set(db, a, now, out),
            "setnx" => {
                let d = &mut self.dbs[db];
                if d.contains(a.get(1), now) {
                    resp::int(out, 0);
                } else {
                    d.set(a.get(1), a.get(2).to_vec(), None);
                    resp::int(out, 1);
                }
            }
            "setex" | "psetex" => match parse_int(a.get(2)) {
                None => resp::error(out, NOT_INT),
                Some(t) => match expire_at(t, name == "setex", now, false) {
                    Some(when) if t > 0 => {
                        self.dbs[db].set(a.get(1), a.get(3).to_vec(), Some(when));
                        resp::ok(out);
                    }
                    _ => resp::error(out, &format!("ERR invalid expire time in '{name}' command")),
                },
            },
            "getset" | "getdel" => {
                let d = &mut self.dbs[db];
                let old = d.get(a.get(1), now).map(|v| v.data.clone());
                if name == "getset" {
                    d.set(a.get(1), a.get(2).to_vec(), None);
                } else {
                    d.remove(a.get(1), now);
                }
                match old {
                    Some(v) => resp::bulk(out, &v),
                    None => resp::null(out),
                }
            }
            "strlen" => resp::int(out, self.dbs[db].get(a.get(1), now).map_or(0, |v| v.data.len() as i64)),
            "append" => {
                let d = &mut self.dbs[db];
                let len = match d.get(a.get(1), now) {
                    Some(v) => {
                        v.data.extend_from_slice(a.get(2));
                        v.data.len()
                    }
                    None => {
                        d.set(a.get(1), a.get(2).to_vec(), None);
                        a.get(2).len()
                    }
                };
                resp::int(out, len as i64);
            }
            "mget" => {
                resp::array(out, a.len() - 1);
                for i in 1..a.len() {
                    match self.dbs[db].get(a.get(i), now) {
                        Some(v) => resp::bulk(out, &v.data),
                        None => resp::null(out),
                    }
                }
            }
            "mset" => {
                if a.len() % 2 == 0 {
                    resp::error(out, "ERR wrong number of arguments for 'mset' command");
                } else {
                    for i in (1..a.len()).step_by(2) {
                        self.dbs[db].set(a.get(i), a.get(i + 1).to_vec(), None);
                    }
                    resp::ok(out);
                }
            }
            "del" | "unlink" => {
                let n = (1..a.len()).filter(|&i| self.dbs[db].remove(a.get(i), now)).count();
                resp::int(out, n as i64);
            }
            "exists" => {
                let n = (1..a.len()).filter(|&i| self.dbs[db].contains(a.get(i), now)).count();
                resp::int(out, n as i64);
            }
            "incr" | "decr" | "incrby" | "decrby" => {
                let delta = match name {
                    "incr" => Some(1),
                    "decr" => Some(-1),
                    "incrby" => parse_int(a.get(2)),
                    _ => parse_int(a.get(2)).and_then(i64::checked_neg),
                };
                match delta {
                    None => resp::error(out, NOT_INT),
                    Some(delta) => self.incr(db, a.get(1), delta, now, out),
                }
            }
            "keys" => {
                let pat = a.get(1);
                let keys: Vec<&[u8]> = self.dbs[db].keys(now).into_iter().filter(|k| glob::matches(pat, k)).collect();
                resp::array(out, keys.len());
                for k in keys {
                    resp::bulk(out, k);
                }
            }
            "expire" | "pexpire" | "expireat" | "pexpireat" => self.expire(db, name, a, now, out),
            "ttl" | "pttl" => {
                let r = match self.dbs[db].get(a.get(1), now) {
                    None => -2,
                    Some(v) => match v.expire_at {
                        None => -1,
                        Some(t) if name == "ttl" => ((t - now + 500) / 1000) as i64,
                        Some(t) => (t - now) as i64,
                    },
                };
                resp::int(out, r);
            }
            "persist" => {
                let r = match self.dbs[db].get(a.get(1), now) {
                    Some(v) if v.expire_at.is_some() => {
                        v.expire_at = None;
                        1
                    }
                    _ => 0,
                };
                resp::int(out, r);
            }
            "type" => resp::simple(out, if self.dbs[db].contains(a.get(1), now) { "string" } else { "none" }),
            "dbsize" => resp::int(out, self.dbs[db].counts(now).0 as i64),
            "randomkey" => match self.dbs[db].any_key(now) {
                Some(k) => resp::bulk(out, &k),
                None => resp::null(out),
            },
            "rename" => {
                let d = &mut self.dbs[db];
                match d.get(a.get(1), now).cloned() {
                    None => resp::error(out, "ERR no such key"),
                    Some(v) => {
                        d.remove(a.get(1), now);
                        d.set(a.get(2), v.data, v.expire_at);
                        resp::ok(out);
                    }
                }
            }
            "flushall" | "flushdb" => {
                if a.len() > 2 || (a.len() == 2 && !matches!(&upper(a.get(1))[..], b"ASYNC" | b"SYNC")) {
                    resp::error(out, SYNTAX);
                } else {
                    if name == "flushall" {
                        self.dbs.iter_mut().for_each(Db::clear);
                    } else {
                        self.dbs[db].clear();
                    }
                    resp::ok(out);
                }
            }
            "info" => {
                let text = self.info(a, now);
                resp::bulk(out, text.as_bytes());
            }
            "command" => {
                if a.len() >= 2 && upper(a.get(1)) == b"COUNT" {
                    resp::int(out, COMMANDS.len() as i64);
                } else {
                    resp::array(out, 0);
                }
            }
            "client" => self.client(s, a, out),
            "hello" => {
                let proto = if a.len() >= 2 { parse_int(a.get(1)) } else { Some(2) };
                match proto {
                    None => resp::error(out, "ERR Protocol version is not an integer or out of range"),
                    Some(2) => {
                        resp::array(out, 14);
                        for (k, v) in [("server", "redis"), ("version", VERSION)] {
                            resp::bulk(out, k.as_bytes());
                            resp::bulk(out, v.as_bytes());
                        }
                        resp::bulk(out, b"proto");
                        resp::int(out, 2);
                        resp::bulk(out, b"id");
                        resp::int(out, s.id as i64);
                        for (k, v) in [("mode", "standalone"), ("role", "master")] {
                            resp::bulk(out, k.as_bytes());
                            resp::bulk(out, v.as_bytes());
                        }
                        resp::bulk(out, b"modules");
                        resp::array(out, 0);
                    }
                    Some(_) => resp::error(out, "NOPROTO unsupported protocol version"),
                }
            }
            "auth" => resp::error(
                out,
                "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
            ),
            "time" => {
                resp::array(out, 2);
                resp::bulk(out, (now / 1000).to_string().as_bytes());
                resp::bulk(out, ((now % 1000) * 1000).to_string().as_bytes());
            }
            "save" => resp::ok(out),
            "bgsave" => resp::simple(out, "Background saving started"),
            "lastsave" => resp::int(out, (self.started_ms / 1000) as i64),
            "config" => self.config(a, out),
            _ => unreachable!("every command in COMMANDS is handled"),
        }
        After::Continue
    }

    fn set(&mut self, db: usize, a: &Args, now: u64, out: &mut Vec<u8>) {
        let (mut nx, mut xx, mut get, mut keepttl) = (false, false, false, false);
        let mut expire: Option<(&[u8], bool, bool)> = None; // (value, seconds?, absolute?)
        let mut j = 3;
        while j < a.len() {
            let opt = upper(a.get(j));
            let has_next = j + 1 < a.len();
            match &opt[..] {
                b"NX" if !xx => nx = true,
                b"XX" if !nx => xx = true,
                b"GET" => get = true,
                b"KEEPTTL" if expire.is_none() => keepttl = true,
                b"EX" | b"PX" | b"EXAT" | b"PXAT" if !keepttl && expire.is_none() && has_next => {
                    j += 1;
                    expire = Some((a.get(j), opt[0] == b'E', opt.len() == 4));
                }
                _ => return resp::error(out, SYNTAX),
            }
            j += 1;
        }
        let mut when = None;
        if let Some((v, secs, absolute)) = expire {
            let Some(t) = parse_int(v) else {
                return resp::error(out, NOT_INT);
            };
            match expire_at(t, secs, now, absolute) {
                Some(w) if t > 0 => when = Some(w),
                _ => return resp::error(out, "ERR invalid expire time in 'set' command"),
            }
        }
        let d = &mut self.dbs[db];
        let key = a.get(1);
        let old = d.get(key, now).map(|v| (get.then(|| v.data.clone()), v.expire_at));
        let apply = !(nx && old.is_some()) && !(xx && old.is_none());
        if apply {
            if keepttl {
                when = old.as_ref().and_then(|o| o.1);
            }
            d.set(key, a.get(2).to_vec(), when);
        }
        if get {
            match old.and_then(|o| o.0) {
                Some(v) => resp::bulk(out, &v),
                None => resp::null(out),
            }
        } else if apply {
            resp::ok(out);
        } else {
            resp::null(out);
        }
    }

    fn incr(&mut self, db: usize, key: &[u8], delta: i64, now: u64, out: &mut Vec<u8>) {
        let d = &mut self.dbs[db];
        let (cur, ttl) = match d.get(key, now) {
            Some(v) => match parse_int(&v.data) {
                Some(n) => (n, v.expire_at),
                None => return resp::error(out, NOT_INT),
            },
            None => (0, None),
        };
        let Some(n) = cur.checked_add(delta) else {
            return resp::error(out, OVERFLOW);
        };
        d.set(key, n.to_string().into_bytes(), ttl);
        resp::int(out, n);
    }

    fn expire(&mut self, db: usize, name: &str, a: &Args, now: u64, out: &mut Vec<u8>) {
        let Some(t) = parse_int(a.get(2)) else {
            return resp::error(out, NOT_INT);
        };
        let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
        for i in 3..a.len() {
            match &upper(a.get(i))[..] {
                b"NX" => nx = true,
                b"XX" => xx = true,
                b"GT" => gt = true,
                b"LT" => lt = true,
                _ => return resp::error(out, &format!("ERR Unsupported option {}", String::from_utf8_lossy(a.get(i)))),
            }
        }
        if nx && (xx || gt || lt) {
            return resp::error(out, "ERR NX and XX, GT or LT options at the same time are not compatible");
        }
        if gt && lt {
            return resp::error(out, "ERR GT and LT options at the same time are not compatible");
        }
        let secs = name == "expire" || name == "expireat";
        let absolute = name.ends_with("at");
        let when = match (t, expire_at(t, secs, now, absolute)) {
            (_, Some(w)) => w,
            // Far in the past: as good as now.
            (t, None) if t < 0 => 0,
            _ => return resp::error(out, &format!("ERR invalid expire time in '{name}' command")),
        };
        let d = &mut self.dbs[db];
        let Some(v) = d.get(a.get(1), now) else {
            return resp::int(out, 0);
        };
        let cur = v.expire_at;
        let allowed = (!nx || cur.is_none())
            && (!xx || cur.is_some())
            && (!gt || cur.is_some_and(|c| when > c))
            && (!lt || cur.map_or(true, |c| when < c));
        if !allowed {
            return resp::int(out, 0);
        }
        if when <= now {
            d.remove(a.get(1), now);
        } else {
            v.expire_at = Some(when);
        }
        resp::int(out, 1);
    }

    fn client(&mut self, s: &mut Session, a: &Args, out: &mut Vec<u8>) {
        let sub = upper(a.get(1));
        match (&sub[..], a.len()) {
            (b"SETNAME", 3) => {
                let n = a.get(2);
                if n.iter().any(|&c| c <= b' ' || c > b'~') {
                    return resp::error(out, "ERR Client names cannot contain spaces, newlines or special characters.");
                }
                s.name = if n.is_empty() { None } else { Some(n.to_vec()) };
                resp::ok(out);
            }
            (b"GETNAME", 2) => match &s.name {
                Some(n) => resp::bulk(out, n),
                None => resp::null(out),
            },
            (b"ID", 2) => resp::int(out, s.id as i64),
            (b"SETINFO", 4) => resp::ok(out),
            (b"INFO", 2) | (b"LIST", _) => {
                let name = s.name.as_deref().map(String::from_utf8_lossy).unwrap_or_default();
                let line = format!(
                    "id={} addr=? laddr=? fd=8 name={} db={} cmd=client|{}\n",
                    s.id,
                    name,
                    s.db,
                    String::from_utf8_lossy(&sub).to_lowercase()
                );
                resp::bulk(out, line.as_bytes());
            }
            (b"SETNAME" | b"GETNAME" | b"ID" | b"INFO" | b"SETINFO", _) => {
                let full = format!("client|{}", String::from_utf8_lossy(&sub).to_lowercase());
                resp::error(out, &format!("ERR wrong number of arguments for '{full}' command"));
            }
            _ => resp::error(
                out,
                &format!("ERR unknown subcommand '{}'. Try CLIENT HELP.", String::from_utf8_lossy(a.get(1))),
            ),
        }
    }

    fn config(&mut self, a: &Args, out: &mut Vec<u8>) {
        match &upper(a.get(1))[..] {
            b"GET" if a.len() == 3 => {
                let port = self.port.to_string();
                let known: [(&str, &str); 5] =
                    [("port", &port), ("save", ""), ("appendonly", "no"), ("databases", "16"), ("maxmemory", "0")];
                let pat = a.get(2).to_ascii_lowercase();
                let hits: Vec<_> = known.iter().filter(|(k, _)| glob::matches(&pat, k.as_bytes())).collect();
                resp::array(out, hits.len() * 2);
                for (k, v) in hits {
                    resp::bulk(out, k.as_bytes());
                    resp::bulk(out, v.as_bytes());
                }
            }
            b"SET" if a.len() >= 4 => resp::ok(out),
            b"RESETSTAT" | b"REWRITE" if a.len() == 2 => resp::ok(out),
            b"GET" | b"SET" => {
                let full = format!("config|{}", String::from_utf8_lossy(a.get(1)).to_lowercase());
                resp::error(out, &format!("ERR wrong number of arguments for '{full}' command"));
            }
            _ => resp::error(
                out,
                &format!("ERR unknown subcommand '{}'. Try CONFIG HELP.", String::from_utf8_lossy(a.get(1))),
            ),
        }
    }

    /// `INFO [section ...]`.
    pub fn info(&mut self, a: &Args, now: u64) -> String {
        let want: Vec<String> = (1..a.len()).map(|i| String::from_utf8_lossy(a.get(i)).to_lowercase()).collect();
        let all = want.is_empty() || want.iter().any(|w| w == "all" || w == "everything" || w == "default");
        let show = |s: &str| all || want.iter().any(|w| w == s);
        let up = now.saturating_sub(self.started_ms) / 1000;
        let memory: usize = self.dbs.iter().map(Db::memory).sum::<usize>() + 900_000;
        let mut sections = Vec::new();
        if show("server") {
            sections.push(format!(
                "# Server\r\nredis_version:{VERSION}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\nos:WASI wasm32-wasip1\r\narch_bits:32\r\nmultiplexing_api:poll\r\nprocess_id:1\r\ntcp_port:{}\r\nuptime_in_seconds:{up}\r\nuptime_in_days:{}\r\nexecutable:/usr/local/bin/redis-server\r\nconfig_file:{}\r\n",
                self.port,
                up / 86400,
                self.config_file
            ));
        }
        if show("clients") {
            sections.push(format!("# Clients\r\nconnected_clients:{}\r\nblocked_clients:0\r\n", self.clients));
        }
        if show("memory") {
            sections.push(format!(
                "# Memory\r\nused_memory:{memory}\r\nused_memory_human:{:.2}K\r\nmaxmemory:0\r\nmaxmemory_policy:noeviction\r\n",
                memory as f64 / 1024.0
            ));
        }
        if show("persistence") {
            sections.push("# Persistence\r\nloading:0\r\nrdb_changes_since_last_save:0\r\nrdb_bgsave_in_progress:0\r\naof_enabled:0\r\n".to_string());
        }
        if show("stats") {
            sections.push(format!(
                "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\n",
                self.connections, self.commands, self.hits, self.misses
            ));
        }
        if show("replication") {
            sections.push("# Replication\r\nrole:master\r\nconnected_slaves:0\r\n".to_string());
        }
        if show("keyspace") {
            let mut k = "# Keyspace\r\n".to_string();
            for (i, db) in self.dbs.iter_mut().enumerate() {
                let (keys, expires) = db.counts(now);
                if keys > 0 {
                    k.push_str(&format!("db{i}:keys={keys},expires={expires},avg_ttl=0\r\n"));
                }
            }
            sections.push(k);
        }
        sections.join("\r\n")
    }
}

/// The absolute expiry time for `t` (seconds when `secs`, else milliseconds; absolute or
/// relative to `now`); `None` when it overflows or (absolute) is negative.
fn expire_at(t: i64, secs: bool, now: u64, absolute: bool) -> Option<u64> {
    let ms = if secs { t.checked_mul(1000)? } else { t };
    if absolute {
        return u64::try_from(ms).ok();
    }
    let w = (now as i64).checked_add(ms)?;
    u64::try_from(w).ok().or(if ms < 0 { Some(0) } else { None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::{parse_request, Request};

    /// Run each inline line as a command at time `now`; returns the replies' raw text.
    fn run(srv: &mut Server, s: &mut Session, now: u64, lines: &[&str]) -> Vec<String> {
        let mut replies = Vec::new();
        for l in lines {
            let (mut ranges, mut inline) = (Vec::new(), Vec::new());
            let line = format!("{l}\r\n");
            match parse_request(line.as_bytes(), &mut ranges, &mut inline) {
                Request::Command { inline: true, .. } => {}
                other => panic!("{other:?}"),
            }
            let mut out = Vec::new();
            srv.execute(s, &Args::new(&inline, &ranges), now, &mut out);
            replies.push(String::from_utf8(out).unwrap());
        }
        replies
    }

    fn setup() -> (Server, Session) {
        let mut srv = Server::new(6379, 1_000_000);
        let s = srv.connect();
        (srv, s)
    }

    #[test]
    fn table_is_sorted() {
        for w in COMMANDS.windows(2) {
            assert!(w[0].0 < w[1].0, "{} !< {}", w[0].0, w[1].0);
        }
    }

    #[test]
    fn strings() {
        let (mut srv, mut s) = setup();
        let r = run(
            &mut srv,
            &mut s,
            1_000_000,
            &[
                "PING",
                "ping hi",
                "SET k v",
                "GET k",
                "GET nope",
                "set k v2 NX",
                "set n 1 XX",
                "SET k v3 GET",
                "APPEND k xy",
                "STRLEN k",
                "MSET a 1 b 2",
                "MGET a nope b",
                "EXISTS a b a nope",
                "DEL a b nope",
                "echo \"hi there\"",
                "TYPE k",
                "TYPE a",
                "DBSIZE",
                "SETNX k x",
                "GETSET k new",
                "GETDEL k",
                "EXISTS k",
            ],
        );
        assert_eq!(
            r,
            vec![
                "+PONG\r\n",
                "$2\r\nhi\r\n",
                "+OK\r\n",
                "$1\r\nv\r\n",
                "$-1\r\n",
                "$-1\r\n",
                "$-1\r\n",
                "$1\r\nv\r\n",
                ":4\r\n",
                ":4\r\n",
                "+OK\r\n",
                "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n",
                ":3\r\n",
                ":2\r\n",
                "$8\r\nhi there\r\n",
                "+string\r\n",
                "+none\r\n",
                ":1\r\n",
                ":0\r\n",
                "$4\r\nv3xy\r\n",
                "$3\r\nnew\r\n",
                ":0\r\n",
            ]
        );
    }

    #[test]
    fn counters() {
        let (mut srv, mut s) = setup();
        let r = run(
            &mut srv,
            &mut s,
            0,
            &[
                "INCR c",
                "INCR c",
                "DECR c",
                "INCRBY c 10",
                "DECRBY c 3",
                "SET s abc",
                "INCR s",
                "INCRBY c x",
                "SET big 9223372036854775807",
                "INCR big",
                "SET z 007",
                "INCR z",
            ],
        );
        assert_eq!(
            r,
            vec![
                ":1\r\n",
                ":2\r\n",
                ":1\r\n",
                ":11\r\n",
                ":8\r\n",
                "+OK\r\n",
                "-ERR value is not an integer or out of range\r\n",
                "-ERR value is not an integer or out of range\r\n",
                "+OK\r\n",
                "-ERR increment or decrement would overflow\r\n",
                "+OK\r\n",
                "-ERR value is not an integer or out of range\r\n",
            ]
        );
    }

    #[test]
    fn expiry() {
        let (mut srv, mut s) = setup();
        let t = 1_000_000;
        let r = run(
            &mut srv,
            &mut s,
            t,
            &[
                "SET k v EX 10",
                "TTL k",
                "PTTL k",
                "SET p v",
                "TTL p",
                "TTL nope",
                "EXPIRE p 5",
                "EXPIRE nope 5",
                "PERSIST k",
                "TTL k",
                "SET e v PX 100",
            ],
        );
        assert_eq!(
            r,
            vec![
                "+OK\r\n",
                ":10\r\n",
                ":10000\r\n",
                "+OK\r\n",
                ":-1\r\n",
                ":-2\r\n",
                ":1\r\n",
                ":0\r\n",
                ":1\r\n",
                ":-1\r\n",
                "+OK\r\n"
            ]
        );
        assert_eq!(run(&mut srv, &mut s, t + 4_400, &["TTL p"]), vec![":1\r\n"]);
        assert_eq!(
            run(&mut srv, &mut s, t + 5_000, &["GET p", "EXISTS e", "DBSIZE"]),
            vec!["$-1\r\n", ":0\r\n", ":1\r\n"]
        );
        let r = run(
            &mut srv,
            &mut s,
            t,
            &[
                "SET x v EX 0",
                "SET x v EX -1",
                "SET x v EX abc",
                "SET x v EX 1 PX 2",
                "SET x v KEEPTTL EX 1",
                "SETEX x 0 v",
                "EXPIRE k 10 NX",
                "EXPIRE k 10 XX",
                "EXPIRE k -1",
                "EXISTS k",
            ],
        );
        assert_eq!(
            r,
            vec![
                "-ERR invalid expire time in 'set' command\r\n",
                "-ERR invalid expire time in 'set' command\r\n",
                "-ERR value is not an integer or out of range\r\n",
                "-ERR syntax error\r\n",
                "-ERR syntax error\r\n",
                "-ERR invalid expire time in 'setex' command\r\n",
                ":1\r\n",
                ":1\r\n",
                ":1\r\n",
                ":0\r\n",
            ]
        );
    }

    #[test]
    fn keys_and_flush() {
        let (mut srv, mut s) = setup();
        let r = run(
            &mut srv,
            &mut s,
            0,
            &["MSET user:1 a user:2 b other c", "KEYS user:*", "KEYS *", "KEYS nothing", "FLUSHALL", "DBSIZE"],
        );
        assert_eq!(
            r,
            vec![
                "+OK\r\n",
                "*2\r\n$6\r\nuser:1\r\n$6\r\nuser:2\r\n",
                "*3\r\n$5\r\nother\r\n$6\r\nuser:1\r\n$6\r\nuser:2\r\n",
                "*0\r\n",
                "+OK\r\n",
                ":0\r\n",
            ]
        );
    }

    #[test]
    fn errors_in_redis_words() {
        let (mut srv, mut s) = setup();
        let r = run(
            &mut srv,
            &mut s,
            0,
            &["FOO x y", "foo", "GET", "GET a b", "SELECT 0", "SELECT 16", "SELECT x", "MSET a", "PING a b", "QUIT"],
        );
        assert_eq!(
            r,
            vec![
                "-ERR unknown command 'FOO', with args beginning with: 'x' 'y' \r\n",
                "-ERR unknown command 'foo', with args beginning with: \r\n",
                "-ERR wrong number of arguments for 'get' command\r\n",
                "-ERR wrong number of arguments for 'get' command\r\n",
                "+OK\r\n",
                "-ERR DB index is out of range\r\n",
                "-ERR value is not an integer or out of range\r\n",
                "-ERR wrong number of arguments for 'mset' command\r\n",
                "-ERR wrong number of arguments for 'ping' command\r\n",
                "+OK\r\n",
            ]
        );
    }

    #[test]
    fn databases_and_admin() {
        let (mut srv, mut s) = setup();
        let r = run(
            &mut srv,
            &mut s,
            0,
            &[
                "SET a 1",
                "SELECT 1",
                "GET a",
                "SET b 2",
                "DBSIZE",
                "COMMAND",
                "COMMAND DOCS",
                "CLIENT SETNAME app",
                "CLIENT GETNAME",
                "CLIENT FOO",
            ],
        );
        assert_eq!(
            r,
            vec![
                "+OK\r\n",
                "+OK\r\n",
                "$-1\r\n",
                "+OK\r\n",
                ":1\r\n",
                "*0\r\n",
                "*0\r\n",
                "+OK\r\n",
                "$3\r\napp\r\n",
                "-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n",
            ]
        );
        let info = run(&mut srv, &mut s, 0, &["INFO"]).remove(0);
        assert!(info.contains("redis_version:7.0.4\r\n"));
        assert!(info.contains("db0:keys=1,expires=0,avg_ttl=0\r\ndb1:keys=1,expires=0,avg_ttl=0\r\n"));
        let server = run(&mut srv, &mut s, 0, &["INFO server"]).remove(0);
        assert!(server.contains("tcp_port:6379") && !server.contains("# Clients"));
    }
}
