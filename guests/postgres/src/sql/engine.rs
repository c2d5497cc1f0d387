//! The engine: databases of tables in memory (saved under `PGDATA` at each commit), sessions
//! with PostgreSQL's transaction rules, and the statements.
//!
//! Transactions: a session's changes go to its own copies of the tables it writes (an
//! overlay); COMMIT puts them in place and saves them, ROLLBACK drops them. Other sessions
//! see committed data only (read committed, PostgreSQL's default). Two transactions that
//! write the same table: the second COMMIT fails with a serialization error.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use super::ast::*;
use super::eval::{self, type_of, ColInfo, Ctx, Env};
use super::parser;
use super::storage;
use super::value::{from_unix_ms, Type, Value};
use super::Error;

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub ty: Type,
    pub not_null: bool,
    pub default: Option<Expr>,
    /// A serial column's sequence: the last value handed out.
    pub seq: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    pub oid: u32,
    pub owner: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Value>>,
    pub pk: Option<Vec<usize>>,
    pub uniques: Vec<Vec<usize>>,
    /// Bumped at each commit that changes the table (not saved).
    pub version: u64,
}

impl Table {
    pub fn constraint_name(&self, cols: &[usize], pk: bool) -> String {
        if pk {
            return format!("{}_pkey", self.name);
        }
        let names: Vec<&str> = cols.iter().map(|&i| self.columns[i].name.as_str()).collect();
        format!("{}_{}_key", self.name, names.join("_"))
    }

    pub fn col_infos(&self, alias: Option<&str>) -> Vec<ColInfo> {
        let q = alias.unwrap_or(&self.name).to_string();
        self.columns.iter().map(|c| ColInfo { table: Some(q.clone()), name: c.name.clone(), ty: c.ty }).collect()
    }

    fn column_index(&self, name: &str) -> Result<usize, Error> {
        self.columns.iter().position(|c| c.name == name).ok_or_else(|| {
            Error::new("42703", format!("column \"{name}\" of relation \"{}\" does not exist", self.name))
        })
    }
}

#[derive(Debug, Clone)]
#[allow(dead_code)]
pub struct Database {
    pub name: String,
    pub oid: u32,
    pub tables: BTreeMap<String, Table>,
}

#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub oid: u32,
    /// `SCRAM-SHA-256$…` (None: no password, so no password login).
    pub secret: Option<String>,
    pub superuser: bool,
}

/// A result column.
#[derive(Debug, Clone, PartialEq)]
pub struct OutCol {
    pub name: String,
    pub ty: Type,
}

/// What one statement produced, for the protocol to send.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Rows {
        cols: Vec<OutCol>,
        rows: Vec<Vec<Option<String>>>,
        tag: String,
    },
    Command(String),
    Empty,
    Error(Error),
    /// A NOTICE or WARNING (its severity is in the error).
    Notice(Error),
    /// A reported setting changed (ParameterStatus).
    Param(String, String),
}

#[derive(Debug, Default)]
struct Overlay {
    /// The table as this transaction has it (None: dropped), and the committed version it
    /// was copied from (None: it did not exist).
    tables: BTreeMap<String, (Option<Table>, Option<u64>)>,
}

#[derive(Debug)]
struct Txn {
    explicit: bool,
    failed: bool,
    start: i64,
    overlay: Overlay,
}

/// One connection's state.
#[derive(Debug)]
pub struct Session {
    pub db: String,
    pub user: String,
    pub pid: i32,
    pub settings: BTreeMap<String, String>,
    txn: Option<Txn>,
}

impl Session {
    /// ReadyForQuery's transaction status: `I` idle, `T` in a block, `E` failed block.
    pub fn status(&self) -> u8 {
        match &self.txn {
            Some(t) if t.explicit && t.failed => b'E',
            Some(t) if t.explicit => b'T',
            _ => b'I',
        }
    }
}

/// Settings `SHOW` knows: (canonical name, default, reported to the client).
pub const SETTINGS: &[(&str, &str, bool)] = &[
    ("application_name", "", true),
    ("client_encoding", "UTF8", true),
    ("DateStyle", "ISO, MDY", true),
    ("default_transaction_isolation", "read committed", false),
    ("default_transaction_read_only", "off", true),
    ("extra_float_digits", "1", false),
    ("in_hot_standby", "off", true),
    ("integer_datetimes", "on", true),
    ("IntervalStyle", "postgres", true),
    ("is_superuser", "on", true),
    ("lc_messages", "en_US.utf8", false),
    ("listen_addresses", "*", false),
    ("max_connections", "100", false),
    ("password_encryption", "scram-sha-256", false),
    ("port", "5432", false),
    ("search_path", "\"$user\", public", false),
    ("server_encoding", "UTF8", true),
    ("server_version", "", true),
    ("server_version_num", "", false),
    ("session_authorization", "", true),
    ("shared_buffers", "128MB", false),
    ("standard_conforming_strings", "on", true),
    ("statement_timeout", "0", false),
    ("TimeZone", "UTC", true),
    ("transaction_isolation", "read committed", false),
    ("work_mem", "4MB", false),
    ("data_directory", "", false),
];

pub struct Engine {
    /// `PGDATA`; None keeps everything in memory (unit tests).
    pub dir: Option<PathBuf>,
    pub dbs: BTreeMap<String, Database>,
    pub users: BTreeMap<String, User>,
    pub next_oid: u32,
    /// `15.0 (skiff)`.
    pub server_version: String,
    pub start_time: i64,
    next_pid: i32,
}

type R<T> = Result<T, Error>;

fn relation_missing(name: &str) -> Error {
    Error::new("42P01", format!("relation \"{name}\" does not exist"))
}

impl Engine {
    pub fn new(dir: Option<PathBuf>, server_version: &str, now_ms: u64) -> Engine {
        Engine {
            dir,
            dbs: BTreeMap::new(),
            users: BTreeMap::new(),
            next_oid: 16384,
            server_version: server_version.into(),
            start_time: from_unix_ms(now_ms),
            next_pid: 60,
        }
    }

    pub fn version_string(&self) -> String {
        format!("PostgreSQL {} on wasm32-unknown-wasip1, compiled by rustc, 32-bit", self.server_version)
    }

    fn oid(&mut self) -> u32 {
        self.next_oid += 1;
        self.next_oid
    }

    /// A new session for `user` on `db` (both checked by the caller).
    pub fn session(&mut self, db: &str, user: &str) -> Session {
        self.next_pid += 1;
        let mut settings = BTreeMap::new();
        for (k, v, _) in SETTINGS {
            settings.insert(k.to_ascii_lowercase(), v.to_string());
        }
        settings.insert("server_version".into(), self.server_version.clone());
        settings.insert("server_version_num".into(), self.version_num().to_string());
        settings.insert("session_authorization".into(), user.into());
        settings
            .insert("data_directory".into(), self.dir.as_ref().map(|d| d.display().to_string()).unwrap_or_default());
        Session { db: db.into(), user: user.into(), pid: self.next_pid, settings, txn: None }
    }

    pub fn version_num(&self) -> u32 {
        let mut it = self.server_version.split(|c: char| !c.is_ascii_digit());
        let major: u32 = it.next().and_then(|x| x.parse().ok()).unwrap_or(15);
        let minor: u32 = it.next().and_then(|x| x.parse().ok()).unwrap_or(0);
        major * 10000 + minor
    }

    /// The settings reported at start-up (ParameterStatus), in PostgreSQL's order.
    pub fn reported(&self, s: &Session) -> Vec<(String, String)> {
        SETTINGS
            .iter()
            .filter(|(_, _, r)| *r)
            .map(|(k, _, _)| (k.to_string(), s.settings.get(&k.to_ascii_lowercase()).cloned().unwrap_or_default()))
            .collect()
    }

    pub fn create_database(&mut self, name: &str, save: bool) -> R<()> {
        if self.dbs.contains_key(name) {
            return Err(Error::new("42P04", format!("database \"{name}\" already exists")));
        }
        if save {
            if let Some(dir) = &self.dir {
                let p = dir.join("base").join(storage::file_name(name));
                std::fs::create_dir_all(&p)
                    .map_err(|e| Error::new("58030", format!("could not create directory \"{}\": {e}", p.display())))?;
            }
        }
        let oid = self.oid();
        self.dbs.insert(name.into(), Database { name: name.into(), oid, tables: BTreeMap::new() });
        Ok(())
    }

    // ---- the query entry points ----

