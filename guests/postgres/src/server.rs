//! The `postgres` server: start-up (initdb on an empty `PGDATA`, the real image's log
//! lines) and the wire protocol as a [`serve::Service`]: start-up packets, SSL refusal,
//! SCRAM-SHA-256 / password / trust authentication by `pg_hba.conf`, the simple query
//! protocol and the extended one (Parse/Bind/Describe/Execute/Sync).

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};

use serve::{Ctx, Service, Step};

use crate::auth::{self, Method, ScramServer};
use crate::proto::{self, Reader};
use crate::sql::engine::{Database, Engine, OutCol, Outcome, Session, User};
use crate::sql::lexer::{lex, Tok};
use crate::sql::value::{format_timestamp, from_unix_ms, Type, Value};
use crate::sql::{ast::Stmt, catalog, parser, storage, Error};

/// `2024-05-01 12:00:00.123 UTC [1] LOG:  text`
pub fn log_line(ms: u64, pid: i32, level: &str, text: &str) -> String {
    let us = from_unix_ms(ms);
    let mut t = format_timestamp(us - us.rem_euclid(1_000_000));
    t.push_str(&format!(".{:03}", ms % 1000));
    format!("{t} UTC [{pid}] {level}:  {text}\n")
}

pub struct Server {
    pub engine: Engine,
    /// `pg_hba.conf` when there is no `PGDATA` (tests).
    pub hba_default: String,
    /// What stands in for the Unix socket: a client that shows this token (psql reads it
    /// from the socket file only processes of the container can read) connected from
    /// inside the container. WASI has no Unix sockets, and skiff shows a connection from
    /// the container to itself as coming from the gateway, like one from the host.
    pub local_token: String,
}

/// The file that stands for the server's Unix socket: it holds the token.
pub fn socket_path(port: u16) -> String {
    format!("/var/run/postgresql/.s.PGSQL.{port}")
}

pub enum Phase {
    Startup,
    /// Waiting for SASLInitialResponse.
    SaslInit,
    Scram(Box<ScramServer>),
    /// Waiting for a cleartext PasswordMessage.
    Password,
    Ready,
}

struct Prepared {
    sql: String,
    stmt: Option<Stmt>,
    catalog: bool,
    param_types: Vec<Type>,
}

struct Portal {
    stmt: Option<Stmt>,
    sql: String,
    catalog: bool,
    params: Vec<Value>,
    formats: Vec<i16>,
    /// What running it produced (run at the first Describe or Execute), and how many of its
    /// rows were sent.
    result: Option<Vec<Outcome>>,
    sent: usize,
}

pub struct Conn {
    peer: Ipv4Addr,
    phase: Phase,
    user: String,
    db: String,
    startup: Vec<(String, String)>,
    hba_line: String,
    session: Option<Session>,
    stmts: HashMap<String, Prepared>,
    portals: HashMap<String, Portal>,
    /// After an error in the extended protocol: skip messages until Sync.
    skipping: bool,
}

impl Server {
    fn hba(&self) -> String {
        match &self.engine.dir {
            Some(d) => std::fs::read_to_string(d.join("pg_hba.conf")).unwrap_or_else(|_| self.hba_default.clone()),
            None => self.hba_default.clone(),
        }
    }

    fn fatal(&self, c: &Conn, cx: &mut Ctx, e: Error) {
        let e = e.fatal();
        proto::error(cx.out, &e);
        let pid = c.session.as_ref().map(|s| s.pid).unwrap_or(0);
        cx.log.extend_from_slice(log_line(cx.now_ms, pid, "FATAL", &e.message).as_bytes());
        if e.code == "28P01" && !c.hba_line.is_empty() {
            cx.log.extend_from_slice(
                log_line(cx.now_ms, pid, "DETAIL", &format!("Connection matched pg_hba.conf line: \"{}\"", c.hba_line))
                    .as_bytes(),
            );
        }
    }

