//! A recursive-descent parser for the SQL this server runs, with PostgreSQL's operator
//! precedence and its error messages (`syntax error at or near "…"`, with the position).

use super::ast::*;
use super::lexer::{lex, Tok, Token};
use super::value::{Decimal, Type, Value};
use super::Error;

/// Parse a query string: its statements (empty ones dropped). A syntax error anywhere
/// fails the whole string, as PostgreSQL parses it all before running any of it.
pub fn parse(src: &str) -> Result<Vec<Stmt>, Error> {
    let toks = lex(src)?;
    let mut p = Parser { toks, i: 0 };
    let mut out = Vec::new();
    loop {
        while p.eat(&Tok::Semi) {}
        if p.peek() == &Tok::Eof {
            break;
        }
        out.push(p.statement()?);
        if !p.eat(&Tok::Semi) && p.peek() != &Tok::Eof {
            return Err(p.unexpected());
        }
    }
    Ok(out)
}

/// Parse one expression (a stored column default).
pub fn parse_expr(src: &str) -> Result<Expr, Error> {
    let mut p = Parser { toks: lex(src)?, i: 0 };
    let e = p.expr()?;
    if p.peek() != &Tok::Eof {
        return Err(p.unexpected());
    }
    Ok(e)
}

/// Words that end an expression or a select item (an alias needs AS to be one of these).
const RESERVED: &[&str] = &[
    "all",
    "and",
    "any",
    "as",
    "asc",
    "between",
    "by",
    "case",
    "check",
    "collate",
    "constraint",
    "create",
    "default",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "from",
    "group",
    "having",
    "ilike",
    "in",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "left",
    "like",
    "limit",
    "not",
    "notnull",
    "null",
    "offset",
    "on",
    "or",
    "order",
    "primary",
    "references",
    "returning",
    "right",
    "select",
    "set",
    "table",
    "then",
    "true",
    "union",
    "unique",
    "using",
    "values",
    "when",
    "where",
    "window",
    "with",
    "inner",
    "outer",
    "cross",
    "full",
    "natural",
];

struct Parser {
    toks: Vec<Token>,
    i: usize,
}