    /// Run a simple-protocol query string (maybe several statements).
    pub fn query(&mut self, s: &mut Session, sql: &str, now_ms: u64) -> Vec<Outcome> {
        let mut out = Vec::new();
        if let Some(r) = super::catalog::answer(self, s, sql) {
            if s.txn.as_ref().is_some_and(|t| t.failed) {
                out.push(Outcome::Error(aborted()));
            } else {
                out.push(r);
            }
            return out;
        }
        let stmts = match parser::parse(sql) {
            Ok(v) => v,
            Err(e) => {
                self.abort(s);
                out.push(Outcome::Error(e));
                return out;
            }
        };
        if stmts.is_empty() {
            out.push(Outcome::Empty);
            return out;
        }
        for stmt in &stmts {
            match self.statement(s, stmt, &[], now_ms) {
                Ok(mut v) => out.append(&mut v),
                Err(e) => {
                    self.abort(s);
                    out.push(Outcome::Error(e));
                    return out;
                }
            }
        }
        self.finish_implicit(s, &mut out);
        out
    }

    /// Run one statement of the extended protocol (its implicit transaction ends at Sync).
    pub fn execute(&mut self, s: &mut Session, stmt: &Stmt, params: &[Value], now_ms: u64) -> Vec<Outcome> {
        match self.statement(s, stmt, params, now_ms) {
            Ok(v) => v,
            Err(e) => {
                self.abort(s);
                vec![Outcome::Error(e)]
            }
        }
    }

    /// Sync: an implicit transaction commits.
    pub fn sync(&mut self, s: &mut Session) -> Vec<Outcome> {
        let mut out = Vec::new();
        self.finish_implicit(s, &mut out);
        out
    }

    fn finish_implicit(&mut self, s: &mut Session, out: &mut Vec<Outcome>) {
        if s.txn.as_ref().is_some_and(|t| !t.explicit) {
            if let Err(e) = self.commit(s) {
                out.push(Outcome::Error(e));
            }
        }
    }

    /// An error: a block becomes failed, an implicit transaction is rolled back.
    pub fn abort(&mut self, s: &mut Session) {
        match &mut s.txn {
            Some(t) if t.explicit => t.failed = true,
            _ => s.txn = None,
        }
    }

    /// The connection ended: whatever was not committed is gone.
    pub fn disconnect(&mut self, s: &mut Session) {
        s.txn = None;
    }

    fn commit(&mut self, s: &mut Session) -> R<()> {
        let Some(txn) = s.txn.take() else {
            return Ok(());
        };
        let Some(db) = self.dbs.get(&s.db) else {
            return Ok(());
        };
        // First check nobody else committed a change to a table this one changed.
        for (name, (_, base)) in &txn.overlay.tables {
            let now = db.tables.get(name).map(|t| t.version);
            if now != *base {
                return Err(Error::new("40001", "could not serialize access due to concurrent update")
                    .detail(format!("Table \"{name}\" was changed by another transaction.")));
            }
        }
        let dbdir = self.dir.as_ref().map(|d| d.join("base").join(storage::file_name(&s.db)));
        let db = self.dbs.get_mut(&s.db).expect("checked");
        for (name, (table, _)) in txn.overlay.tables {
            let path = dbdir.as_ref().map(|d| d.join(format!("{}.tbl", storage::file_name(&name))));
            match table {
                Some(mut t) => {
                    if let Some(p) = &path {
                        storage::write_atomic(p, storage::encode(&t).as_bytes()).map_err(|e| {
                            Error::new("58030", format!("could not write file \"{}\": {e}", p.display()))
                        })?;
                    }
                    t.version = db.tables.get(&name).map(|o| o.version).unwrap_or(0) + 1;
                    db.tables.insert(name, t);
                }
                None => {
                    if let Some(p) = &path {
                        let _ = std::fs::remove_file(p);
                    }
                    db.tables.remove(&name);
                }
            }
        }
        Ok(())
    }

    fn begin_implicit(&mut self, s: &mut Session, now_ms: u64) {
        if s.txn.is_none() {
            s.txn =
                Some(Txn { explicit: false, failed: false, start: from_unix_ms(now_ms), overlay: Overlay::default() });
        }
    }

    fn env(&self, s: &Session) -> Env {
        Env {
            now: s.txn.as_ref().map(|t| t.start).unwrap_or(self.start_time),
            database: s.db.clone(),
            user: s.user.clone(),
            version: self.version_string(),
            pid: s.pid,
            start_time: self.start_time,
        }
    }

    /// The tables this session sees: committed ones with its own changes over them.
    pub fn visible_tables<'a>(&'a self, s: &'a Session) -> Vec<&'a Table> {
        let mut m: BTreeMap<&str, &Table> = BTreeMap::new();
        if let Some(db) = self.dbs.get(&s.db) {
            for (k, t) in &db.tables {
                m.insert(k, t);
            }
        }
        if let Some(txn) = &s.txn {
            for (k, (t, _)) in &txn.overlay.tables {
                match t {
                    Some(t) => m.insert(k, t),
                    None => m.remove(k.as_str()),
                };
            }
        }
        m.into_values().collect()
    }

    pub fn table<'a>(&'a self, s: &'a Session, name: &str) -> Option<&'a Table> {
        if let Some(txn) = &s.txn {
            if let Some((t, _)) = txn.overlay.tables.get(name) {
                return t.as_ref();
            }
        }
        self.dbs.get(&s.db)?.tables.get(name)
    }