    fn startup(&mut self, c: &mut Conn, input: &[u8], cx: &mut Ctx) -> Step {
        let (body, used) = match proto::startup(input) {
            Ok(Some(x)) => x,
            Ok(None) => return Step::Need,
            Err(e) => {
                cx.log.extend_from_slice(log_line(cx.now_ms, 0, "LOG", &e).as_bytes());
                return Step::Close(input.len());
            }
        };
        let mut r = Reader::new(body);
        let code = r.i32().unwrap_or(0);
        match code {
            proto::SSL_REQUEST | proto::GSSENC_REQUEST => {
                cx.out.push(b'N');
                return Step::Used(used);
            }
            proto::CANCEL_REQUEST => return Step::Close(used),
            proto::PROTOCOL_3 => {}
            _ => {
                self.fatal(
                    c,
                    cx,
                    Error::new(
                        "0A000",
                        format!(
                            "unsupported frontend protocol {}.{}: server supports 3.0 to 3.0",
                            code >> 16,
                            code & 0xffff
                        ),
                    ),
                );
                return Step::Close(used);
            }
        }
        while let Ok(k) = r.cstr() {
            if k.is_empty() {
                break;
            }
            let v = r.cstr().unwrap_or_default();
            c.startup.push((k, v));
        }
        let get = |k: &str| c.startup.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone());
        let Some(user) = get("user").filter(|u| !u.is_empty()) else {
            // What pg_isready sends: answered, not logged.
            proto::error(cx.out, &Error::new("28000", "no PostgreSQL user name specified in startup packet").fatal());
            return Step::Close(used);
        };
        c.db = get("database").filter(|d| !d.is_empty()).unwrap_or_else(|| user.clone());
        c.user = user;
        let hba = self.hba();
        // A client inside the container: over the "socket" (local lines), or to 127.0.0.1.
        let inside = !self.local_token.is_empty() && get("skiff_local").is_some_and(|t| t == self.local_token);
        let peer = match (inside, get("skiff_socket").is_some()) {
            (true, true) => None,
            (true, false) => Some(Ipv4Addr::LOCALHOST),
            _ => Some(c.peer),
        };
        if inside {
            c.peer = Ipv4Addr::LOCALHOST;
        }
        let method = auth::hba_method(&hba, peer, &c.user, &c.db);
        c.hba_line = hba
            .lines()
            .map(str::trim)
            .find(|l| auth::hba_method(&format!("{l}\n"), peer, &c.user, &c.db) == method && method.is_some())
            .unwrap_or("")
            .to_string();
        match method {
            None => {
                self.fatal(
                    c,
                    cx,
                    Error::new(
                        "28000",
                        format!(
                            "no pg_hba.conf entry for host \"{}\", user \"{}\", database \"{}\", no encryption",
                            c.peer, c.user, c.db
                        ),
                    ),
                );
                Step::Close(used)
            }
            Some(Method::Reject) => {
                self.fatal(c, cx, Error::new("28000", format!("pg_hba.conf rejects connection for host \"{}\", user \"{}\", database \"{}\", no encryption", c.peer, c.user, c.db)));
                Step::Close(used)
            }
            Some(Method::Trust) => {
                if !self.engine.users.contains_key(&c.user) {
                    self.fatal(c, cx, Error::new("28000", format!("role \"{}\" does not exist", c.user)));
                    return Step::Close(used);
                }
                self.login(c, cx, used)
            }
            Some(Method::Scram) | Some(Method::Md5) => {
                proto::auth_sasl(cx.out);
                c.phase = Phase::SaslInit;
                Step::Used(used)
            }
            Some(Method::Password) => {
                proto::auth(cx.out, 3, &[]);
                c.phase = Phase::Password;
                Step::Used(used)
            }
        }
    }

    /// Authenticated: check the database, then AuthenticationOk and the session's settings.
    fn login(&mut self, c: &mut Conn, cx: &mut Ctx, used: usize) -> Step {
        if !self.engine.dbs.contains_key(&c.db) {
            self.fatal(c, cx, Error::new("3D000", format!("database \"{}\" does not exist", c.db)));
            return Step::Close(used);
        }
        if c.db == "template0" {
            self.fatal(c, cx, Error::new("55000", "database \"template0\" is not currently accepting connections"));
            return Step::Close(used);
        }
        let mut s = self.engine.session(&c.db, &c.user);
        // Settings from the start-up packet (`options=-c name=value` too).
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (k, v) in &c.startup {
            match k.as_str() {
                "user" | "database" | "replication" | "skiff_local" | "skiff_socket" => {}
                "options" => {
                    let words: Vec<&str> = v.split_whitespace().collect();
                    let mut i = 0;
                    while i < words.len() {
                        let kv = if words[i] == "-c" {
                            i += 1;
                            words.get(i).copied()
                        } else {
                            words[i].strip_prefix("--").or_else(|| words[i].strip_prefix("-c"))
                        };
                        if let Some((a, b)) = kv.and_then(|x| x.split_once('=')) {
                            pairs.push((a.replace('-', "_"), b.to_string()));
                        }
                        i += 1;
                    }
                }
                _ => pairs.push((k.clone(), v.clone())),
            }
        }
        for (k, v) in pairs {
            let _ = self.engine.query(
                &mut s,
                &format!("SET {} = '{}'", k.replace(['"', ';'], ""), v.replace('\'', "''")),
                cx.now_ms,
            );
        }
        proto::auth(cx.out, 0, &[]);
        for (k, v) in self.engine.reported(&s) {
            proto::param_status(cx.out, &k, &v);
        }
        proto::backend_key(cx.out, s.pid, auth::random_u64() as i32);
        proto::ready(cx.out, b'I');
        c.session = Some(s);
        c.phase = Phase::Ready;
        Step::Used(used)
    }

    fn auth_failed(&self, c: &Conn, cx: &mut Ctx, used: usize) -> Step {
        self.fatal(c, cx, Error::new("28P01", format!("password authentication failed for user \"{}\"", c.user)));
        Step::Close(used)
    }

    fn send_outcomes(&self, c: &mut Conn, outs: Vec<Outcome>, sql: &str, cx: &mut Ctx, describe: bool) {
        for o in outs {
            match o {
                Outcome::Rows { cols, rows, tag } => {
                    if describe {
                        proto::row_description(cx.out, &cols, &[]);
                    }
                    for r in rows {
                        let fields: Vec<Option<Vec<u8>>> = r.into_iter().map(|f| f.map(String::into_bytes)).collect();
                        proto::data_row(cx.out, &fields);
                    }
                    proto::command_complete(cx.out, &tag);
                }
                Outcome::Command(tag) => proto::command_complete(cx.out, &tag),
                Outcome::Empty => proto::empty_query(cx.out),
                Outcome::Error(e) => self.error(c, e, sql, cx),
                Outcome::Notice(e) => proto::error(cx.out, &e),
                Outcome::Param(k, v) => proto::param_status(cx.out, &k, &v),
            }
        }
    }

    /// Send an error, and log it with the statement, as PostgreSQL's log_min_error_statement.
    fn error(&self, c: &Conn, e: Error, sql: &str, cx: &mut Ctx) {
        proto::error(cx.out, &e);
        let pid = c.session.as_ref().map(|s| s.pid).unwrap_or(0);
        let mut msg = e.message.clone();
        if let Some(p) = e.position {
            msg.push_str(&format!(" at character {p}"));
        }
        cx.log.extend_from_slice(log_line(cx.now_ms, pid, "ERROR", &msg).as_bytes());
        if let Some(d) = &e.detail {
            cx.log.extend_from_slice(log_line(cx.now_ms, pid, "DETAIL", d).as_bytes());
        }
        if !sql.is_empty() {
            cx.log.extend_from_slice(log_line(cx.now_ms, pid, "STATEMENT", sql).as_bytes());
        }
    }

    fn ready_message(&mut self, c: &mut Conn, tag: u8, body: &[u8], cx: &mut Ctx) -> Result<bool, String> {
        let mut r = Reader::new(body);
        if c.skipping && !matches!(tag, b'S' | b'X') {
            return Ok(true);
        }
        match tag {
            b'Q' => {
                let sql = r.cstr()?;
                let s = c.session.as_mut().expect("ready");
                let outs = self.engine.query(s, &sql, cx.now_ms);
                self.send_outcomes(c, outs, &sql, cx, true);
                proto::ready(cx.out, c.session.as_ref().map(|s| s.status()).unwrap_or(b'I'));
            }
            b'X' => return Ok(false),
            b'P' => {
                let name = r.cstr()?;
                let sql = r.cstr()?;
                let n = r.i16()?.max(0) as usize;
                let mut declared = Vec::new();
                for _ in 0..n {
                    declared.push(r.i32()? as u32);
                }
                match self.prepare(c, &sql, &declared) {
                    Ok(p) => {
                        c.stmts.insert(name, p);
                        proto::simple(cx.out, b'1');
                    }
                    Err(e) => self.ext_error(c, e, &sql, cx),
                }
            }
            b'B' => {
                let portal = r.cstr()?;
                let name = r.cstr()?;
                let nf = r.i16()?.max(0) as usize;
                let mut pformats = Vec::new();
                for _ in 0..nf {
                    pformats.push(r.i16()?);
                }
                let np = r.i16()?.max(0) as usize;
                let mut raw = Vec::new();
                for _ in 0..np {
                    let len = r.i32()?;
                    raw.push(if len < 0 { None } else { Some(r.bytes(len as usize)?.to_vec()) });
                }
                let nr = r.i16()?.max(0) as usize;
                let mut formats = Vec::new();
                for _ in 0..nr {
                    formats.push(r.i16()?);
                }
                let Some(p) = c.stmts.get(&name) else {
                    self.ext_error(
                        c,
                        Error::new("26000", format!("prepared statement \"{name}\" does not exist")),
                        "",
                        cx,
                    );
                    return Ok(true);
                };
                if raw.len() != p.param_types.len() {
                    let e = Error::new(
                        "08P01",
                        format!(
                            "bind message supplies {} parameters, but prepared statement \"{name}\" requires {}",
                            raw.len(),
                            p.param_types.len()
                        ),
                    );
                    self.ext_error(c, e, "", cx);
                    return Ok(true);
                }
                let mut params = Vec::new();
                let mut bad = None;
                for (i, v) in raw.into_iter().enumerate() {
                    let fmt = proto::format_of(&pformats, i);
                    match decode_param(v, p.param_types[i], fmt) {
                        Ok(v) => params.push(v),
                        Err(e) => {
                            bad = Some(e);
                            break;
                        }
                    }
                }
                if let Some(e) = bad {
                    let sql = p.sql.clone();
                    self.ext_error(c, e, &sql, cx);
                    return Ok(true);
                }
                let portal_v = Portal {
                    stmt: p.stmt.clone(),
                    sql: p.sql.clone(),
                    catalog: p.catalog,
                    params,
                    formats,
                    result: None,
                    sent: 0,
                };
                c.portals.insert(portal, portal_v);
                proto::simple(cx.out, b'2');
            }
            b'D' => {
                let kind = r.u8()?;
                let name = r.cstr()?;
                if kind == b'S' {
                    let Some(p) = c.stmts.get(&name) else {
                        self.ext_error(
                            c,
                            Error::new("26000", format!("prepared statement \"{name}\" does not exist")),
                            "",
                            cx,
                        );
                        return Ok(true);
                    };
                    let types = p.param_types.clone();
                    proto::put(cx.out, b't', |b| {
                        proto::i16be(b, types.len() as i16);
                        for t in &types {
                            proto::i32be(b, t.oid() as i32);
                        }
                    });
                    let (stmt, sql, catalog) = (p.stmt.clone(), p.sql.clone(), p.catalog);
                    match self.describe(c, stmt.as_ref(), &sql, catalog) {
                        Ok(Some(cols)) => proto::row_description(cx.out, &cols, &[]),
                        Ok(None) => proto::simple(cx.out, b'n'),
                        Err(e) => self.ext_error(c, e, &sql, cx),
                    }
                } else {
                    if !c.portals.contains_key(&name) {
                        self.ext_error(c, Error::new("34000", format!("portal \"{name}\" does not exist")), "", cx);
                        return Ok(true);
                    }
                    self.run_portal(c, &name, cx);
                    let p = c.portals.get(&name).expect("present");
                    match p.result.as_ref().and_then(|v| v.iter().find(|o| matches!(o, Outcome::Rows { .. }))) {
                        Some(Outcome::Rows { cols, .. }) => proto::row_description(cx.out, cols, &p.formats),
                        _ => proto::simple(cx.out, b'n'),
                    }
                }
            }
            b'E' => {
                let name = r.cstr()?;
                let max = r.i32()?;
                if !c.portals.contains_key(&name) {
                    self.ext_error(c, Error::new("34000", format!("portal \"{name}\" does not exist")), "", cx);
                    return Ok(true);
                }
                self.run_portal(c, &name, cx);
                self.send_portal(c, &name, max, cx);
            }
            b'S' => {
                c.skipping = false;
                if let Some(s) = c.session.as_mut() {
                    let outs = self.engine.sync(s);
                    self.send_outcomes(c, outs, "", cx, true);
                }
                c.portals.remove("");
                proto::ready(cx.out, c.session.as_ref().map(|s| s.status()).unwrap_or(b'I'));
            }
            b'H' => {}
            b'C' => {
                let kind = r.u8()?;
                let name = r.cstr()?;
                if kind == b'S' {
                    c.stmts.remove(&name);
                } else {
                    c.portals.remove(&name);
                }
                proto::simple(cx.out, b'3');
            }
            b'd' | b'c' | b'f' => {}
            other => return Err(format!("invalid frontend message type {}", other)),
        }
        Ok(true)
    }

    fn ext_error(&self, c: &mut Conn, e: Error, sql: &str, cx: &mut Ctx) {
        self.error(c, e, sql, cx);
        c.skipping = true;
    }

    fn prepare(&mut self, c: &Conn, sql: &str, declared: &[u32]) -> Result<Prepared, Error> {
        let nparams = lex(sql)
            .map(|t| t.iter().filter_map(|t| if let Tok::Param(n) = t.tok { Some(n) } else { None }).max().unwrap_or(0))
            .unwrap_or(0)
            .max(declared.len());
        let s = c.session.as_ref().expect("ready");
        if catalog::answer(&self.engine, s, sql).is_some() {
            return Ok(Prepared { sql: sql.into(), stmt: None, catalog: true, param_types: vec![Type::Text; nparams] });
        }
        let mut stmts = parser::parse(sql)?;
        if stmts.len() > 1 {
            return Err(Error::new("42601", "cannot insert multiple commands into a prepared statement"));
        }
        let stmt = stmts.pop();
        let mut types = crate::params::infer(&self.engine, s, stmt.as_ref(), nparams);
        for (i, oid) in declared.iter().enumerate() {
            if let Some(t) = type_from_oid(*oid) {
                types[i] = t;
            }
        }
        Ok(Prepared { sql: sql.into(), stmt, catalog: false, param_types: types })
    }

    fn describe(
        &mut self,
        c: &Conn,
        stmt: Option<&Stmt>,
        sql: &str,
        catalog: bool,
    ) -> Result<Option<Vec<OutCol>>, Error> {
        let s = c.session.as_ref().expect("ready");
        if catalog {
            return Ok(match catalog::answer(&self.engine, s, sql) {
                Some(Outcome::Rows { cols, .. }) => Some(cols),
                _ => None,
            });
        }
        match stmt {
            Some(stmt) => self.engine.describe(s, stmt),
            None => Ok(None),
        }
    }

    fn run_portal(&mut self, c: &mut Conn, name: &str, cx: &mut Ctx) {
        let Some(p) = c.portals.get_mut(name) else {
            return;
        };
        if p.result.is_some() {
            return;
        }
        let s = c.session.as_mut().expect("ready");
        let result = if p.catalog {
            vec![catalog::answer(&self.engine, s, &p.sql).unwrap_or(Outcome::Empty)]
        } else {
            match &p.stmt {
                None => vec![Outcome::Empty],
                Some(stmt) => self.engine.execute(s, stmt, &p.params, cx.now_ms),
            }
        };
        p.result = Some(result);
    }

    fn send_portal(&mut self, c: &mut Conn, name: &str, max: i32, cx: &mut Ctx) {
        let Some(p) = c.portals.get_mut(name) else {
            return;
        };
        let outs = p.result.clone().unwrap_or_default();
        let formats = p.formats.clone();
        let sql = p.sql.clone();
        let mut failed = None;
        for o in outs {
            match o {
                Outcome::Rows { cols, rows, tag } => {
                    let start = p.sent;
                    let end = if max > 0 { (start + max as usize).min(rows.len()) } else { rows.len() };
                    for r in &rows[start..end] {
                        let mut fields = Vec::with_capacity(r.len());
                        for (i, f) in r.iter().enumerate() {
                            fields.push(match f {
                                None => None,
                                Some(text) if proto::format_of(&formats, i) == 1 => {
                                    Some(encode_binary(text, cols[i].ty))
                                }
                                Some(text) => Some(text.clone().into_bytes()),
                            });
                        }
                        proto::data_row(cx.out, &fields);
                    }
                    p.sent = end;
                    if end < rows.len() {
                        proto::simple(cx.out, b's');
                        return;
                    }
                    proto::command_complete(cx.out, &tag);
                }
                Outcome::Command(tag) => proto::command_complete(cx.out, &tag),
                Outcome::Empty => proto::empty_query(cx.out),
                Outcome::Error(e) => failed = Some(e),
                Outcome::Notice(e) => proto::error(cx.out, &e),
                Outcome::Param(k, v) => proto::param_status(cx.out, &k, &v),
            }
        }
        if let Some(e) = failed {
            p.result = Some(vec![]);
            self.ext_error(c, e, &sql, cx);
        }
    }
}