type R<T> = Result<T, Error>;

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.i].tok
    }

    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.i + n).min(self.toks.len() - 1)].tok
    }

    fn next(&mut self) -> Token {
        let t = self.toks[self.i].clone();
        if self.i < self.toks.len() - 1 {
            self.i += 1;
        }
        t
    }

    fn pos(&self) -> usize {
        self.toks[self.i].pos
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == t {
            self.next();
            true
        } else {
            false
        }
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Word(x) if x == w)
    }

    fn is_word_at(&self, n: usize, w: &str) -> bool {
        matches!(self.peek_at(n), Tok::Word(x) if x == w)
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if self.is_word(w) {
            self.next();
            true
        } else {
            false
        }
    }

    fn eat_words(&mut self, ws: &[&str]) -> bool {
        if ws.iter().enumerate().all(|(k, w)| self.is_word_at(k, w)) {
            for _ in ws {
                self.next();
            }
            true
        } else {
            false
        }
    }

    fn expect_word(&mut self, w: &str) -> R<()> {
        if self.eat_word(w) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn expect(&mut self, t: &Tok) -> R<()> {
        if self.eat(t) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Tok::Op(x) if x == op)
    }

    fn unexpected(&self) -> Error {
        let t = &self.toks[self.i];
        if t.tok == Tok::Eof {
            Error::new("42601", "syntax error at end of input").at(t.pos)
        } else {
            Error::new("42601", format!("syntax error at or near \"{}\"", t.text)).at(t.pos)
        }
    }

    /// An identifier (a keyword that is not reserved is one too).
    fn ident(&mut self) -> R<String> {
        match self.peek().clone() {
            Tok::Word(w) if !RESERVED.contains(&w.as_str()) => {
                self.next();
                Ok(w)
            }
            Tok::Quoted(q) => {
                self.next();
                Ok(q)
            }
            _ => Err(self.unexpected()),
        }
    }

    /// Any word as a name, reserved or not (after `.` or `AS`).
    fn any_name(&mut self) -> R<String> {
        match self.peek().clone() {
            Tok::Word(w) => {
                self.next();
                Ok(w)
            }
            Tok::Quoted(q) => {
                self.next();
                Ok(q)
            }
            _ => Err(self.unexpected()),
        }
    }

    /// `[schema.]name`: the schema (`public`, `pg_catalog`) is dropped.
    fn table_name(&mut self) -> R<String> {
        let mut n = self.ident()?;
        while self.eat(&Tok::Dot) {
            n = self.any_name()?;
        }
        Ok(n)
    }

    fn statement(&mut self) -> R<Stmt> {
        let t = self.peek().clone();
        let Tok::Word(w) = t else {
            if t == Tok::LParen {
                return Ok(Stmt::Select(Box::new(self.select()?)));
            }
            return Err(self.unexpected());
        };
        match w.as_str() {
            "select" | "with" | "values" => Ok(Stmt::Select(Box::new(self.select()?))),
            "table" => {
                self.next();
                let t = self.table_name()?;
                Ok(Stmt::Select(Box::new(Select {
                    distinct: false,
                    items: vec![SelectItem::Star(None)],
                    from: Some((t, None)),
                    where_: None,
                    group_by: vec![],
                    having: None,
                    order_by: vec![],
                    limit: None,
                    offset: None,
                })))
            }
            "insert" => self.insert(),
            "update" => self.update(),
            "delete" => self.delete(),
            "create" => self.create(),
            "drop" => self.drop(),
            "alter" => self.alter(),
            "truncate" => {
                self.next();
                self.eat_word("table");
                let mut names = vec![self.table_name()?];
                while self.eat(&Tok::Comma) {
                    names.push(self.table_name()?);
                }
                while self.eat_word("restart")
                    || self.eat_word("identity")
                    || self.eat_word("cascade")
                    || self.eat_word("restrict")
                    || self.eat_word("continue")
                {}
                Ok(Stmt::Truncate(names))
            }
            "begin" | "start" => {
                self.next();
                if w == "start" {
                    self.expect_word("transaction")?;
                } else {
                    let _ = self.eat_word("transaction") || self.eat_word("work");
                }
                self.skip_transaction_modes();
                Ok(Stmt::Begin)
            }
            "commit" | "end" => {
                self.next();
                let _ = self.eat_word("transaction") || self.eat_word("work");
                Ok(Stmt::Commit)
            }
            "rollback" | "abort" => {
                self.next();
                let _ = self.eat_word("transaction") || self.eat_word("work");
                Ok(Stmt::Rollback)
            }
            "set" => {
                self.next();
                let _ = self.eat_word("session") || self.eat_word("local");
                if self.eat_words(&["time", "zone"]) {
                    let v = self.set_value()?;
                    return Ok(Stmt::Set { name: "timezone".into(), value: v });
                }
                let mut name = self.any_name()?;
                while self.eat(&Tok::Dot) {
                    name = format!("{name}.{}", self.any_name()?);
                }
                if !(self.eat_word("to") || self.eat(&Tok::Op("=".into()))) {
                    return Err(self.unexpected());
                }
                let v = self.set_value()?;
                Ok(Stmt::Set { name, value: v })
            }
            "reset" => {
                self.next();
                let name = self.any_name()?;
                Ok(Stmt::Set { name, value: None })
            }
            "show" => {
                self.next();
                if self.eat_words(&["time", "zone"]) {
                    return Ok(Stmt::Show("timezone".into()));
                }
                let mut name = self.any_name()?;
                while self.eat(&Tok::Dot) {
                    name = format!("{name}.{}", self.any_name()?);
                }
                Ok(Stmt::Show(name))
            }
            "vacuum" | "analyze" | "checkpoint" | "discard" | "listen" | "unlisten" | "notify" | "comment"
            | "grant" | "revoke" => {
                // Accepted: nothing to do here. Skip to the end of the statement.
                self.next();
                self.skip_statement();
                let tag = match w.as_str() {
                    "discard" => "DISCARD ALL",
                    "comment" => "COMMENT",
                    "grant" => "GRANT",
                    "revoke" => "REVOKE",
                    "analyze" => "ANALYZE",
                    "checkpoint" => "CHECKPOINT",
                    "listen" => "LISTEN",
                    "unlisten" => "UNLISTEN",
                    "notify" => "NOTIFY",
                    _ => "VACUUM",
                };
                Ok(Stmt::Noop(tag.into()))
            }
            _ => Err(self.unexpected()),
        }
    }

    fn skip_statement(&mut self) {
        while !matches!(self.peek(), Tok::Semi | Tok::Eof) {
            self.next();
        }
    }

    fn skip_transaction_modes(&mut self) {
        loop {
            if self.eat_words(&["isolation", "level"]) {
                let _ = self.eat_words(&["read", "committed"])
                    || self.eat_words(&["read", "uncommitted"])
                    || self.eat_words(&["repeatable", "read"])
                    || self.eat_word("serializable");
            } else if self.eat_words(&["read", "only"])
                || self.eat_words(&["read", "write"])
                || self.eat_word("deferrable")
                || self.eat_words(&["not", "deferrable"])
            {
            } else if !self.eat(&Tok::Comma) {
                break;
            }
        }
    }

    fn set_value(&mut self) -> R<Option<String>> {
        if self.eat_word("default") {
            return Ok(None);
        }
        let mut parts = Vec::new();
        loop {
            let t = self.next();
            match t.tok {
                Tok::Str(s) | Tok::Word(s) | Tok::Quoted(s) => parts.push(s),
                Tok::Num(n) => parts.push(n),
                Tok::Op(o) if o == "-" => {
                    if let Tok::Num(n) = self.next().tok {
                        parts.push(format!("-{n}"));
                    }
                }
                _ => return Err(Error::new("42601", format!("syntax error at or near \"{}\"", t.text)).at(t.pos)),
            }
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        Ok(Some(parts.join(", ")))
    }

    // ---- DDL ----

    fn create(&mut self) -> R<Stmt> {
        self.expect_word("create")?;
        let _ = self.eat_words(&["or", "replace"]);
        let _ = self.eat_word("temporary") || self.eat_word("temp") || self.eat_word("unlogged");
        if self.eat_word("table") {
            return self.create_table();
        }
        if self.eat_word("database") {
            let name = self.ident()?;
            self.skip_statement();
            return Ok(Stmt::CreateDatabase(name));
        }
        if self.eat_word("user") || self.eat_word("role") {
            let user = self.ident()?;
            let password = self.role_options()?;
            return Ok(Stmt::UserPassword { user, password, create: true });
        }
        if self.is_word("unique") || self.is_word("index") {
            self.skip_statement();
            return Ok(Stmt::Noop("CREATE INDEX".into()));
        }
        if self.eat_word("schema") || self.eat_word("extension") {
            let w = if self.toks[self.i - 1].text.eq_ignore_ascii_case("schema") {
                "CREATE SCHEMA"
            } else {
                "CREATE EXTENSION"
            };
            self.skip_statement();
            return Ok(Stmt::Noop(w.into()));
        }
        Err(self.unexpected())
    }

    /// `[WITH] [LOGIN|SUPERUSER|…] [PASSWORD 'x']`
    fn role_options(&mut self) -> R<Option<String>> {
        self.eat_word("with");
        let mut password = None;
        while !matches!(self.peek(), Tok::Semi | Tok::Eof) {
            if self.eat_word("password") {
                match self.next().tok {
                    Tok::Str(s) => password = Some(s),
                    Tok::Word(w) if w == "null" => password = None,
                    _ => return Err(self.unexpected()),
                }
            } else {
                self.next();
            }
        }
        Ok(password)
    }

    fn create_table(&mut self) -> R<Stmt> {
        let if_not_exists = self.eat_words(&["if", "not", "exists"]);
        let name = self.table_name()?;
        self.expect(&Tok::LParen)?;
        let mut ct = CreateTable { name, if_not_exists, columns: vec![], primary_key: None, uniques: vec![] };
        loop {
            if self.eat_word("constraint") {
                self.ident()?;
            }
            if self.eat_words(&["primary", "key"]) {
                ct.primary_key = Some(self.name_list()?);
            } else if self.eat_word("unique") {
                ct.uniques.push(self.name_list()?);
            } else if self.eat_word("check") {
                self.expect(&Tok::LParen)?;
                self.expr()?;
                self.expect(&Tok::RParen)?;
            } else if self.eat_words(&["foreign", "key"]) {
                self.name_list()?;
                self.references()?;
            } else {
                ct.columns.push(self.column_def()?);
            }
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.expect(&Tok::RParen)?;
        Ok(Stmt::CreateTable(Box::new(ct)))
    }

    fn references(&mut self) -> R<()> {
        self.expect_word("references")?;
        self.table_name()?;
        if self.peek() == &Tok::LParen {
            self.name_list()?;
        }
        loop {
            if self.eat_words(&["on", "delete"]) || self.eat_words(&["on", "update"]) {
                let _ = self.eat_word("cascade")
                    || self.eat_word("restrict")
                    || self.eat_words(&["set", "null"])
                    || self.eat_words(&["set", "default"])
                    || self.eat_words(&["no", "action"]);
            } else {
                break;
            }
        }
        Ok(())
    }

    fn name_list(&mut self) -> R<Vec<String>> {
        self.expect(&Tok::LParen)?;
        let mut v = vec![self.ident()?];
        while self.eat(&Tok::Comma) {
            v.push(self.ident()?);
        }
        self.expect(&Tok::RParen)?;
        Ok(v)
    }

    fn type_name(&mut self) -> R<(Type, bool)> {
        let start = self.i;
        let mut words = vec![self.any_name()?];
        if self.eat(&Tok::Dot) {
            words.push(self.any_name()?);
        }
        // multi-word types
        loop {
            let w = match self.peek() {
                Tok::Word(w) => w.clone(),
                _ => break,
            };
            let joined = words.join(" ");
            let ok = matches!(
                (joined.as_str(), w.as_str()),
                ("double", "precision")
                    | ("character", "varying")
                    | ("timestamp", "with")
                    | ("timestamp", "without")
                    | ("timestamp with", "time")
                    | ("timestamp without", "time")
                    | ("timestamp with time", "zone")
                    | ("timestamp without time", "zone")
            );
            if !ok {
                break;
            }
            self.next();
            words.push(w);
        }
        let mut args = Vec::new();
        if self.peek() == &Tok::LParen {
            self.next();
            loop {
                match self.next().tok {
                    Tok::Num(n) => args.push(n.parse().unwrap_or(0)),
                    _ => return Err(self.unexpected()),
                }
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
            self.expect(&Tok::RParen)?;
            // timestamp(3) with time zone
            if words == ["timestamp"] && self.eat_words(&["with", "time", "zone"]) {
                words = vec!["timestamptz".into()];
            } else if words == ["timestamp"] {
                let _ = self.eat_words(&["without", "time", "zone"]);
            }
        }
        // arrays are not supported: int[]
        if self.peek() == &Tok::LBracket {
            return Err(Error::new("0A000", "arrays are not supported by this server").at(self.pos()));
        }
        match Type::parse(&words, &args) {
            Some(t) => Ok((t, Type::is_serial_name(&words))),
            None => {
                let pos = self.toks[start].pos;
                Err(Error::new("42704", format!("type \"{}\" does not exist", words.join(" "))).at(pos))
            }
        }
    }

    fn column_def(&mut self) -> R<ColumnDef> {
        let name = self.ident()?;
        let (ty, serial) = self.type_name()?;
        let mut c = ColumnDef { name, ty, serial, not_null: serial, primary_key: false, unique: false, default: None };
        loop {
            if self.eat_word("constraint") {
                self.ident()?;
            }
            if self.eat_words(&["not", "null"]) {
                c.not_null = true;
            } else if self.eat_word("null") {
            } else if self.eat_words(&["primary", "key"]) {
                c.primary_key = true;
                c.not_null = true;
            } else if self.eat_word("unique") {
                c.unique = true;
            } else if self.eat_word("default") {
                c.default = Some(self.expr_prec(PREC_ADD)?);
            } else if self.eat_word("check") {
                self.expect(&Tok::LParen)?;
                self.expr()?;
                self.expect(&Tok::RParen)?;
            } else if self.is_word("references") {
                self.references()?;
            } else if self.eat_word("collate") {
                self.any_name()?;
            } else if self.eat_words(&["generated", "always", "as", "identity"])
                || self.eat_words(&["generated", "by", "default", "as", "identity"])
            {
                c.serial = true;
                c.not_null = true;
            } else {
                break;
            }
        }
        Ok(c)
    }

    fn drop(&mut self) -> R<Stmt> {
        self.expect_word("drop")?;
        if self.eat_word("table") {
            let if_exists = self.eat_words(&["if", "exists"]);
            let mut names = vec![self.table_name()?];
            while self.eat(&Tok::Comma) {
                names.push(self.table_name()?);
            }
            let _ = self.eat_word("cascade") || self.eat_word("restrict");
            return Ok(Stmt::DropTable { names, if_exists });
        }
        if self.eat_word("database") {
            let if_exists = self.eat_words(&["if", "exists"]);
            let name = self.ident()?;
            self.skip_statement();
            return Ok(Stmt::DropDatabase { name, if_exists });
        }
        if self.is_word("index")
            || self.is_word("schema")
            || self.is_word("extension")
            || self.is_word("user")
            || self.is_word("role")
        {
            let w = self.any_name()?.to_ascii_uppercase();
            self.skip_statement();
            return Ok(Stmt::Noop(format!("DROP {w}")));
        }
        Err(self.unexpected())
    }

    fn alter(&mut self) -> R<Stmt> {
        self.expect_word("alter")?;
        if self.eat_word("user") || self.eat_word("role") {
            let user = self.ident()?;
            let password = self.role_options()?;
            return Ok(Stmt::UserPassword { user, password, create: false });
        }
        self.expect_word("table")?;
        let _ = self.eat_words(&["if", "exists"]);
        let table = self.table_name()?;
        let action = if self.eat_word("add") {
            self.eat_word("column");
            AlterAction::AddColumn(self.column_def()?)
        } else if self.eat_word("drop") {
            self.eat_word("column");
            let c = self.ident()?;
            let _ = self.eat_word("cascade") || self.eat_word("restrict");
            AlterAction::DropColumn(c)
        } else if self.eat_word("rename") {
            if self.eat_word("to") {
                AlterAction::RenameTo(self.ident()?)
            } else {
                self.eat_word("column");
                let from = self.ident()?;
                self.expect_word("to")?;
                AlterAction::RenameColumn(from, self.ident()?)
            }
        } else {
            return Err(self.unexpected());
        };
        Ok(Stmt::AlterTable { table, action })
    }

    // ---- DML ----

    fn insert(&mut self) -> R<Stmt> {
        self.expect_word("insert")?;
        self.expect_word("into")?;
        let table = self.table_name()?;
        if self.eat_word("as") {
            self.ident()?;
        }
        let columns = if self.peek() == &Tok::LParen && !self.is_word_at(1, "select") && !self.is_word_at(1, "values") {
            Some(self.name_list()?)
        } else {
            None
        };
        let source = if self.eat_words(&["default", "values"]) {
            InsertSource::Defaults
        } else if self.eat_word("values") {
            let mut rows = Vec::new();
            loop {
                self.expect(&Tok::LParen)?;
                let mut row = Vec::new();
                loop {
                    if self.eat_word("default") {
                        row.push(None);
                    } else {
                        row.push(Some(self.expr()?));
                    }
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
                self.expect(&Tok::RParen)?;
                rows.push(row);
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
            InsertSource::Values(rows)
        } else if self.is_word("select") || self.peek() == &Tok::LParen {
            InsertSource::Select(Box::new(self.select()?))
        } else {
            return Err(self.unexpected());
        };
        let mut on_conflict_nothing = false;
        if self.eat_words(&["on", "conflict"]) {
            if self.peek() == &Tok::LParen {
                self.name_list()?;
            }
            self.expect_word("do")?;
            self.expect_word("nothing")?;
            on_conflict_nothing = true;
        }
        let returning = self.returning()?;
        Ok(Stmt::Insert(Box::new(Insert { table, columns, source, on_conflict_nothing, returning })))
    }

    fn returning(&mut self) -> R<Vec<SelectItem>> {
        if self.eat_word("returning") {
            self.select_items()
        } else {
            Ok(vec![])
        }
    }

    fn alias(&mut self) -> R<Option<String>> {
        if self.eat_word("as") {
            return Ok(Some(self.ident()?));
        }
        match self.peek() {
            Tok::Word(w) if !RESERVED.contains(&w.as_str()) => Ok(Some(self.ident()?)),
            Tok::Quoted(_) => Ok(Some(self.ident()?)),
            _ => Ok(None),
        }
    }

    fn update(&mut self) -> R<Stmt> {
        self.expect_word("update")?;
        let table = self.table_name()?;
        let alias = if self.is_word("set") { None } else { self.alias()? };
        self.expect_word("set")?;
        let mut sets = Vec::new();
        loop {
            let c = self.ident()?;
            if !self.eat(&Tok::Op("=".into())) {
                return Err(self.unexpected());
            }
            if self.eat_word("default") {
                sets.push((c, None));
            } else {
                sets.push((c, Some(self.expr()?)));
            }
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        let where_ = if self.eat_word("where") { Some(self.expr()?) } else { None };
        let returning = self.returning()?;
        Ok(Stmt::Update(Box::new(Update { table, alias, sets, where_, returning })))
    }

    fn delete(&mut self) -> R<Stmt> {
        self.expect_word("delete")?;
        self.expect_word("from")?;
        let table = self.table_name()?;
        let alias = self.alias()?;
        let where_ = if self.eat_word("where") { Some(self.expr()?) } else { None };
        let returning = self.returning()?;
        Ok(Stmt::Delete(Box::new(Delete { table, alias, where_, returning })))
    }

    fn select_items(&mut self) -> R<Vec<SelectItem>> {
        let mut items = Vec::new();
        loop {
            if self.is_op("*") {
                self.next();
                items.push(SelectItem::Star(None));
            } else if matches!(self.peek(), Tok::Word(_) | Tok::Quoted(_))
                && self.peek_at(1) == &Tok::Dot
                && matches!(self.peek_at(2), Tok::Op(o) if o == "*")
            {
                let t = self.any_name()?;
                self.next();
                self.next();
                items.push(SelectItem::Star(Some(t)));
            } else {
                let e = self.expr()?;
                let alias = self.alias()?;
                items.push(SelectItem::Expr(e, alias));
            }
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        Ok(items)
    }

    fn select(&mut self) -> R<Select> {
        if self.eat(&Tok::LParen) {
            let s = self.select()?;
            self.expect(&Tok::RParen)?;
            return Ok(s);
        }
        if self.is_word("with") {
            return Err(Error::new("0A000", "WITH queries are not supported by this server").at(self.pos()));
        }
        if self.eat_word("values") {
            return Err(Error::new("0A000", "VALUES lists outside INSERT are not supported by this server")
                .at(self.toks[self.i - 1].pos));
        }
        self.expect_word("select")?;
        let mut s = Select {
            distinct: false,
            items: vec![],
            from: None,
            where_: None,
            group_by: vec![],
            having: None,
            order_by: vec![],
            limit: None,
            offset: None,
        };
        if self.eat_word("distinct") {
            s.distinct = true;
            if self.is_word("on") {
                return Err(Error::new("0A000", "SELECT DISTINCT ON is not supported by this server").at(self.pos()));
            }
        } else {
            self.eat_word("all");
        }
        if !matches!(self.peek(), Tok::Semi | Tok::Eof | Tok::RParen) && !self.is_word("from") {
            s.items = self.select_items()?;
        }
        if self.eat_word("from") {
            if self.peek() == &Tok::LParen {
                return Err(Error::new("0A000", "subqueries in FROM are not supported by this server").at(self.pos()));
            }
            let t = self.table_name()?;
            let alias = self.alias()?;
            s.from = Some((t, alias));
            if self.peek() == &Tok::Comma
                || self.is_word("join")
                || self.is_word("left")
                || self.is_word("inner")
                || self.is_word("right")
                || self.is_word("cross")
                || self.is_word("full")
                || self.is_word("natural")
            {
                return Err(
                    Error::new("0A000", "joins are not supported by this server (one table per query)").at(self.pos())
                );
            }
        }
        if self.eat_word("where") {
            s.where_ = Some(self.expr()?);
        }
        if self.eat_words(&["group", "by"]) {
            loop {
                s.group_by.push(self.expr()?);
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
        }
        if self.eat_word("having") {
            s.having = Some(self.expr()?);
        }
        if self.is_word("union") || self.is_word("intersect") || self.is_word("except") {
            return Err(Error::new(
                "0A000",
                format!("{} is not supported by this server", self.any_name()?.to_ascii_uppercase()),
            )
            .at(self.toks[self.i - 1].pos));
        }
        if self.eat_words(&["order", "by"]) {
            loop {
                let expr = self.expr()?;
                let desc = if self.eat_word("desc") {
                    true
                } else {
                    self.eat_word("asc");
                    false
                };
                let nulls_first = if self.eat_words(&["nulls", "first"]) {
                    Some(true)
                } else if self.eat_words(&["nulls", "last"]) {
                    Some(false)
                } else {
                    None
                };
                s.order_by.push(OrderItem { expr, desc, nulls_first });
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
        }
        loop {
            if self.eat_word("limit") {
                if self.eat_word("all") {
                    continue;
                }
                s.limit = Some(self.expr()?);
            } else if self.eat_word("offset") {
                s.offset = Some(self.expr()?);
                let _ = self.eat_word("rows") || self.eat_word("row");
            } else if self.eat_word("fetch") {
                let _ = self.eat_word("first") || self.eat_word("next");
                s.limit = Some(if self.is_word("row") || self.is_word("rows") {
                    Expr::Lit(Value::Int(1), Type::Int4)
                } else {
                    self.expr()?
                });
                let _ = self.eat_word("rows") || self.eat_word("row");
                self.expect_word("only")?;
            } else {
                break;
            }
        }
        if self.is_word("for") {
            // FOR UPDATE / FOR SHARE: one writer at a time here anyway.
            self.next();
            let _ = self.eat_word("update")
                || self.eat_word("share")
                || self.eat_words(&["no", "key", "update"])
                || self.eat_words(&["key", "share"]);
        }
        Ok(s)
    }

    // ---- expressions ----

    pub fn expr(&mut self) -> R<Expr> {
        self.expr_prec(0)
    }

    fn expr_prec(&mut self, min: u8) -> R<Expr> {
        let mut left = self.prefix()?;
        loop {
            let (prec, op) = match self.peek().clone() {
                Tok::Word(w) => match w.as_str() {
                    "or" => (PREC_OR, "or"),
                    "and" => (PREC_AND, "and"),
                    "is" | "isnull" | "notnull" => (PREC_IS, "is"),
                    "not"
                        if self.is_word_at(1, "like")
                            || self.is_word_at(1, "ilike")
                            || self.is_word_at(1, "in")
                            || self.is_word_at(1, "between") =>
                    {
                        (PREC_IN, "not")
                    }
                    "like" | "ilike" | "in" | "between" => (PREC_IN, "in"),
                    "collate" => (PREC_CAST, "collate"),
                    "operator" => (PREC_CMP, "operator"),
                    _ => break,
                },
                Tok::Op(o) => match o.as_str() {
                    "=" | "<>" | "!=" | "<" | ">" | "<=" | ">=" => (PREC_CMP, "cmp"),
                    "~" | "!~" | "~*" | "!~*" | "~~" | "!~~" => (PREC_OTHER, "cmp"),
                    "||" => (PREC_OTHER, "cmp"),
                    "+" | "-" => (PREC_ADD, "cmp"),
                    "*" | "/" | "%" => (PREC_MUL, "cmp"),
                    "^" => (PREC_POW, "cmp"),
                    "::" => (PREC_CAST, "cast"),
                    _ => break,
                },
                Tok::LBracket => {
                    return Err(Error::new("0A000", "arrays are not supported by this server").at(self.pos()))
                }
                _ => break,
            };
            if prec < min {
                break;
            }
            match op {
                "or" | "and" => {
                    self.next();
                    let right = self.expr_prec(prec + 1)?;
                    left =
                        Expr::Binary(if op == "or" { BinOp::Or } else { BinOp::And }, Box::new(left), Box::new(right));
                }
                "is" => {
                    if self.eat_word("isnull") {
                        left = Expr::IsNull(Box::new(left), false);
                        continue;
                    }
                    if self.eat_word("notnull") {
                        left = Expr::IsNull(Box::new(left), true);
                        continue;
                    }
                    self.next();
                    let neg = self.eat_word("not");
                    if self.eat_word("null") {
                        left = Expr::IsNull(Box::new(left), neg);
                    } else if self.eat_word("true") {
                        left = Expr::IsBool(Box::new(left), neg, true);
                    } else if self.eat_word("false") {
                        left = Expr::IsBool(Box::new(left), neg, false);
                    } else if self.eat_words(&["distinct", "from"]) {
                        let right = self.expr_prec(PREC_IS + 1)?;
                        // a IS DISTINCT FROM b
                        let d = distinct_from(left, right);
                        left = if neg { Expr::Not(Box::new(d)) } else { d };
                    } else {
                        return Err(self.unexpected());
                    }
                }
                "not" | "in" => {
                    let negated = self.eat_word("not");
                    if self.eat_word("like") || self.eat_word("ilike") {
                        let ci = self.toks[self.i - 1].text.eq_ignore_ascii_case("ilike");
                        let pattern = self.expr_prec(PREC_IN + 1)?;
                        left = Expr::Like { expr: Box::new(left), pattern: Box::new(pattern), negated, ci };
                    } else if self.eat_word("in") {
                        self.expect(&Tok::LParen)?;
                        if self.is_word("select") {
                            return Err(
                                Error::new("0A000", "subqueries are not supported by this server").at(self.pos())
                            );
                        }
                        let mut list = vec![self.expr()?];
                        while self.eat(&Tok::Comma) {
                            list.push(self.expr()?);
                        }
                        self.expect(&Tok::RParen)?;
                        left = Expr::InList { expr: Box::new(left), list, negated };
                    } else if self.eat_word("between") {
                        self.eat_word("symmetric");
                        let lo = self.expr_prec(PREC_IN + 1)?;
                        self.expect_word("and")?;
                        let hi = self.expr_prec(PREC_IN + 1)?;
                        left = Expr::Between { expr: Box::new(left), lo: Box::new(lo), hi: Box::new(hi), negated };
                    } else {
                        return Err(self.unexpected());
                    }
                }
                "collate" => {
                    self.next();
                    self.table_name()?;
                }
                "operator" => {
                    // OPERATOR(pg_catalog.~)
                    self.next();
                    self.expect(&Tok::LParen)?;
                    if matches!(self.peek(), Tok::Word(_)) {
                        self.any_name()?;
                        self.expect(&Tok::Dot)?;
                    }
                    let t = self.next();
                    let Tok::Op(o) = t.tok else {
                        return Err(self.unexpected());
                    };
                    self.expect(&Tok::RParen)?;
                    let right = self.expr_prec(PREC_OTHER + 1)?;
                    left = binary(&o, left, right, t.pos)?;
                }
                "cast" => {
                    self.next();
                    let (ty, _) = self.type_name()?;
                    left = Expr::Cast(Box::new(left), ty);
                }
                _ => {
                    let t = self.next();
                    let Tok::Op(o) = t.tok else { unreachable!() };
                    // `^` is left-associative in PostgreSQL too.
                    let right = self.expr_prec(prec + 1)?;
                    left = binary(&o, left, right, t.pos)?;
                }
            }
        }
        Ok(left)
    }

    fn prefix(&mut self) -> R<Expr> {
        let t = self.peek().clone();
        match t {
            Tok::Word(w) if w == "not" => {
                self.next();
                let e = self.expr_prec(PREC_NOT)?;
                Ok(Expr::Not(Box::new(e)))
            }
            Tok::Op(o) if o == "-" => {
                self.next();
                let e = self.expr_prec(PREC_UNARY)?;
                Ok(match e {
                    Expr::Lit(Value::Int(i), ty) => Expr::Lit(
                        Value::Int(-i),
                        if ty == Type::Int8 && -i >= i32::MIN as i64 { Type::Int4 } else { ty },
                    ),
                    Expr::Lit(Value::Numeric(d), ty) => Expr::Lit(Value::Numeric(d.neg()), ty),
                    Expr::Lit(Value::Float(f), ty) => Expr::Lit(Value::Float(-f), ty),
                    e => Expr::Neg(Box::new(e)),
                })
            }
            Tok::Op(o) if o == "+" => {
                self.next();
                self.expr_prec(PREC_UNARY)
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> R<Expr> {
        let t = self.next();
        match t.tok {
            Tok::Num(n) => Ok(number(&n)),
            Tok::Str(s) => Ok(Expr::Lit(Value::Text(s), Type::Unknown)),
            Tok::Param(n) => Ok(Expr::Param(n)),
            Tok::LParen => {
                if self.is_word("select") {
                    return Err(Error::new("0A000", "subqueries are not supported by this server").at(self.pos()));
                }
                let e = self.expr()?;
                if self.peek() == &Tok::Comma {
                    return Err(Error::new("0A000", "row constructors are not supported by this server").at(self.pos()));
                }
                self.expect(&Tok::RParen)?;
                Ok(e)
            }
            Tok::Quoted(name) => self.name_expr(name, t.pos),
            Tok::Word(w) => match w.as_str() {
                "null" => Ok(Expr::Lit(Value::Null, Type::Unknown)),
                "true" => Ok(Expr::Lit(Value::Bool(true), Type::Bool)),
                "false" => Ok(Expr::Lit(Value::Bool(false), Type::Bool)),
                "case" => self.case(),
                "cast" => {
                    self.expect(&Tok::LParen)?;
                    let e = self.expr()?;
                    self.expect_word("as")?;
                    let (ty, _) = self.type_name()?;
                    self.expect(&Tok::RParen)?;
                    Ok(Expr::Cast(Box::new(e), ty))
                }
                "current_timestamp" | "current_date" | "current_user" | "session_user" | "user" | "localtimestamp"
                | "current_time" | "current_schema" | "current_catalog"
                    if self.peek() != &Tok::LParen =>
                {
                    let name = if w == "user" || w == "session_user" { "current_user".to_string() } else { w };
                    Ok(Expr::Func { name, args: vec![], star: false, distinct: false, pos: t.pos })
                }
                "exists" if self.peek() == &Tok::LParen => {
                    Err(Error::new("0A000", "subqueries are not supported by this server").at(t.pos))
                }
                "array" => Err(Error::new("0A000", "arrays are not supported by this server").at(t.pos)),
                "interval" if matches!(self.peek(), Tok::Str(_)) => {
                    Err(Error::new("0A000", "type interval is not supported by this server").at(t.pos))
                }
                // `timestamp '2024-01-01'`, `date '…'`: a typed literal.
                "timestamp" | "date" | "timestamptz" | "int" | "integer" | "text" | "boolean" | "numeric"
                | "bigint" | "varchar"
                    if matches!(self.peek(), Tok::Str(_)) =>
                {
                    let Tok::Str(s) = self.next().tok else { unreachable!() };
                    let ty = Type::parse(&[w.clone()], &[]).unwrap_or(Type::Text);
                    Ok(Expr::Cast(Box::new(Expr::Lit(Value::Text(s), Type::Unknown)), ty))
                }
                _ if RESERVED.contains(&w.as_str()) => {
                    self.i -= 1;
                    Err(self.unexpected())
                }
                _ => self.name_expr(w, t.pos),
            },
            _ => {
                self.i -= 1;
                Err(self.unexpected())
            }
        }
    }

    /// A column reference `[t.]col` or a function call `[schema.]f(args)`.
    fn name_expr(&mut self, first: String, pos: usize) -> R<Expr> {
        let mut parts = vec![first];
        while self.peek() == &Tok::Dot {
            self.next();
            parts.push(self.any_name()?);
        }
        if self.peek() == &Tok::LParen {
            self.next();
            let name = parts.last().cloned().unwrap_or_default();
            let mut args = Vec::new();
            let mut star = false;
            let mut distinct = false;
            if self.is_op("*") {
                self.next();
                star = true;
            } else if self.peek() != &Tok::RParen {
                distinct = self.eat_word("distinct");
                loop {
                    args.push(self.expr()?);
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
                if self.eat_words(&["order", "by"]) {
                    self.expr()?;
                }
            }
            self.expect(&Tok::RParen)?;
            if self.is_word("over") || self.is_word("filter") || self.is_word("within") {
                return Err(Error::new("0A000", "window functions are not supported by this server").at(self.pos()));
            }
            return Ok(Expr::Func { name, args, star, distinct, pos });
        }
        Ok(match parts.len() {
            1 => Expr::Column { table: None, name: parts.remove(0), pos },
            _ => {
                let name = parts.pop().unwrap_or_default();
                Expr::Column { table: parts.pop(), name, pos }
            }
        })
    }

    fn case(&mut self) -> R<Expr> {
        let operand = if self.is_word("when") { None } else { Some(Box::new(self.expr()?)) };
        let mut whens = Vec::new();
        while self.eat_word("when") {
            let w = self.expr()?;
            self.expect_word("then")?;
            let t = self.expr()?;
            whens.push((w, t));
        }
        if whens.is_empty() {
            return Err(self.unexpected());
        }
        let else_ = if self.eat_word("else") { Some(Box::new(self.expr()?)) } else { None };
        self.expect_word("end")?;
        Ok(Expr::Case { operand, whens, else_ })
    }
}

const PREC_OR: u8 = 1;
const PREC_AND: u8 = 2;
const PREC_NOT: u8 = 3;
const PREC_IS: u8 = 4;
const PREC_CMP: u8 = 5;
const PREC_IN: u8 = 6;
const PREC_OTHER: u8 = 7;
const PREC_ADD: u8 = 8;
const PREC_MUL: u8 = 9;
const PREC_POW: u8 = 10;
const PREC_UNARY: u8 = 11;
const PREC_CAST: u8 = 12;

fn distinct_from(a: Expr, b: Expr) -> Expr {
    // (a <> b OR a IS NULL <> b IS NULL) with NULLs handled: written out with CASE.
    Expr::Case {
        operand: None,
        whens: vec![
            (
                Expr::Binary(
                    BinOp::And,
                    Box::new(Expr::IsNull(Box::new(a.clone()), false)),
                    Box::new(Expr::IsNull(Box::new(b.clone()), false)),
                ),
                Expr::Lit(Value::Bool(false), Type::Bool),
            ),
            (
                Expr::Binary(
                    BinOp::Or,
                    Box::new(Expr::IsNull(Box::new(a.clone()), false)),
                    Box::new(Expr::IsNull(Box::new(b.clone()), false)),
                ),
                Expr::Lit(Value::Bool(true), Type::Bool),
            ),
        ],
        else_: Some(Box::new(Expr::Binary(BinOp::Ne, Box::new(a), Box::new(b)))),
    }
}

fn binary(op: &str, l: Expr, r: Expr, pos: usize) -> R<Expr> {
    let op = match op {
        "+" => BinOp::Add,
        "-" => BinOp::Sub,
        "*" => BinOp::Mul,
        "/" => BinOp::Div,
        "%" => BinOp::Mod,
        "^" => BinOp::Pow,
        "||" => BinOp::Concat,
        "=" => BinOp::Eq,
        "<>" | "!=" => BinOp::Ne,
        "<" => BinOp::Lt,
        "<=" => BinOp::Le,
        ">" => BinOp::Gt,
        ">=" => BinOp::Ge,
        "~" => BinOp::Match,
        "!~" => BinOp::NotMatch,
        "~~" => return Ok(Expr::Like { expr: Box::new(l), pattern: Box::new(r), negated: false, ci: false }),
        "!~~" => return Ok(Expr::Like { expr: Box::new(l), pattern: Box::new(r), negated: true, ci: false }),
        "~*" => {
            return Ok(Expr::Func { name: "regexp_ci".into(), args: vec![l, r], star: false, distinct: false, pos })
        }
        "!~*" => {
            return Ok(Expr::Not(Box::new(Expr::Func {
                name: "regexp_ci".into(),
                args: vec![l, r],
                star: false,
                distinct: false,
                pos,
            })))
        }
        o => return Err(Error::new("42883", format!("operator does not exist: {o}")).at(pos)),
    };
    Ok(Expr::Binary(op, Box::new(l), Box::new(r)))
}

fn number(n: &str) -> Expr {
    if n.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = n.parse::<i64>() {
            let ty = if i <= i32::MAX as i64 { Type::Int4 } else { Type::Int8 };
            return Expr::Lit(Value::Int(i), ty);
        }
    }
    if n.contains(['e', 'E']) {
        if let Some(d) = Decimal::parse(n) {
            return Expr::Lit(Value::Numeric(d), Type::Numeric);
        }
        return Expr::Lit(Value::Float(n.parse().unwrap_or(0.0)), Type::Float8);
    }
    match Decimal::parse(n) {
        Some(d) => Expr::Lit(Value::Numeric(d), Type::Numeric),
        None => Expr::Lit(Value::Float(n.parse().unwrap_or(0.0)), Type::Float8),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements() {
        let v = parse("CREATE TABLE IF NOT EXISTS t (id serial PRIMARY KEY, name varchar(20) NOT NULL, ok boolean DEFAULT true, at timestamp DEFAULT now()); SELECT 1;;").unwrap();
        assert_eq!(v.len(), 2);
        let Stmt::CreateTable(ct) = &v[0] else { panic!() };
        assert!(ct.if_not_exists);
        assert_eq!(ct.columns[0].ty, Type::Int4);
        assert!(ct.columns[0].serial && ct.columns[0].primary_key);
        assert_eq!(ct.columns[1].ty, Type::Varchar(Some(20)));
        assert_eq!(ct.columns[3].default.as_ref().unwrap().to_string(), "now()");
        let v = parse("insert into t (a, b) values (1, 'x'), (2, DEFAULT) returning id").unwrap();
        let Stmt::Insert(ins) = &v[0] else { panic!() };
        assert_eq!(ins.columns.as_ref().unwrap(), &vec!["a".to_string(), "b".to_string()]);
        let InsertSource::Values(rows) = &ins.source else { panic!() };
        assert_eq!(rows.len(), 2);
        assert!(rows[1][1].is_none());
        assert_eq!(ins.returning.len(), 1);
    }

    #[test]
    fn precedence() {
        let e = parse_expr("a = 1 OR b = 2 AND NOT c").unwrap();
        assert_eq!(e.to_string(), "((a = 1) OR ((b = 2) AND (NOT c)))");
        assert_eq!(parse_expr("1 + 2 * 3 - -4").unwrap().to_string(), "((1 + (2 * 3)) - -4)");
        assert_eq!(parse_expr("x::int + 1").unwrap().to_string(), "((x)::integer + 1)");
        assert_eq!(
            parse_expr("name NOT LIKE 'a%' AND x IN (1,2) AND y IS NOT NULL").unwrap().to_string(),
            "(((name NOT LIKE 'a'::text) AND (x IN (1, 2))) AND (y IS NOT NULL))".replace("'a'::text", "'a%'::text")
        );
        assert_eq!(
            parse_expr("c.relname OPERATOR(pg_catalog.~) '^(t)$' COLLATE pg_catalog.default").unwrap().to_string(),
            "(c.relname ~ '^(t)$'::text)"
        );
    }

    #[test]
    fn select_clauses() {
        let v = parse("SELECT DISTINCT a AS x, count(*) total FROM public.t WHERE a >= 2 GROUP BY a HAVING count(*) > 1 ORDER BY 2 DESC, a LIMIT 10 OFFSET 5").unwrap();
        let Stmt::Select(s) = &v[0] else { panic!() };
        assert!(s.distinct);
        assert_eq!(s.from, Some(("t".into(), None)));
        assert_eq!(s.items.len(), 2);
        assert!(matches!(&s.items[1], SelectItem::Expr(Expr::Func { star: true, .. }, Some(a)) if a == "total"));
        assert_eq!(s.order_by.len(), 2);
        assert!(s.order_by[0].desc);
        assert!(s.limit.is_some() && s.offset.is_some());
    }

    #[test]
    fn syntax_errors() {
        let e = parse("SELEC 1").unwrap_err();
        assert_eq!((e.code, e.message.as_str(), e.position), ("42601", "syntax error at or near \"SELEC\"", Some(1)));
        let e = parse("SELECT 1; SELECT FROM WHERE").unwrap_err();
        assert_eq!(e.message, "syntax error at or near \"WHERE\"");
        assert_eq!(parse("SELECT (1").unwrap_err().message, "syntax error at end of input");
        assert_eq!(parse("CREATE TABLE t (a foo)").unwrap_err().message, "type \"foo\" does not exist");
        assert!(parse("").unwrap().is_empty());
        assert!(parse(" ; ").unwrap().is_empty());
    }
}