    fn table_mut<'a>(&self, s: &'a mut Session, name: &str) -> R<&'a mut Table> {
        let committed = self.dbs.get(&s.db).and_then(|d| d.tables.get(name));
        let txn = s.txn.as_mut().expect("a transaction is open");
        let entry = txn
            .overlay
            .tables
            .entry(name.to_string())
            .or_insert_with(|| (committed.cloned(), committed.map(|t| t.version)));
        entry.0.as_mut().ok_or_else(|| relation_missing(name))
    }

    // ---- statements ----

    fn statement(&mut self, s: &mut Session, stmt: &Stmt, params: &[Value], now_ms: u64) -> R<Vec<Outcome>> {
        if s.txn.as_ref().is_some_and(|t| t.failed) && !matches!(stmt, Stmt::Commit | Stmt::Rollback) {
            return Err(aborted());
        }
        let cmd = |t: &str| Ok(vec![Outcome::Command(t.into())]);
        match stmt {
            Stmt::Begin => {
                if s.txn.as_ref().is_some_and(|t| t.explicit) {
                    return Ok(vec![
                        Outcome::Notice(warning("25001", "there is already a transaction in progress")),
                        Outcome::Command("BEGIN".into()),
                    ]);
                }
                self.begin_implicit(s, now_ms);
                if let Some(t) = &mut s.txn {
                    t.explicit = true;
                }
                cmd("BEGIN")
            }
            Stmt::Commit | Stmt::Rollback => {
                let commit = matches!(stmt, Stmt::Commit);
                let word = if commit { "COMMIT" } else { "ROLLBACK" };
                match &s.txn {
                    Some(t) if t.explicit => {
                        if t.failed || !commit {
                            s.txn = None;
                            return cmd("ROLLBACK");
                        }
                        self.commit(s)?;
                        cmd("COMMIT")
                    }
                    _ => Ok(vec![
                        Outcome::Notice(warning("25P01", "there is no transaction in progress")),
                        Outcome::Command(word.into()),
                    ]),
                }
            }
            Stmt::CreateDatabase(name) => {
                self.no_block(s, "CREATE DATABASE")?;
                self.create_database(name, true)?;
                cmd("CREATE DATABASE")
            }
            Stmt::DropDatabase { name, if_exists } => {
                self.no_block(s, "DROP DATABASE")?;
                if !self.dbs.contains_key(name) {
                    if *if_exists {
                        return Ok(vec![
                            Outcome::Notice(notice("00000", format!("database \"{name}\" does not exist, skipping"))),
                            Outcome::Command("DROP DATABASE".into()),
                        ]);
                    }
                    return Err(Error::new("3D000", format!("database \"{name}\" does not exist")));
                }
                if *name == s.db {
                    return Err(Error::new("55006", "cannot drop the currently open database"));
                }
                if name == "template0" || name == "template1" {
                    return Err(Error::new("55006", format!("cannot drop a template database \"{name}\"")));
                }
                if let Some(dir) = &self.dir {
                    let p = dir.join("base").join(storage::file_name(name));
                    let _ = std::fs::remove_dir_all(p);
                }
                self.dbs.remove(name);
                cmd("DROP DATABASE")
            }
            Stmt::UserPassword { user, password, create } => {
                if *create && self.users.contains_key(user) {
                    return Err(Error::new("42710", format!("role \"{user}\" already exists")));
                }
                if !*create && !self.users.contains_key(user) {
                    return Err(Error::new("42704", format!("role \"{user}\" does not exist")));
                }
                let secret = password.as_ref().map(|p| crate::auth::scram_secret(p, 4096));
                let oid = if *create { self.oid() } else { self.users[user].oid };
                let u = self.users.entry(user.clone()).or_insert(User {
                    name: user.clone(),
                    oid,
                    secret: None,
                    superuser: false,
                });
                if password.is_some() || *create {
                    u.secret = secret;
                }
                self.save_users();
                cmd(if *create { "CREATE ROLE" } else { "ALTER ROLE" })
            }
            Stmt::Set { name, value } => self.set(s, name, value.as_deref()),
            Stmt::Show(name) => self.show(s, name),
            Stmt::Noop(tag) => cmd(tag),
            _ => {
                self.begin_implicit(s, now_ms);
                self.data_statement(s, stmt, params)
            }
        }
    }

    fn no_block(&self, s: &Session, what: &str) -> R<()> {
        if s.txn.as_ref().is_some_and(|t| t.explicit) {
            return Err(Error::new("25001", format!("{what} cannot run inside a transaction block")));
        }
        Ok(())
    }

    pub fn save_users(&self) {
        if let Some(dir) = &self.dir {
            let mut text = String::new();
            for u in self.users.values() {
                text.push_str(&format!(
                    "{}\t{}\t{}\t{}\n",
                    storage::escape(Some(&u.name)),
                    u.oid,
                    storage::escape(u.secret.as_deref()),
                    u.superuser as u8
                ));
            }
            let _ = std::fs::create_dir_all(dir.join("global"));
            let _ = storage::write_atomic(&dir.join("global/pg_authid"), text.as_bytes());
        }
    }

    fn set(&mut self, s: &mut Session, name: &str, value: Option<&str>) -> R<Vec<Outcome>> {
        let canon = SETTINGS.iter().find(|(k, _, _)| k.eq_ignore_ascii_case(name));
        let Some((key, default, reported)) = canon else {
            if name.contains('.') {
                s.settings.insert(name.to_string(), value.unwrap_or("").to_string());
                return Ok(vec![Outcome::Command("SET".into())]);
            }
            return Err(Error::new("42704", format!("unrecognized configuration parameter \"{name}\"")));
        };
        let lower = key.to_ascii_lowercase();
        if matches!(
            lower.as_str(),
            "server_version"
                | "server_encoding"
                | "integer_datetimes"
                | "is_superuser"
                | "server_version_num"
                | "max_connections"
                | "port"
                | "shared_buffers"
                | "listen_addresses"
                | "data_directory"
                | "in_hot_standby"
        ) {
            return Err(Error::new(
                "55P02",
                format!("parameter \"{lower}\" cannot be changed without restarting the server"),
            ));
        }
        let mut v = value.map(str::to_string).unwrap_or_else(|| default.to_string());
        match lower.as_str() {
            "client_encoding" => {
                let u = v.to_ascii_uppercase().replace('-', "");
                if u != "UTF8" && u != "UNICODE" && u != "SQL_ASCII" {
                    return Err(Error::new(
                        "22023",
                        format!("invalid value for parameter \"client_encoding\": \"{v}\""),
                    ));
                }
                v = "UTF8".into();
            }
            "timezone" => {
                if !["utc", "etc/utc", "gmt", "z", "zulu", "0"].contains(&v.to_ascii_lowercase().as_str()) {
                    return Err(Error::new("22023", format!("invalid value for parameter \"TimeZone\": \"{v}\""))
                        .hint("This server only keeps time in UTC."));
                }
                v = "UTC".into();
            }
            "datestyle" => v = "ISO, MDY".into(),
            _ => {}
        }
        s.settings.insert(lower, v.clone());
        let mut out = Vec::new();
        if *reported {
            out.push(Outcome::Param(key.to_string(), v));
        }
        out.push(Outcome::Command("SET".into()));
        Ok(out)
    }

    fn show(&self, s: &Session, name: &str) -> R<Vec<Outcome>> {
        if name == "all" {
            let rows = SETTINGS
                .iter()
                .map(|(k, _, _)| {
                    vec![Some(k.to_string()), s.settings.get(&k.to_ascii_lowercase()).cloned(), Some(String::new())]
                })
                .collect();
            return Ok(vec![Outcome::Rows {
                cols: vec![
                    OutCol { name: "name".into(), ty: Type::Text },
                    OutCol { name: "setting".into(), ty: Type::Text },
                    OutCol { name: "description".into(), ty: Type::Text },
                ],
                rows,
                tag: "SHOW".into(),
            }]);
        }
        let (key, value) = match SETTINGS.iter().find(|(k, _, _)| k.eq_ignore_ascii_case(name)) {
            Some((k, _, _)) => (k.to_string(), s.settings.get(&k.to_ascii_lowercase()).cloned().unwrap_or_default()),
            None => match s.settings.get(name) {
                Some(v) if name.contains('.') => (name.to_string(), v.clone()),
                _ => return Err(Error::new("42704", format!("unrecognized configuration parameter \"{name}\""))),
            },
        };
        Ok(vec![Outcome::Rows {
            cols: vec![OutCol { name: key, ty: Type::Text }],
            rows: vec![vec![Some(value)]],
            tag: "SHOW".into(),
        }])
    }

    fn data_statement(&mut self, s: &mut Session, stmt: &Stmt, params: &[Value]) -> R<Vec<Outcome>> {
        let env = self.env(s);
        match stmt {
            Stmt::Select(sel) => {
                let (cols, rows) = self.select(s, sel, params, &env)?;
                let n = rows.len();
                Ok(vec![Outcome::Rows { cols: cols.clone(), rows: render(&cols, rows), tag: format!("SELECT {n}") }])
            }
            Stmt::Insert(ins) => self.insert(s, ins, params, &env),
            Stmt::Update(up) => self.update(s, up, params, &env),
            Stmt::Delete(del) => self.delete(s, del, params, &env),
            Stmt::CreateTable(ct) => self.create_table(s, ct, &env),
            Stmt::DropTable { names, if_exists } => {
                let mut out = Vec::new();
                for n in names {
                    if self.table(s, n).is_none() {
                        if *if_exists {
                            out.push(Outcome::Notice(notice(
                                "00000",
                                format!("table \"{n}\" does not exist, skipping"),
                            )));
                            continue;
                        }
                        return Err(Error::new("42P01", format!("table \"{n}\" does not exist")));
                    }
                }
                for n in names {
                    if self.table(s, n).is_some() {
                        let committed = self.dbs.get(&s.db).and_then(|d| d.tables.get(n)).map(|t| t.version);
                        let txn = s.txn.as_mut().expect("open");
                        let e = txn.overlay.tables.entry(n.clone()).or_insert((None, committed));
                        e.0 = None;
                    }
                }
                out.push(Outcome::Command("DROP TABLE".into()));
                Ok(out)
            }
            Stmt::Truncate(names) => {
                for n in names {
                    self.table_mut(s, n)?.rows.clear();
                }
                Ok(vec![Outcome::Command("TRUNCATE TABLE".into())])
            }
            Stmt::AlterTable { table, action } => self.alter(s, table, action, &env),
            _ => Err(Error::new("0A000", "statement not supported")),
        }
    }

    fn create_table(&mut self, s: &mut Session, ct: &CreateTable, env: &Env) -> R<Vec<Outcome>> {
        if self.table(s, &ct.name).is_some() {
            if ct.if_not_exists {
                return Ok(vec![
                    Outcome::Notice(notice("42P07", format!("relation \"{}\" already exists, skipping", ct.name))),
                    Outcome::Command("CREATE TABLE".into()),
                ]);
            }
            return Err(Error::new("42P07", format!("relation \"{}\" already exists", ct.name)));
        }
        let mut t = Table {
            name: ct.name.clone(),
            oid: 0,
            owner: s.user.clone(),
            columns: vec![],
            rows: vec![],
            pk: None,
            uniques: vec![],
            version: 0,
        };
        let mut seen = HashSet::new();
        for c in &ct.columns {
            if !seen.insert(c.name.clone()) {
                return Err(Error::new("42701", format!("column \"{}\" specified more than once", c.name)));
            }
            t.columns.push(column_from_def(&ct.name, c, env)?);
        }
        let mut pk: Option<Vec<usize>> = None;
        for (i, c) in ct.columns.iter().enumerate() {
            if c.primary_key {
                if pk.is_some() {
                    return Err(Error::new(
                        "42P16",
                        format!("multiple primary keys for table \"{}\" are not allowed", ct.name),
                    ));
                }
                pk = Some(vec![i]);
            }
            if c.unique {
                t.uniques.push(vec![i]);
            }
        }
        let key_cols = |names: &[String], t: &Table| -> R<Vec<usize>> {
            names
                .iter()
                .map(|n| {
                    t.columns
                        .iter()
                        .position(|c| &c.name == n)
                        .ok_or_else(|| Error::new("42703", format!("column \"{n}\" named in key does not exist")))
                })
                .collect()
        };
        if let Some(names) = &ct.primary_key {
            if pk.is_some() {
                return Err(Error::new(
                    "42P16",
                    format!("multiple primary keys for table \"{}\" are not allowed", ct.name),
                ));
            }
            pk = Some(key_cols(names, &t)?);
        }
        for u in &ct.uniques {
            let k = key_cols(u, &t)?;
            t.uniques.push(k);
        }
        if let Some(pk) = &pk {
            for &i in pk {
                t.columns[i].not_null = true;
            }
        }
        t.pk = pk;
        t.oid = self.oid();
        let txn = s.txn.as_mut().expect("open");
        let base = txn.overlay.tables.get(&ct.name).map(|e| e.1).unwrap_or(None);
        txn.overlay.tables.insert(ct.name.clone(), (Some(t), base));
        Ok(vec![Outcome::Command("CREATE TABLE".into())])
    }

    fn alter(&mut self, s: &mut Session, table: &str, action: &AlterAction, env: &Env) -> R<Vec<Outcome>> {
        if self.table(s, table).is_none() {
            return Err(relation_missing(table));
        }
        match action {
            AlterAction::AddColumn(def) => {
                let t = self.table_mut(s, table)?;
                if t.columns.iter().any(|c| c.name == def.name) {
                    return Err(Error::new(
                        "42701",
                        format!("column \"{}\" of relation \"{table}\" already exists", def.name),
                    ));
                }
                let mut col = column_from_def(table, def, env)?;
                let idx = t.columns.len();
                // Fill existing rows with the default.
                let mut fill = Vec::new();
                for _ in 0..t.rows.len() {
                    fill.push(default_value(&mut col, env)?);
                }
                if col.not_null && fill.iter().any(Value::is_null) {
                    return Err(Error::new(
                        "23502",
                        format!("column \"{}\" of relation \"{table}\" contains null values", def.name),
                    ));
                }
                for (r, v) in t.rows.iter_mut().zip(fill) {
                    r.push(v);
                }
                t.columns.push(col);
                if def.primary_key {
                    if t.pk.is_some() {
                        return Err(Error::new(
                            "42P16",
                            format!("multiple primary keys for table \"{table}\" are not allowed"),
                        ));
                    }
                    t.pk = Some(vec![idx]);
                }
                if def.unique {
                    t.uniques.push(vec![idx]);
                }
            }
            AlterAction::DropColumn(name) => {
                let t = self.table_mut(s, table)?;
                let i = t.column_index(name)?;
                t.columns.remove(i);
                for r in &mut t.rows {
                    r.remove(i);
                }
                let fix = |v: &mut Vec<usize>| -> bool {
                    if v.contains(&i) {
                        return false;
                    }
                    for x in v.iter_mut() {
                        if *x > i {
                            *x -= 1;
                        }
                    }
                    true
                };
                if let Some(mut pk) = t.pk.take() {
                    if fix(&mut pk) {
                        t.pk = Some(pk);
                    }
                }
                t.uniques.retain_mut(|u| fix(u));
            }
            AlterAction::RenameColumn(from, to) => {
                let t = self.table_mut(s, table)?;
                let i = t.column_index(from)?;
                if t.columns.iter().any(|c| &c.name == to) {
                    return Err(Error::new("42701", format!("column \"{to}\" of relation \"{table}\" already exists")));
                }
                t.columns[i].name = to.clone();
            }
            AlterAction::RenameTo(to) => {
                if self.table(s, to).is_some() {
                    return Err(Error::new("42P07", format!("relation \"{to}\" already exists")));
                }
                let mut t = self.table_mut(s, table)?.clone();
                t.name = to.clone();
                let committed = self.dbs.get(&s.db).and_then(|d| d.tables.get(to)).map(|t| t.version);
                let txn = s.txn.as_mut().expect("open");
                if let Some(e) = txn.overlay.tables.get_mut(table) {
                    e.0 = None;
                }
                txn.overlay.tables.insert(to.clone(), (Some(t), committed));
            }
        }
        Ok(vec![Outcome::Command("ALTER TABLE".into())])
    }

    /// The columns a statement's expressions see, and the table's rows.
    fn source<'a>(
        &'a self,
        s: &'a Session,
        from: &Option<(String, Option<String>)>,
    ) -> R<(Vec<ColInfo>, Vec<&'a [Value]>)> {
        match from {
            None => Ok((vec![], vec![&[]])),
            Some((name, alias)) => {
                let t = self.table(s, name).ok_or_else(|| relation_missing(name))?;
                Ok((t.col_infos(alias.as_deref()), t.rows.iter().map(|r| r.as_slice()).collect()))
            }
        }
    }

    pub fn select(&self, s: &Session, sel: &Select, params: &[Value], env: &Env) -> R<(Vec<OutCol>, Vec<Vec<Value>>)> {
        let (cols, rows) = self.source(s, &sel.from)?;
        let ctx = Ctx { cols: &cols, params, env };
        // The output expressions.
        let mut items: Vec<(Expr, String)> = Vec::new();
        for it in &sel.items {
            match it {
                SelectItem::Star(q) => {
                    if sel.from.is_none() {
                        return Err(Error::new("42601", "SELECT * with no tables specified is not valid"));
                    }
                    if let Some(q) = q {
                        if !cols.iter().any(|c| c.table.as_deref() == Some(q)) {
                            return Err(Error::new("42P01", format!("missing FROM-clause entry for table \"{q}\"")));
                        }
                    }
                    for c in &cols {
                        items.push((
                            Expr::Column { table: c.table.clone(), name: c.name.clone(), pos: 0 },
                            c.name.clone(),
                        ));
                    }
                }
                SelectItem::Expr(e, alias) => {
                    items.push((e.clone(), alias.clone().unwrap_or_else(|| e.default_name())))
                }
            }
        }
        let mut out_cols = Vec::new();
        for (e, name) in &items {
            let ty = type_of(e, &ctx)?;
            out_cols.push(OutCol { name: name.clone(), ty: if ty == Type::Unknown { Type::Text } else { ty } });
        }
        if let Some(w) = &sel.where_ {
            if w.contains_aggregate() {
                return Err(Error::new("42803", "aggregate functions are not allowed in WHERE"));
            }
            let t = type_of(w, &ctx)?;
            if t != Type::Bool && t != Type::Unknown {
                return Err(Error::new(
                    "42804",
                    format!("argument of WHERE must be type boolean, not type {}", t.short_name()),
                ));
            }
        }
        // Filter.
        let mut kept: Vec<&[Value]> = Vec::new();
        for r in rows {
            if let Some(w) = &sel.where_ {
                if eval::truth(&eval::eval(w, &ctx, r, None)?)? != Some(true) {
                    continue;
                }
            }
            kept.push(r);
        }
        let aggregating =
            !sel.group_by.is_empty() || items.iter().any(|(e, _)| e.contains_aggregate()) || sel.having.is_some();
        // ORDER BY items: an output column (by position or name) or an expression.
        enum Key {
            Out(usize),
            Expr(Expr),
        }
        let mut keys = Vec::new();
        for o in &sel.order_by {
            let k = match &o.expr {
                Expr::Lit(Value::Int(n), _) => {
                    if *n < 1 || *n as usize > items.len() {
                        return Err(Error::new("42P10", format!("ORDER BY position {n} is not in select list")));
                    }
                    Key::Out(*n as usize - 1)
                }
                Expr::Column { table: None, name, .. } if items.iter().any(|(_, n)| n == name) => {
                    Key::Out(items.iter().position(|(_, n)| n == name).unwrap_or(0))
                }
                e => {
                    type_of(e, &ctx)?;
                    Key::Expr(e.clone())
                }
            };
            keys.push(k);
        }
        // (output row, sort key values)
        let mut result: Vec<(Vec<Value>, Vec<Value>)> = Vec::new();
        if aggregating {
            for (e, _) in &items {
                check_grouped(e, &sel.group_by, &cols)?;
            }
            if let Some(h) = &sel.having {
                check_grouped(h, &sel.group_by, &cols)?;
            }
            for k in &keys {
                if let Key::Expr(e) = k {
                    check_grouped(e, &sel.group_by, &cols)?;
                }
            }
            for g in &sel.group_by {
                if g.contains_aggregate() {
                    return Err(Error::new("42803", "aggregate functions are not allowed in GROUP BY"));
                }
            }
            let mut groups: Vec<Vec<Vec<Value>>> = Vec::new();
            let mut index: BTreeMap<Vec<String>, usize> = BTreeMap::new();
            if sel.group_by.is_empty() {
                groups.push(kept.iter().map(|r| r.to_vec()).collect());
            } else {
                for r in &kept {
                    let mut key = Vec::new();
                    for g in &sel.group_by {
                        // GROUP BY 1: the first output column.
                        let v = match g {
                            Expr::Lit(Value::Int(n), _) if *n >= 1 && (*n as usize) <= items.len() => {
                                eval::eval(&items[*n as usize - 1].0, &ctx, r, None)?
                            }
                            g => eval::eval(g, &ctx, r, None)?,
                        };
                        key.push(v.key());
                    }
                    let i = *index.entry(key).or_insert_with(|| {
                        groups.push(Vec::new());
                        groups.len() - 1
                    });
                    groups[i].push(r.to_vec());
                }
            }
            let nulls = vec![Value::Null; cols.len()];
            for g in &groups {
                let rep: &[Value] = g.first().map(|r| r.as_slice()).unwrap_or(&nulls);
                if let Some(h) = &sel.having {
                    if eval::truth(&eval::eval(h, &ctx, rep, Some(g))?)? != Some(true) {
                        continue;
                    }
                }
                let mut out = Vec::new();
                for (e, _) in &items {
                    out.push(eval::eval(e, &ctx, rep, Some(g))?);
                }
                let mut sk = Vec::new();
                for k in &keys {
                    sk.push(match k {
                        Key::Out(i) => out[*i].clone(),
                        Key::Expr(e) => eval::eval(e, &ctx, rep, Some(g))?,
                    });
                }
                result.push((out, sk));
            }
        } else {
            for r in &kept {
                let mut out = Vec::with_capacity(items.len());
                for (e, _) in &items {
                    out.push(eval::eval(e, &ctx, r, None)?);
                }
                let mut sk = Vec::new();
                for k in &keys {
                    sk.push(match k {
                        Key::Out(i) => out[*i].clone(),
                        Key::Expr(e) => eval::eval(e, &ctx, r, None)?,
                    });
                }
                result.push((out, sk));
            }
        }
        if sel.distinct {
            let mut seen = HashSet::new();
            result.retain(|(out, _)| seen.insert(out.iter().map(Value::key).collect::<Vec<_>>()));
        }
        if !keys.is_empty() {
            let mut err = None;
            result.sort_by(|a, b| {
                for (i, o) in sel.order_by.iter().enumerate() {
                    let (x, y) = (&a.1[i], &b.1[i]);
                    let nulls_first = o.nulls_first.unwrap_or(o.desc);
                    let ord = match (x.is_null(), y.is_null()) {
                        (true, true) => std::cmp::Ordering::Equal,
                        (true, false) => {
                            if nulls_first {
                                std::cmp::Ordering::Less
                            } else {
                                std::cmp::Ordering::Greater
                            }
                        }
                        (false, true) => {
                            if nulls_first {
                                std::cmp::Ordering::Greater
                            } else {
                                std::cmp::Ordering::Less
                            }
                        }
                        _ => {
                            let c = match eval::compare(x, y) {
                                Ok(c) => c.unwrap_or(std::cmp::Ordering::Equal),
                                Err(e) => {
                                    err.get_or_insert(e);
                                    std::cmp::Ordering::Equal
                                }
                            };
                            if o.desc {
                                c.reverse()
                            } else {
                                c
                            }
                        }
                    };
                    if ord != std::cmp::Ordering::Equal {
                        return ord;
                    }
                }
                std::cmp::Ordering::Equal
            });
            if let Some(e) = err {
                return Err(e);
            }
        }
        let count = |e: &Option<Expr>, what: &str| -> R<Option<usize>> {
            let Some(e) = e else { return Ok(None) };
            let none = Ctx { cols: &[], params, env };
            match eval::eval(e, &none, &[], None)?.cast(Type::Int8)? {
                Value::Null => Ok(None),
                Value::Int(n) if n < 0 => Err(Error::new("2201W", format!("{what} must not be negative"))),
                Value::Int(n) => Ok(Some(n as usize)),
                _ => Ok(None),
            }
        };
        let offset = count(&sel.offset, "OFFSET")?.unwrap_or(0);
        let limit = count(&sel.limit, "LIMIT")?;
        let rows: Vec<Vec<Value>> =
            result.into_iter().skip(offset).take(limit.unwrap_or(usize::MAX)).map(|(o, _)| o).collect();
        Ok((out_cols, rows))
    }

    /// The columns `stmt` would return (Describe), without running it.
    pub fn describe(&self, s: &Session, stmt: &Stmt) -> R<Option<Vec<OutCol>>> {
        let env = self.env(s);
        let params = vec![Value::Null; 1 << 12];
        match stmt {
            Stmt::Select(sel) => {
                let mut dry = (**sel).clone();
                dry.where_ = None;
                dry.having = None;
                dry.limit = Some(Expr::Lit(Value::Int(0), Type::Int4));
                dry.offset = None;
                Ok(Some(self.select(s, &dry, &params, &env)?.0))
            }
            Stmt::Show(_) => Ok(Some(vec![OutCol { name: "setting".into(), ty: Type::Text }])),
            Stmt::Insert(i) if !i.returning.is_empty() => {
                self.returning_cols(s, &i.table, None, &i.returning, &params, &env)
            }
            Stmt::Update(u) if !u.returning.is_empty() => {
                self.returning_cols(s, &u.table, u.alias.as_deref(), &u.returning, &params, &env)
            }
            Stmt::Delete(d) if !d.returning.is_empty() => {
                self.returning_cols(s, &d.table, d.alias.as_deref(), &d.returning, &params, &env)
            }
            _ => Ok(None),
        }
    }

    fn returning_cols(
        &self,
        s: &Session,
        table: &str,
        alias: Option<&str>,
        items: &[SelectItem],
        params: &[Value],
        env: &Env,
    ) -> R<Option<Vec<OutCol>>> {
        let t = self.table(s, table).ok_or_else(|| relation_missing(table))?;
        Ok(Some(self.returning(&t.col_infos(alias), items, &[], params, env)?.0))
    }

    fn returning(
        &self,
        cols: &[ColInfo],
        items: &[SelectItem],
        rows: &[Vec<Value>],
        params: &[Value],
        env: &Env,
    ) -> R<(Vec<OutCol>, Vec<Vec<Value>>)> {
        let ctx = Ctx { cols, params, env };
        let mut exprs = Vec::new();
        for it in items {
            match it {
                SelectItem::Star(_) => {
                    for c in cols {
                        exprs.push((Expr::Column { table: None, name: c.name.clone(), pos: 0 }, c.name.clone()));
                    }
                }
                SelectItem::Expr(e, a) => exprs.push((e.clone(), a.clone().unwrap_or_else(|| e.default_name()))),
            }
        }
        let mut oc = Vec::new();
        for (e, n) in &exprs {
            if e.contains_aggregate() {
                return Err(Error::new("42803", "aggregate functions are not allowed in RETURNING"));
            }
            let t = type_of(e, &ctx)?;
            oc.push(OutCol { name: n.clone(), ty: if t == Type::Unknown { Type::Text } else { t } });
        }
        let mut out = Vec::new();
        for r in rows {
            let mut o = Vec::new();
            for (e, _) in &exprs {
                o.push(eval::eval(e, &ctx, r, None)?);
            }
            out.push(o);
        }
        Ok((oc, out))
    }

    fn insert(&mut self, s: &mut Session, ins: &Insert, params: &[Value], env: &Env) -> R<Vec<Outcome>> {
        let t = self.table(s, &ins.table).ok_or_else(|| relation_missing(&ins.table))?;
        let ncols = t.columns.len();
        let targets: Vec<usize> = match &ins.columns {
            Some(names) => {
                let mut v = Vec::new();
                for n in names {
                    let i = t.column_index(n)?;
                    if v.contains(&i) {
                        return Err(Error::new("42701", format!("column \"{n}\" specified more than once")));
                    }
                    v.push(i);
                }
                v
            }
            None => (0..ncols).collect(),
        };
        // The rows of values to insert (None: the column's default).
        let empty: Vec<ColInfo> = vec![];
        let ctx = Ctx { cols: &empty, params, env };
        let mut sources: Vec<Vec<Option<(Value, Type)>>> = Vec::new();
        match &ins.source {
            InsertSource::Defaults => sources.push(vec![]),
            InsertSource::Values(rows) => {
                for row in rows {
                    if row.len() > targets.len() {
                        return Err(Error::new("42601", "INSERT has more expressions than target columns"));
                    }
                    if ins.columns.is_some() && row.len() < targets.len() {
                        return Err(Error::new("42601", "INSERT has more target columns than expressions"));
                    }
                    let mut vals = Vec::new();
                    for e in row {
                        vals.push(match e {
                            None => None,
                            Some(e) => {
                                let ty = type_of(e, &ctx)?;
                                Some((eval::eval(e, &ctx, &[], None)?, ty))
                            }
                        });
                    }
                    sources.push(vals);
                }
            }
            InsertSource::Select(sel) => {
                let (oc, rows) = self.select(s, sel, params, env)?;
                if oc.len() > targets.len() {
                    return Err(Error::new("42601", "INSERT has more expressions than target columns"));
                }
                for r in rows {
                    sources.push(r.into_iter().zip(&oc).map(|(v, c)| Some((v, c.ty))).collect());
                }
            }
        }
        let table_name = ins.table.clone();
        let t = self.table_mut(s, &table_name)?;
        let mut new_rows = Vec::new();
        for src in sources {
            let mut row = vec![Value::Null; ncols];
            let mut given = vec![false; ncols];
            for (k, v) in src.into_iter().enumerate() {
                let ci = targets[k];
                if let Some((v, ty)) = v {
                    row[ci] = assign(v, ty, &t.columns[ci])?;
                    given[ci] = true;
                }
            }
            for ci in 0..ncols {
                if !given[ci] {
                    row[ci] = default_value(&mut t.columns[ci], env)?;
                }
            }
            check_not_null(t, &row)?;
            new_rows.push(row);
        }
        // Unique keys: against what is there and what this statement adds.
        let mut inserted = Vec::new();
        let constraints = constraints(t);
        let mut sets: Vec<HashSet<Vec<String>>> =
            constraints.iter().map(|(cols, _)| t.rows.iter().filter_map(|r| key_of(r, cols)).collect()).collect();
        'rows: for row in new_rows {
            for (k, (cols, pk)) in constraints.iter().enumerate() {
                if let Some(key) = key_of(&row, cols) {
                    if sets[k].contains(&key) {
                        if ins.on_conflict_nothing {
                            continue 'rows;
                        }
                        return Err(duplicate(t, cols, *pk, &row));
                    }
                }
            }
            for (k, (cols, _)) in constraints.iter().enumerate() {
                if let Some(key) = key_of(&row, cols) {
                    sets[k].insert(key);
                }
            }
            t.rows.push(row.clone());
            inserted.push(row);
        }
        let n = inserted.len();
        let tag = format!("INSERT 0 {n}");
        if ins.returning.is_empty() {
            return Ok(vec![Outcome::Command(tag)]);
        }
        let cols = self.table(s, &table_name).map(|t| t.col_infos(None)).unwrap_or_default();
        let (oc, rows) = self.returning(&cols, &ins.returning, &inserted, params, env)?;
        Ok(vec![Outcome::Rows { rows: render(&oc, rows), cols: oc, tag }])
    }

    fn update(&mut self, s: &mut Session, up: &Update, params: &[Value], env: &Env) -> R<Vec<Outcome>> {
        let t = self.table(s, &up.table).ok_or_else(|| relation_missing(&up.table))?;
        let cols = t.col_infos(up.alias.as_deref());
        let ctx = Ctx { cols: &cols, params, env };
        let mut sets = Vec::new();
        for (name, e) in &up.sets {
            let i = t.column_index(name)?;
            if let Some(e) = e {
                if e.contains_aggregate() {
                    return Err(Error::new("42803", "aggregate functions are not allowed in UPDATE"));
                }
                let ty = type_of(e, &ctx)?;
                sets.push((i, Some((e, ty))));
            } else {
                sets.push((i, None));
            }
        }
        if let Some(w) = &up.where_ {
            let ty = type_of(w, &ctx)?;
            if ty != Type::Bool && ty != Type::Unknown {
                return Err(Error::new(
                    "42804",
                    format!("argument of WHERE must be type boolean, not type {}", ty.short_name()),
                ));
            }
        }
        // Compute the new rows against the current ones, then put them in place.
        let mut changes = Vec::new();
        for (ri, r) in t.rows.iter().enumerate() {
            if let Some(w) = &up.where_ {
                if eval::truth(&eval::eval(w, &ctx, r, None)?)? != Some(true) {
                    continue;
                }
            }
            let mut vals = Vec::new();
            for (i, e) in &sets {
                vals.push((
                    *i,
                    match e {
                        Some((e, ty)) => Some((eval::eval(e, &ctx, r, None)?, *ty)),
                        None => None,
                    },
                ));
            }
            changes.push((ri, vals));
        }
        let name = up.table.clone();
        let t = self.table_mut(s, &name)?;
        let mut updated = Vec::new();
        for (ri, vals) in changes {
            let mut row = t.rows[ri].clone();
            for (i, v) in vals {
                row[i] = match v {
                    Some((v, ty)) => assign(v, ty, &t.columns[i])?,
                    None => default_value(&mut t.columns[i], env)?,
                };
            }
            check_not_null(t, &row)?;
            t.rows[ri] = row.clone();
            updated.push((ri, row));
        }
        // Unique keys over the table as it is now.
        for (cols, pk) in constraints(t) {
            let mut seen: HashSet<Vec<String>> = HashSet::new();
            let changed: HashSet<usize> = updated.iter().map(|(i, _)| *i).collect();
            for (i, r) in t.rows.iter().enumerate() {
                if !changed.contains(&i) {
                    if let Some(k) = key_of(r, &cols) {
                        seen.insert(k);
                    }
                }
            }
            for (_, r) in &updated {
                if let Some(k) = key_of(r, &cols) {
                    if !seen.insert(k) {
                        return Err(duplicate(t, &cols, pk, r));
                    }
                }
            }
        }
        let tag = format!("UPDATE {}", updated.len());
        if up.returning.is_empty() {
            return Ok(vec![Outcome::Command(tag)]);
        }
        let rows: Vec<Vec<Value>> = updated.into_iter().map(|(_, r)| r).collect();
        let (oc, rows) = self.returning(&cols, &up.returning, &rows, params, env)?;
        Ok(vec![Outcome::Rows { rows: render(&oc, rows), cols: oc, tag }])
    }

    fn delete(&mut self, s: &mut Session, del: &Delete, params: &[Value], env: &Env) -> R<Vec<Outcome>> {
        let t = self.table(s, &del.table).ok_or_else(|| relation_missing(&del.table))?;
        let cols = t.col_infos(del.alias.as_deref());
        let ctx = Ctx { cols: &cols, params, env };
        let mut doomed = Vec::new();
        if let Some(w) = &del.where_ {
            let ty = type_of(w, &ctx)?;
            if ty != Type::Bool && ty != Type::Unknown {
                return Err(Error::new(
                    "42804",
                    format!("argument of WHERE must be type boolean, not type {}", ty.short_name()),
                ));
            }
        }
        for (i, r) in t.rows.iter().enumerate() {
            let hit = match &del.where_ {
                Some(w) => eval::truth(&eval::eval(w, &ctx, r, None)?)? == Some(true),
                None => true,
            };
            if hit {
                doomed.push(i);
            }
        }
        let name = del.table.clone();
        let t = self.table_mut(s, &name)?;
        let gone: HashSet<usize> = doomed.iter().copied().collect();
        let mut removed = Vec::new();
        let mut i = 0;
        t.rows.retain(|r| {
            let keep = !gone.contains(&i);
            if !keep {
                removed.push(r.clone());
            }
            i += 1;
            keep
        });
        let tag = format!("DELETE {}", removed.len());
        if del.returning.is_empty() {
            return Ok(vec![Outcome::Command(tag)]);
        }
        let (oc, rows) = self.returning(&cols, &del.returning, &removed, params, env)?;
        Ok(vec![Outcome::Rows { rows: render(&oc, rows), cols: oc, tag }])
    }
}