fn type_from_oid(oid: u32) -> Option<Type> {
    Some(match oid {
        16 => Type::Bool,
        21 => Type::Int2,
        23 => Type::Int4,
        20 => Type::Int8,
        700 => Type::Float4,
        701 => Type::Float8,
        1700 => Type::Numeric,
        25 => Type::Text,
        1043 => Type::Varchar(None),
        1042 => Type::Char(1),
        1114 => Type::Timestamp,
        1184 => Type::TimestampTz,
        1082 => Type::Date,
        19 => Type::Name,
        26 => Type::Oid,
        _ => return None,
    })
}

/// A Bind parameter: text (read as `ty`, or left untyped) or binary.
fn decode_param(v: Option<Vec<u8>>, ty: Type, format: i16) -> Result<Value, Error> {
    let Some(v) = v else { return Ok(Value::Null) };
    if format == 0 {
        let s = String::from_utf8(v).map_err(|_| Error::new("22021", "invalid byte sequence for encoding \"UTF8\""))?;
        return if ty.is_text() { Ok(Value::Text(s)) } else { Value::parse(&s, ty) };
    }
    let bad =
        || Error::new("22P03", format!("incorrect binary data format in bind parameter of type {}", ty.short_name()));
    let int = |n: usize| -> Result<i64, Error> {
        if v.len() != n {
            return Err(bad());
        }
        let mut b = [0u8; 8];
        b[8 - n..].copy_from_slice(&v);
        let x = i64::from_be_bytes(b);
        let shift = 64 - 8 * n as u32;
        Ok((x << shift) >> shift)
    };
    Ok(match ty {
        Type::Bool => Value::Bool(v.first().is_some_and(|&b| b != 0)),
        Type::Int2 => Value::Int(int(2)?),
        Type::Int4 | Type::Date if ty == Type::Int4 => Value::Int(int(4)?),
        Type::Date => Value::Date(int(4)? as i32),
        Type::Int8 => Value::Int(int(8)?),
        Type::Oid => Value::Int(int(4)? & 0xffff_ffff),
        Type::Float4 => Value::Float(f32::from_bits(int(4)? as u32) as f64),
        Type::Float8 => Value::Float(f64::from_bits(int(8)? as u64)),
        Type::Timestamp | Type::TimestampTz => Value::Timestamp(int(8)?),
        t if t.is_text() => Value::Text(String::from_utf8(v).map_err(|_| bad())?),
        _ => return Err(bad()),
    })
}