fn aborted() -> Error {
    Error::new("25P02", "current transaction is aborted, commands ignored until end of transaction block")
}

pub fn warning(code: &'static str, msg: impl Into<String>) -> Error {
    let mut e = Error::new(code, msg);
    e.severity = "WARNING";
    e
}

pub fn notice(code: &'static str, msg: impl Into<String>) -> Error {
    let mut e = Error::new(code, msg);
    e.severity = "NOTICE";
    e
}

/// Values to the wire's text format.
pub fn render(cols: &[OutCol], rows: Vec<Vec<Value>>) -> Vec<Vec<Option<String>>> {
    rows.into_iter().map(|r| r.iter().zip(cols).map(|(v, c)| v.to_text(c.ty)).collect()).collect()
}

fn column_from_def(table: &str, c: &ColumnDef, env: &Env) -> R<Column> {
    let mut default = c.default.clone();
    let mut seq = None;
    if c.serial {
        default = Some(Expr::Func {
            name: "nextval".into(),
            args: vec![Expr::Lit(Value::Text(format!("{table}_{}_seq", c.name)), Type::Unknown)],
            star: false,
            distinct: false,
            pos: 0,
        });
        seq = Some(0);
    }
    if let Some(d) = &default {
        let none: Vec<ColInfo> = vec![];
        let ctx = Ctx { cols: &none, params: &[], env };
        if !c.serial {
            if let Err(mut e) = type_of(d, &ctx) {
                if e.code == "42703" {
                    e = Error::new("0A000", "cannot use column reference in DEFAULT expression");
                }
                return Err(e);
            }
            if d.contains_aggregate() {
                return Err(Error::new("42803", "aggregate functions are not allowed in DEFAULT expressions"));
            }
        }
    }
    Ok(Column { name: c.name.clone(), ty: c.ty, not_null: c.not_null, default, seq })
}

/// A column's default for a new row (a serial column takes its sequence's next value).
fn default_value(c: &mut Column, env: &Env) -> R<Value> {
    if let Some(n) = c.seq.as_mut() {
        if matches!(&c.default, Some(Expr::Func { name, .. }) if name == "nextval") {
            *n += 1;
            return Value::Int(*n).cast(c.ty);
        }
    }
    match &c.default {
        None => Ok(Value::Null),
        Some(e) => {
            let none: Vec<ColInfo> = vec![];
            let ctx = Ctx { cols: &none, params: &[], env };
            let ty = type_of(e, &ctx)?;
            let v = eval::eval(e, &ctx, &[], None)?;
            assign(v, ty, c)
        }
    }
}

/// Store `v` (of type `from`) in column `c`: PostgreSQL's assignment casts.
fn assign(v: Value, from: Type, c: &Column) -> R<Value> {
    let ok = from == Type::Unknown
        || c.ty.is_text()
        || (from.is_numeric() && c.ty.is_numeric())
        || (from.is_time() && c.ty.is_time())
        || from == c.ty
        || (from.is_text() && c.ty.is_text());
    if !ok {
        return Err(Error::new(
            "42804",
            format!(
                "column \"{}\" is of type {} but expression is of type {}",
                c.name,
                c.ty.sql_name(),
                from.sql_name()
            ),
        )
        .hint("You will need to rewrite or cast the expression."));
    }
    match (&v, c.ty) {
        // numeric → integer rounds; text → varchar(n) checks the length (cast does both).
        _ => v.cast(c.ty),
    }
}