/// A result value in binary format (from its text form).
fn encode_binary(text: &str, ty: Type) -> Vec<u8> {
    match Value::parse(text, ty) {
        Ok(Value::Bool(b)) => vec![b as u8],
        Ok(Value::Int(i)) => match ty {
            Type::Int2 => (i as i16).to_be_bytes().to_vec(),
            Type::Int4 | Type::Oid => (i as i32).to_be_bytes().to_vec(),
            _ => i.to_be_bytes().to_vec(),
        },
        Ok(Value::Float(f)) => {
            if ty == Type::Float4 {
                (f as f32).to_be_bytes().to_vec()
            } else {
                f.to_be_bytes().to_vec()
            }
        }
        Ok(Value::Timestamp(t)) => t.to_be_bytes().to_vec(),
        Ok(Value::Date(d)) => d.to_be_bytes().to_vec(),
        Ok(Value::Numeric(_)) => numeric_binary(text),
        _ => text.as_bytes().to_vec(),
    }
}

/// numeric's binary form: ndigits, weight, sign, dscale, then base-10000 digits.
fn numeric_binary(text: &str) -> Vec<u8> {
    let (neg, t) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let int = int.trim_start_matches('0');
    let pad_left = (4 - int.len() % 4) % 4;
    let int_p = format!("{}{int}", "0".repeat(pad_left));
    let pad_right = (4 - frac.len() % 4) % 4;
    let frac_p = format!("{frac}{}", "0".repeat(pad_right));
    let mut digits: Vec<i16> = int_p
        .as_bytes()
        .chunks(4)
        .chain(frac_p.as_bytes().chunks(4))
        .map(|c| std::str::from_utf8(c).unwrap_or("0").parse().unwrap_or(0))
        .collect();
    let mut weight = (int_p.len() / 4) as i16 - 1;
    while digits.first() == Some(&0) {
        digits.remove(0);
        weight -= 1;
    }
    while digits.last() == Some(&0) {
        digits.pop();
    }
    if digits.is_empty() {
        weight = 0;
    }
    let mut out = Vec::new();
    out.extend_from_slice(&(digits.len() as i16).to_be_bytes());
    out.extend_from_slice(&weight.to_be_bytes());
    out.extend_from_slice(&(if neg { 0x4000u16 } else { 0 }).to_be_bytes());
    out.extend_from_slice(&(frac.len() as i16).to_be_bytes());
    for d in digits {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out
}

impl Service for Server {
    type Conn = Conn;

    /// `docker stop` sends the image's STOPSIGNAL, SIGINT: PostgreSQL's "fast shutdown".
    fn stopping(&mut self, sig: i32, log: &mut Vec<u8>) {
        let ms = serve::time::now_ms();
        let what = match sig {
            2 => "received fast shutdown request",
            3 => "received immediate shutdown request",
            _ => "received smart shutdown request",
        };
        for text in [what, "aborting any active transactions", "database system is shut down"] {
            log.extend_from_slice(log_line(ms, 1, "LOG", text).as_bytes());
        }
    }

    fn open(&mut self, peer: SocketAddrV4) -> Conn {
        Conn {
            peer: *peer.ip(),
            phase: Phase::Startup,
            user: String::new(),
            db: String::new(),
            startup: vec![],
            hba_line: String::new(),
            session: None,
            stmts: HashMap::new(),
            portals: HashMap::new(),
            skipping: false,
        }
    }

    fn close(&mut self, mut c: Conn) {
        if let Some(s) = c.session.as_mut() {
            self.engine.disconnect(s);
        }
    }

    fn max_input(&self) -> usize {
        proto::MAX_MESSAGE + 16
    }

    fn step(&mut self, c: &mut Conn, input: &[u8], cx: &mut Ctx) -> Step {
        if matches!(c.phase, Phase::Startup) {
            return self.startup(c, input, cx);
        }
        let (tag, body, used) = match proto::message(input) {
            Ok(Some(m)) => m,
            Ok(None) => return Step::Need,
            Err(e) => {
                self.fatal(c, cx, Error::new("08P01", e));
                return Step::Close(input.len());
            }
        };
        match std::mem::replace(&mut c.phase, Phase::Ready) {
            Phase::Ready => match self.ready_message(c, tag, body, cx) {
                Ok(true) => Step::Used(used),
                Ok(false) => Step::Close(used),
                Err(e) => {
                    self.fatal(c, cx, Error::new("08P01", e));
                    Step::Close(used)
                }
            },
            Phase::SaslInit => {
                let mut r = Reader::new(body);
                let parsed = (|| -> Result<(String, Vec<u8>), String> {
                    let mech = r.cstr()?;
                    let n = r.i32()?;
                    let data = if n < 0 { vec![] } else { r.bytes(n as usize)?.to_vec() };
                    Ok((mech, data))
                })();
                match (tag, parsed) {
                    (b'p', Ok((mech, data))) if mech == "SCRAM-SHA-256" => {
                        let secret = self.engine.users.get(&c.user).and_then(|u| u.secret.clone());
                        match ScramServer::start(secret.as_deref(), &String::from_utf8_lossy(&data)) {
                            Ok((srv, first)) => {
                                proto::auth(cx.out, 11, first.as_bytes());
                                c.phase = Phase::Scram(Box::new(srv));
                                Step::Used(used)
                            }
                            Err(e) => {
                                self.fatal(c, cx, Error::new("08P01", e));
                                Step::Close(used)
                            }
                        }
                    }
                    (b'p', Ok(_)) => {
                        self.fatal(
                            c,
                            cx,
                            Error::new("08P01", "client selected an invalid SASL authentication mechanism"),
                        );
                        Step::Close(used)
                    }
                    _ => {
                        // psql closes the connection to ask for a password; nothing to log.
                        Step::Close(used)
                    }
                }
            }
            Phase::Scram(srv) => {
                if tag != b'p' {
                    return Step::Close(used);
                }
                match srv.finish(&String::from_utf8_lossy(body)) {
                    Ok(fin) => {
                        proto::auth(cx.out, 12, fin.as_bytes());
                        self.login(c, cx, used)
                    }
                    Err(e) if e == "password" => self.auth_failed(c, cx, used),
                    Err(e) => {
                        self.fatal(c, cx, Error::new("08P01", e));
                        Step::Close(used)
                    }
                }
            }
            Phase::Password => {
                if tag != b'p' {
                    return Step::Close(used);
                }
                let pw = Reader::new(body).cstr().unwrap_or_default();
                let ok = self
                    .engine
                    .users
                    .get(&c.user)
                    .and_then(|u| u.secret.as_deref())
                    .and_then(auth::Secret::parse)
                    .is_some_and(|s| s.check(&pw));
                if ok {
                    self.login(c, cx, used)
                } else {
                    self.auth_failed(c, cx, used)
                }
            }
            Phase::Startup => Step::Close(used),
        }
    }
}

// ---- start-up: PGDATA, initdb, the log ----

/// What the environment asks for.
pub struct Config {
    pub pgdata: PathBuf,
    pub user: String,
    pub password: String,
    pub db: String,
    pub host_auth: String,
    pub port: u16,
    pub version: String,
}

pub const INITDB_TEXT: &str = "The files belonging to this database system will be owned by user \"postgres\".
This user must also own the server process.

The database cluster will be initialized with locale \"en_US.utf8\".
The default database encoding has accordingly been set to \"UTF8\".
The default text search configuration will be set to \"english\".

Data page checksums are disabled.

fixing permissions on existing directory {PGDATA} ... ok
creating subdirectories ... ok
selecting dynamic shared memory implementation ... posix
selecting default max_connections ... 100
selecting default shared_buffers ... 128MB
selecting default time zone ... Etc/UTC
creating configuration files ... ok
running bootstrap script ... ok
performing post-bootstrap initialization ... ok
syncing data to disk ... ok


Success. You can now start the database server using:

    pg_ctl -D {PGDATA} -l logfile start

";

pub const NO_PASSWORD: &str = "Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, \"-e POSTGRES_PASSWORD=password\" on \"docker run\".

       You may also use \"POSTGRES_HOST_AUTH_METHOD=trust\" to allow all
       connections without a password. This is *not* recommended.

       See PostgreSQL documentation about \"trust\":
       https://www.postgresql.org/docs/current/auth-trust.html
";

pub const TRUST_WARNING: &str = "********************************************************************************
WARNING: POSTGRES_HOST_AUTH_METHOD has been set to \"trust\". This will allow
         anyone with access to the Postgres port to access your database without
         a password, even if POSTGRES_PASSWORD is set. See PostgreSQL
         documentation about \"trust\":
         https://www.postgresql.org/docs/current/auth-trust.html
         In Docker's default configuration, this is effectively any other
         container on the same system.

         It is not recommended to use POSTGRES_HOST_AUTH_METHOD=trust. Replace
         it with \"-e POSTGRES_PASSWORD=password\" instead to set a password in
         \"docker run\".
********************************************************************************
";

/// Whether `PGDATA` holds a database (the entrypoint looks for `PG_VERSION`).
pub fn initialized(pgdata: &Path) -> bool {
    std::fs::metadata(pgdata.join("PG_VERSION")).is_ok_and(|m| m.len() > 0)
}

/// initdb: the directory layout, the superuser, `postgres`, `template0/1` and `$POSTGRES_DB`.
pub fn initdb(cfg: &Config, now_ms: u64) -> std::io::Result<()> {
    let d = &cfg.pgdata;
    std::fs::create_dir_all(d.join("base"))?;
    std::fs::create_dir_all(d.join("global"))?;
    let major = cfg.version.split('.').next().unwrap_or("15");
    let mut e = Engine::new(Some(d.clone()), &cfg.version, now_ms);
    for db in ["postgres", "template0", "template1"] {
        e.create_database(db, true).map_err(|x| std::io::Error::other(x.message))?;
    }
    if !e.dbs.contains_key(&cfg.db) {
        e.create_database(&cfg.db, true).map_err(|x| std::io::Error::other(x.message))?;
    }
    let secret = if cfg.password.is_empty() { None } else { Some(auth::scram_secret(&cfg.password, 4096)) };
    e.users.insert(cfg.user.clone(), User { name: cfg.user.clone(), oid: 10, secret, superuser: true });
    e.save_users();
    let auth = if cfg.host_auth.is_empty() { "scram-sha-256" } else { &cfg.host_auth };
    storage::write_atomic(&d.join("pg_hba.conf"), auth::default_hba(auth).as_bytes())?;
    storage::write_atomic(
        &d.join("postgresql.conf"),
        b"# skiff teaching image: the server reads no settings from here; it listens on\n# port 5432 (PGPORT overrides) and authenticates as pg_hba.conf says.\nlisten_addresses = '*'\n",
    )?;
    storage::write_atomic(&d.join("global/pg_control"), format!("shut down {now_ms}\n").as_bytes())?;
    // PG_VERSION last: its presence says the directory is a database.
    storage::write_atomic(&d.join("PG_VERSION"), format!("{major}\n").as_bytes())
}

/// Load `PGDATA` into an engine.
pub fn load(cfg: &Config, now_ms: u64) -> Result<Engine, String> {
    let d = &cfg.pgdata;
    let mut e = Engine::new(Some(d.clone()), &cfg.version, now_ms);
    if let Ok(text) = std::fs::read_to_string(d.join("global/pg_authid")) {
        for line in text.lines() {
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() >= 4 {
                let name = storage::unescape(f[0]).unwrap_or_default();
                e.users.insert(
                    name.clone(),
                    User {
                        name,
                        oid: f[1].parse().unwrap_or(10),
                        secret: storage::unescape(f[2]),
                        superuser: f[3] == "1",
                    },
                );
            }
        }
    }
    let base = d.join("base");
    let mut entries: Vec<_> = std::fs::read_dir(&base)
        .map_err(|err| format!("could not open directory \"{}\": {err}", base.display()))?
        .flatten()
        .collect();
    entries.sort_by_key(|x| x.file_name());
    for ent in entries {
        let dbname = decode_file_name(&ent.file_name().to_string_lossy());
        let oid = e.next_oid + 1;
        e.next_oid += 1;
        let mut db = Database { name: dbname.clone(), oid, tables: Default::default() };
        let mut files: Vec<_> = std::fs::read_dir(ent.path()).map(|r| r.flatten().collect()).unwrap_or_default();
        files.sort_by_key(|x| x.file_name());
        for f in files {
            let p = f.path();
            if p.extension().is_some_and(|x| x == "tmp") {
                let _ = std::fs::remove_file(&p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "tbl") {
                continue;
            }
            let text =
                std::fs::read_to_string(&p).map_err(|err| format!("could not read file \"{}\": {err}", p.display()))?;
            let t = storage::decode(&text)
                .map_err(|err| format!("could not read table file \"{}\": {err}", p.display()))?;
            e.next_oid = e.next_oid.max(t.oid);
            db.tables.insert(t.name.clone(), t);
        }
        e.dbs.insert(dbname, db);
    }
    Ok(e)
}

fn decode_file_name(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() + 1 {
            if let Ok(v) = u8::from_str_radix(s.get(i + 1..i + 3).unwrap_or(""), 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The log lines of a server start (after the entrypoint's).
pub fn start_log(cfg: &Config, now_ms: u64, last_up: Option<u64>) -> String {
    let mut s = String::new();
    s += &log_line(
        now_ms,
        1,
        "LOG",
        &format!("starting PostgreSQL {} on wasm32-unknown-wasip1, compiled by rustc, 32-bit", cfg.version),
    );
    s += &log_line(now_ms, 1, "LOG", &format!("listening on IPv4 address \"0.0.0.0\", port {}", cfg.port));
    s += &log_line(now_ms, 1, "LOG", &format!("listening on Unix socket \"{}\"", socket_path(cfg.port)));
    match last_up {
        Some(ms) => {
            let us = from_unix_ms(ms);
            s += &log_line(
                now_ms,
                28,
                "LOG",
                &format!("database system was shut down at {} UTC", format_timestamp(us - us.rem_euclid(1_000_000))),
            );
        }
        None => s += &log_line(now_ms, 28, "LOG", "database system was interrupted; last known up at an unknown time"),
    }
    s += &log_line(now_ms, 1, "LOG", "database system is ready to accept connections");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::ScramClient;

    fn server() -> Server {
        let mut e = Engine::new(None, "15.0 (skiff)", 0);
        e.create_database("postgres", false).unwrap();
        e.users.insert(
            "postgres".into(),
            User {
                name: "postgres".into(),
                oid: 10,
                secret: Some(auth::scram_secret("secret", 4096)),
                superuser: true,
            },
        );
        Server { engine: e, hba_default: auth::default_hba("scram-sha-256"), local_token: String::new() }
    }

    /// Feed bytes to a connection as the event loop would; returns the output.
    fn feed(srv: &mut Server, c: &mut Conn, input: &[u8]) -> (Vec<u8>, bool) {
        let (mut out, mut log) = (Vec::new(), Vec::new());
        let mut pos = 0;
        let mut closed = false;
        while pos < input.len() {
            let mut cx = Ctx { out: &mut out, log: &mut log, now_ms: 0, wake: 1 };
            match srv.step(c, &input[pos..], &mut cx) {
                Step::Need => break,
                Step::Used(n) => pos += n,
                Step::Close(_) => {
                    closed = true;
                    break;
                }
            }
        }
        (out, closed)
    }

    fn messages(out: &[u8]) -> Vec<(u8, Vec<u8>)> {
        let mut v = Vec::new();
        let mut pos = 0;
        while let Ok(Some((t, b, n))) = proto::message(&out[pos..]) {
            v.push((t, b.to_vec()));
            pos += n;
        }
        v
    }

    fn connect(srv: &mut Server, peer: [u8; 4], password: &str) -> (Conn, Vec<(u8, Vec<u8>)>) {
        let mut c = srv.open(SocketAddrV4::new(peer.into(), 5000));
        let (out, _) = feed(srv, &mut c, &[0, 0, 0, 8, 4, 210, 22, 47]);
        assert_eq!(out, b"N");
        let mut m = Vec::new();
        proto::startup_message(&mut m, &[("user", "postgres"), ("database", "postgres"), ("application_name", "psql")]);
        let (out, _) = feed(srv, &mut c, &m);
        let msgs = messages(&out);
        if msgs[0].1[..4] == [0, 0, 0, 0] {
            return (c, msgs);
        }
        assert_eq!(msgs[0].0, b'R');
        assert_eq!(&msgs[0].1[..4], &[0, 0, 0, 10]);
        let mut client = ScramClient::new(password);
        let first = client.client_first();
        let mut m = Vec::new();
        proto::put(&mut m, b'p', |b| {
            proto::cstr(b, "SCRAM-SHA-256");
            proto::i32be(b, first.len() as i32);
            b.extend_from_slice(first.as_bytes());
        });
        let (out, _) = feed(srv, &mut c, &m);
        let msgs = messages(&out);
        let server_first = String::from_utf8_lossy(&msgs[0].1[4..]).into_owned();
        let fin = client.client_final(&server_first).unwrap();
        let mut m = Vec::new();
        proto::put(&mut m, b'p', |b| b.extend_from_slice(fin.as_bytes()));
        let (out, _) = feed(srv, &mut c, &m);
        (c, messages(&out))
    }

    #[test]
    fn scram_login_and_a_query() {
        let mut srv = server();
        let (mut c, msgs) = connect(&mut srv, [172, 17, 0, 1], "secret");
        let tags: Vec<u8> = msgs.iter().map(|m| m.0).collect();
        assert_eq!(tags[0], b'R'); // SASLFinal
        assert_eq!(&msgs[1].1, &[0, 0, 0, 0]); // AuthenticationOk
        assert!(tags.contains(&b'S') && tags.contains(&b'K'));
        assert_eq!(msgs.last().unwrap(), &(b'Z', vec![b'I']));
        let params: Vec<String> =
            msgs.iter().filter(|m| m.0 == b'S').map(|m| String::from_utf8_lossy(&m.1).replace('\0', "=")).collect();
        assert!(params.contains(&"server_version=15.0 (skiff)=".to_string()), "{params:?}");
        assert!(params.contains(&"application_name=psql=".to_string()));
        let mut q = Vec::new();
        proto::query(&mut q, "SELECT 1 AS one; SELECT 1/0");
        let (out, _) = feed(&mut srv, &mut c, &q);
        let tags: Vec<u8> = messages(&out).iter().map(|m| m.0).collect();
        assert_eq!(tags, vec![b'T', b'D', b'C', b'E', b'Z']);
    }

    #[test]
    fn wrong_password_and_trust_from_loopback() {
        let mut srv = server();
        let (_, msgs) = connect(&mut srv, [172, 17, 0, 1], "wrong");
        let e = msgs.iter().find(|m| m.0 == b'E').unwrap();
        let f = proto::error_fields(&e.1);
        assert!(f.contains(&(b'C', "28P01".into())));
        assert!(f.contains(&(b'M', "password authentication failed for user \"postgres\"".into())));
        assert!(f.contains(&(b'S', "FATAL".into())));
        let (_, msgs) = connect(&mut srv, [127, 0, 0, 1], "");
        assert_eq!(msgs[0], (b'R', vec![0, 0, 0, 0]));
    }

    #[test]
    fn extended_protocol() {
        let mut srv = server();
        let (mut c, _) = connect(&mut srv, [127, 0, 0, 1], "");
        let mut q = Vec::new();
        proto::query(&mut q, "CREATE TABLE t (id int, name text)");
        feed(&mut srv, &mut c, &q);
        let mut m = Vec::new();
        proto::put(&mut m, b'P', |b| {
            proto::cstr(b, "");
            proto::cstr(b, "INSERT INTO t VALUES ($1, $2)");
            proto::i16be(b, 0);
        });
        proto::put(&mut m, b'B', |b| {
            proto::cstr(b, "");
            proto::cstr(b, "");
            proto::i16be(b, 0);
            proto::i16be(b, 2);
            proto::i32be(b, 1);
            b.push(b'7');
            proto::i32be(b, 3);
            b.extend_from_slice(b"ann");
            proto::i16be(b, 0);
        });
        proto::put(&mut m, b'E', |b| {
            proto::cstr(b, "");
            proto::i32be(b, 0);
        });
        proto::put(&mut m, b'S', |_| {});
        let (out, _) = feed(&mut srv, &mut c, &m);
        let tags: Vec<u8> = messages(&out).iter().map(|m| m.0).collect();
        assert_eq!(tags, vec![b'1', b'2', b'C', b'Z']);
        // Describe a SELECT with a parameter: its type comes from the column.
        let mut m = Vec::new();
        proto::put(&mut m, b'P', |b| {
            proto::cstr(b, "s1");
            proto::cstr(b, "SELECT name FROM t WHERE id = $1");
            proto::i16be(b, 0);
        });
        proto::put(&mut m, b'D', |b| {
            b.push(b'S');
            proto::cstr(b, "s1");
        });
        proto::put(&mut m, b'B', |b| {
            proto::cstr(b, "");
            proto::cstr(b, "s1");
            proto::i16be(b, 1);
            proto::i16be(b, 1);
            proto::i16be(b, 1);
            proto::i32be(b, 4);
            b.extend_from_slice(&7i32.to_be_bytes());
            proto::i16be(b, 0);
        });
        proto::put(&mut m, b'E', |b| {
            proto::cstr(b, "");
            proto::i32be(b, 0);
        });
        proto::put(&mut m, b'S', |_| {});
        let (out, _) = feed(&mut srv, &mut c, &m);
        let msgs = messages(&out);
        let tags: Vec<u8> = msgs.iter().map(|m| m.0).collect();
        assert_eq!(tags, vec![b'1', b't', b'T', b'2', b'D', b'C', b'Z']);
        assert_eq!(msgs[1].1, vec![0, 1, 0, 0, 0, 23]);
        assert!(msgs[4].1.ends_with(b"ann"));
    }

    #[test]
    fn numeric_binary_form() {
        assert_eq!(numeric_binary("12345.678"), vec![0, 3, 0, 1, 0, 0, 0, 3, 0, 1, 0x09, 0x29, 0x1a, 0x7c]);
    }
}