fn check_not_null(t: &Table, row: &[Value]) -> R<()> {
    for (c, v) in t.columns.iter().zip(row) {
        if c.not_null && v.is_null() {
            return Err(Error::new(
                "23502",
                format!("null value in column \"{}\" of relation \"{}\" violates not-null constraint", c.name, t.name),
            )
            .detail(format!("Failing row contains {}.", failing_row(t, row))));
        }
    }
    Ok(())
}

fn failing_row(t: &Table, row: &[Value]) -> String {
    let parts: Vec<String> =
        row.iter().zip(&t.columns).map(|(v, c)| v.to_text(c.ty).unwrap_or_else(|| "null".into())).collect();
    format!("({})", parts.join(", "))
}

/// The table's unique keys: (columns, is the primary key).
fn constraints(t: &Table) -> Vec<(Vec<usize>, bool)> {
    let mut v = Vec::new();
    if let Some(pk) = &t.pk {
        v.push((pk.clone(), true));
    }
    for u in &t.uniques {
        v.push((u.clone(), false));
    }
    v
}

fn key_of(row: &[Value], cols: &[usize]) -> Option<Vec<String>> {
    let mut k = Vec::new();
    for &i in cols {
        if row[i].is_null() {
            return None;
        }
        k.push(row[i].key());
    }
    Some(k)
}

fn duplicate(t: &Table, cols: &[usize], pk: bool, row: &[Value]) -> Error {
    let names: Vec<&str> = cols.iter().map(|&i| t.columns[i].name.as_str()).collect();
    let vals: Vec<String> = cols.iter().map(|&i| row[i].to_text(t.columns[i].ty).unwrap_or_default()).collect();
    Error::new("23505", format!("duplicate key value violates unique constraint \"{}\"", t.constraint_name(cols, pk)))
        .detail(format!("Key ({})=({}) already exists.", names.join(", "), vals.join(", ")))
}

/// In a grouped query, a column outside an aggregate must be grouped by.
fn check_grouped(e: &Expr, group_by: &[Expr], cols: &[ColInfo]) -> R<()> {
    if group_by.iter().any(|g| same_expr(g, e)) {
        return Ok(());
    }
    match e {
        Expr::Func { name, .. } if is_aggregate(name) => Ok(()),
        Expr::Column { table, name, .. } => {
            let c = cols.iter().find(|c| &c.name == name && (table.is_none() || &c.table == table));
            let q = c.and_then(|c| c.table.clone()).unwrap_or_default();
            Err(Error::new(
                "42803",
                format!("column \"{q}.{name}\" must appear in the GROUP BY clause or be used in an aggregate function"),
            ))
        }
        Expr::Neg(x) | Expr::Not(x) | Expr::IsNull(x, _) | Expr::Cast(x, _) | Expr::IsBool(x, _, _) => {
            check_grouped(x, group_by, cols)
        }
        Expr::Binary(_, a, b) => {
            check_grouped(a, group_by, cols)?;
            check_grouped(b, group_by, cols)
        }
        Expr::InList { expr, list, .. } => {
            check_grouped(expr, group_by, cols)?;
            list.iter().try_for_each(|x| check_grouped(x, group_by, cols))
        }
        Expr::Between { expr, lo, hi, .. } => {
            check_grouped(expr, group_by, cols)?;
            check_grouped(lo, group_by, cols)?;
            check_grouped(hi, group_by, cols)
        }
        Expr::Like { expr, pattern, .. } => {
            check_grouped(expr, group_by, cols)?;
            check_grouped(pattern, group_by, cols)
        }
        Expr::Func { args, .. } => args.iter().try_for_each(|x| check_grouped(x, group_by, cols)),
        Expr::Case { operand, whens, else_ } => {
            if let Some(o) = operand {
                check_grouped(o, group_by, cols)?;
            }
            for (a, b) in whens {
                check_grouped(a, group_by, cols)?;
                check_grouped(b, group_by, cols)?;
            }
            if let Some(x) = else_ {
                check_grouped(x, group_by, cols)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Structural equality ignoring source positions.
fn same_expr(a: &Expr, b: &Expr) -> bool {
    match (a, b) {
        (Expr::Column { table: t1, name: n1, .. }, Expr::Column { table: t2, name: n2, .. }) => {
            n1 == n2 && (t1 == t2 || t1.is_none() || t2.is_none())
        }
        _ => a.to_string() == b.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> (Engine, Session) {
        let mut e = Engine::new(None, "15.0 (skiff)", 1_700_000_000_000);
        e.create_database("postgres", false).unwrap();
        let s = e.session("postgres", "postgres");
        (e, s)
    }

    /// Run `sql` and describe the outcomes compactly: tags, rows as `a|b`, errors.
    fn q(e: &mut Engine, s: &mut Session, sql: &str) -> Vec<String> {
        e.query(s, sql, 1_700_000_000_000)
            .into_iter()
            .flat_map(|o| match o {
                Outcome::Rows { rows, tag, .. } => {
                    let mut v: Vec<String> = rows
                        .into_iter()
                        .map(|r| {
                            r.into_iter().map(|f| f.unwrap_or_else(|| "NULL".into())).collect::<Vec<_>>().join("|")
                        })
                        .collect();
                    v.push(tag);
                    v
                }
                Outcome::Command(t) => vec![t],
                Outcome::Empty => vec!["EMPTY".into()],
                Outcome::Error(e) => vec![format!("ERROR {}: {}", e.code, e.message)],
                Outcome::Notice(e) => vec![format!("{} {}", e.severity, e.message)],
                Outcome::Param(k, v) => vec![format!("PARAM {k}={v}")],
            })
            .collect()
    }

    #[test]
    fn create_insert_select() {
        let (mut e, mut s) = engine();
        assert_eq!(q(&mut e, &mut s, "CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL, age integer, active boolean DEFAULT true)"), vec!["CREATE TABLE"]);
        assert_eq!(
            q(&mut e, &mut s, "INSERT INTO users (name, age) VALUES ('ann', 31), ('bob', 25), ('cy', NULL)"),
            vec!["INSERT 0 3"]
        );
        assert_eq!(
            q(&mut e, &mut s, "SELECT * FROM users ORDER BY id"),
            vec!["1|ann|31|t", "2|bob|25|t", "3|cy|NULL|t", "SELECT 3"]
        );
        assert_eq!(
            q(&mut e, &mut s, "SELECT name FROM users WHERE age > 26 OR age IS NULL ORDER BY name DESC"),
            vec!["cy", "ann", "SELECT 2"]
        );
        assert_eq!(
            q(&mut e, &mut s, "SELECT name, age FROM users ORDER BY age DESC LIMIT 2"),
            vec!["cy|NULL", "ann|31", "SELECT 2"]
        );
        assert_eq!(q(&mut e, &mut s, "SELECT name FROM users ORDER BY age LIMIT 1 OFFSET 1"), vec!["ann", "SELECT 1"]);
        assert_eq!(
            q(&mut e, &mut s, "SELECT count(*), sum(age), avg(age), min(name), max(age) FROM users"),
            vec!["3|56|28.0000000000000000|ann|31", "SELECT 1"]
        );
        assert_eq!(
            q(&mut e, &mut s, "SELECT name FROM users WHERE name LIKE 'b%' OR id IN (3)"),
            vec!["bob", "cy", "SELECT 2"]
        );
        assert_eq!(
            q(&mut e, &mut s, "INSERT INTO users (name) VALUES ('dee') RETURNING id, name"),
            vec!["4|dee", "INSERT 0 1"]
        );
        assert_eq!(q(&mut e, &mut s, "UPDATE users SET age = age + 1 WHERE age IS NOT NULL"), vec!["UPDATE 2"]);
        assert_eq!(q(&mut e, &mut s, "DELETE FROM users WHERE NOT active OR name = 'dee'"), vec!["DELETE 1"]);
        assert_eq!(
            q(&mut e, &mut s, "SELECT id, age FROM users ORDER BY 1"),
            vec!["1|32", "2|26", "3|NULL", "SELECT 3"]
        );
        assert_eq!(
            q(&mut e, &mut s, "SELECT active, count(*) AS n FROM users GROUP BY active"),
            vec!["t|3", "SELECT 1"]
        );
        assert_eq!(q(&mut e, &mut s, "SELECT 1, 'a' || 'b' AS ab, 2.5 * 2"), vec!["1|ab|5.0", "SELECT 1"]);
    }

    #[test]
    fn errors_are_postgres_shaped() {
        let (mut e, mut s) = engine();
        q(&mut e, &mut s, "CREATE TABLE t (id int PRIMARY KEY, v varchar(3))");
        assert_eq!(q(&mut e, &mut s, "SELECT * FROM nope"), vec!["ERROR 42P01: relation \"nope\" does not exist"]);
        assert_eq!(q(&mut e, &mut s, "SELECT y FROM t"), vec!["ERROR 42703: column \"y\" does not exist"]);
        assert_eq!(q(&mut e, &mut s, "INSERT INTO t VALUES (1, 'a')"), vec!["INSERT 0 1"]);
        assert_eq!(
            q(&mut e, &mut s, "INSERT INTO t VALUES (1, 'b')"),
            vec!["ERROR 23505: duplicate key value violates unique constraint \"t_pkey\""]
        );
        assert_eq!(
            q(&mut e, &mut s, "INSERT INTO t VALUES (2, 'long')"),
            vec!["ERROR 22001: value too long for type character varying(3)"]
        );
        assert_eq!(
            q(&mut e, &mut s, "INSERT INTO t VALUES (NULL, 'x')"),
            vec!["ERROR 23502: null value in column \"id\" of relation \"t\" violates not-null constraint"]
        );
        assert_eq!(
            q(&mut e, &mut s, "INSERT INTO t VALUES ('x', 'x')"),
            vec!["ERROR 22P02: invalid input syntax for type integer: \"x\""]
        );
        assert_eq!(q(&mut e, &mut s, "SELEC 1"), vec!["ERROR 42601: syntax error at or near \"SELEC\""]);
        assert_eq!(q(&mut e, &mut s, "CREATE TABLE t (a int)"), vec!["ERROR 42P07: relation \"t\" already exists"]);
        assert_eq!(
            q(&mut e, &mut s, "CREATE TABLE IF NOT EXISTS t (a int)"),
            vec!["NOTICE relation \"t\" already exists, skipping", "CREATE TABLE"]
        );
        assert_eq!(
            q(&mut e, &mut s, "SELECT id, count(*) FROM t"),
            vec!["ERROR 42803: column \"t.id\" must appear in the GROUP BY clause or be used in an aggregate function"]
        );
        assert_eq!(q(&mut e, &mut s, "DROP TABLE nope"), vec!["ERROR 42P01: table \"nope\" does not exist"]);
        assert_eq!(q(&mut e, &mut s, ""), vec!["EMPTY"]);
        // the session is still usable
        assert_eq!(q(&mut e, &mut s, "SELECT count(*) FROM t"), vec!["1", "SELECT 1"]);
    }

    #[test]
    fn transactions() {
        let (mut e, mut s) = engine();
        let mut other = e.session("postgres", "postgres");
        q(&mut e, &mut s, "CREATE TABLE t (n int)");
        assert_eq!(q(&mut e, &mut s, "BEGIN"), vec!["BEGIN"]);
        assert_eq!(s.status(), b'T');
        q(&mut e, &mut s, "INSERT INTO t VALUES (1)");
        assert_eq!(q(&mut e, &mut other, "SELECT count(*) FROM t"), vec!["0", "SELECT 1"], "not committed yet");
        assert_eq!(q(&mut e, &mut s, "SELECT count(*) FROM t"), vec!["1", "SELECT 1"]);
        q(&mut e, &mut s, "ROLLBACK");
        assert_eq!(s.status(), b'I');
        assert_eq!(q(&mut e, &mut s, "SELECT count(*) FROM t"), vec!["0", "SELECT 1"]);
        // an error fails the block until ROLLBACK/COMMIT
        q(&mut e, &mut s, "BEGIN; INSERT INTO t VALUES (2)");
        assert_eq!(q(&mut e, &mut s, "SELECT nope FROM t"), vec!["ERROR 42703: column \"nope\" does not exist"]);
        assert_eq!(s.status(), b'E');
        assert_eq!(
            q(&mut e, &mut s, "SELECT 1"),
            vec!["ERROR 25P02: current transaction is aborted, commands ignored until end of transaction block"]
        );
        assert_eq!(q(&mut e, &mut s, "COMMIT"), vec!["ROLLBACK"]);
        assert_eq!(q(&mut e, &mut s, "SELECT count(*) FROM t"), vec!["0", "SELECT 1"]);
        // commit
        q(&mut e, &mut s, "BEGIN; INSERT INTO t VALUES (3); COMMIT");
        assert_eq!(q(&mut e, &mut other, "SELECT n FROM t"), vec!["3", "SELECT 1"]);
        // a multi-statement query is one transaction
        assert_eq!(
            q(&mut e, &mut s, "INSERT INTO t VALUES (4); SELECT 1/0"),
            vec!["INSERT 0 1", "ERROR 22012: division by zero"]
        );
        assert_eq!(q(&mut e, &mut s, "SELECT count(*) FROM t"), vec!["1", "SELECT 1"]);
        assert_eq!(q(&mut e, &mut s, "COMMIT"), vec!["WARNING there is no transaction in progress", "COMMIT"]);
        // two writers of one table: the second commit fails
        q(&mut e, &mut s, "BEGIN; INSERT INTO t VALUES (5)");
        q(&mut e, &mut other, "INSERT INTO t VALUES (6)");
        assert_eq!(
            q(&mut e, &mut s, "COMMIT"),
            vec!["ERROR 40001: could not serialize access due to concurrent update"]
        );
    }

    #[test]
    fn settings_and_functions() {
        let (mut e, mut s) = engine();
        assert_eq!(q(&mut e, &mut s, "SHOW server_version"), vec!["15.0 (skiff)", "SHOW"]);
        assert_eq!(q(&mut e, &mut s, "SET application_name = 'x'"), vec!["PARAM application_name=x", "SET"]);
        assert_eq!(q(&mut e, &mut s, "SHOW nope"), vec!["ERROR 42704: unrecognized configuration parameter \"nope\""]);
        let v = q(&mut e, &mut s, "SELECT version(), current_database(), current_user");
        assert!(v[0].starts_with("PostgreSQL 15.0 (skiff) on wasm32"), "{v:?}");
        assert!(v[0].ends_with("|postgres|postgres"));
        assert_eq!(q(&mut e, &mut s, "SELECT now()"), vec!["2023-11-14 22:13:20+00", "SELECT 1"]);
    }

    #[test]
    fn types_and_defaults() {
        let (mut e, mut s) = engine();
        q(&mut e, &mut s, "CREATE TABLE ev (id bigserial, at timestamp DEFAULT now(), x real, d double precision, n numeric, c varchar(5), b boolean)");
        q(&mut e, &mut s, "INSERT INTO ev (x, d, n, c, b) VALUES (1.5, 2.25, 3.10, 'hi', 'yes')");
        assert_eq!(q(&mut e, &mut s, "SELECT * FROM ev"), vec!["1|2023-11-14 22:13:20|1.5|2.25|3.10|hi|t", "SELECT 1"]);
        q(&mut e, &mut s, "INSERT INTO ev (at) VALUES ('2024-03-01 10:00:00')");
        assert_eq!(q(&mut e, &mut s, "SELECT id FROM ev WHERE at > '2024-01-01'"), vec!["2", "SELECT 1"]);
        assert_eq!(q(&mut e, &mut s, "ALTER TABLE ev ADD COLUMN note text DEFAULT 'none'"), vec!["ALTER TABLE"]);
        assert_eq!(q(&mut e, &mut s, "SELECT note FROM ev WHERE id = 1"), vec!["none", "SELECT 1"]);
    }
}
