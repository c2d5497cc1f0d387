//! How tables are kept under `PGDATA`: one text file per table in `base/<database>/`,
//! written whole to a temporary file and renamed over the old one (so a stop at any moment
//! leaves the old or the new table, never half of one). Fields use COPY's text escapes.
//!
//! ```text
//! skiff-table 1
//! name	users
//! oid	16385
//! owner	postgres
//! column	id	int4	1	3	nextval('users_id_seq'::regclass)
//! column	name	varchar:20	0	-	-
//! pk	0
//! row	1	alice
//! row	2	\N
//! ```

use std::path::Path;

use super::ast::Expr;
use super::engine::{Column, Table};
use super::parser::parse_expr;
use super::value::{Type, Value};

pub const MAGIC: &str = "skiff-table 1";

/// COPY text format: `\N` for NULL, backslash escapes for tab, newline, CR, backslash.
pub fn escape(v: Option<&str>) -> String {
    match v {
        None => "\\N".into(),
        Some(s) => {
            let mut o = String::with_capacity(s.len());
            for c in s.chars() {
                match c {
                    '\\' => o.push_str("\\\\"),
                    '\t' => o.push_str("\\t"),
                    '\n' => o.push_str("\\n"),
                    '\r' => o.push_str("\\r"),
                    c => o.push(c),
                }
            }
            o
        }
    }
}

pub fn unescape(s: &str) -> Option<String> {
    if s == "\\N" {
        return None;
    }
    let mut o = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('t') => o.push('\t'),
                Some('n') => o.push('\n'),
                Some('r') => o.push('\r'),
                Some(x) => o.push(x),
                None => o.push('\\'),
            }
        } else {
            o.push(c);
        }
    }
    Some(o)
}

pub fn type_code(t: Type) -> String {
    match t {
        Type::Varchar(Some(n)) => format!("varchar:{n}"),
        Type::Varchar(None) => "varchar".into(),
        Type::Char(n) => format!("char:{n}"),
        Type::Bool => "bool".into(),
        Type::Int2 => "int2".into(),
        Type::Int4 => "int4".into(),
        Type::Int8 => "int8".into(),
        Type::Float4 => "float4".into(),
        Type::Float8 => "float8".into(),
        Type::Numeric => "numeric".into(),
        Type::Timestamp => "timestamp".into(),
        Type::TimestampTz => "timestamptz".into(),
        Type::Date => "date".into(),
        Type::Name => "name".into(),
        Type::Oid => "oid".into(),
        Type::Text | Type::Unknown => "text".into(),
    }
}

pub fn type_from_code(s: &str) -> Option<Type> {
    let (name, arg) = match s.split_once(':') {
        Some((a, b)) => (a, Some(b.parse::<u32>().ok()?)),
        None => (s, None),
    };
    Some(match (name, arg) {
        ("varchar", n) => Type::Varchar(n),
        ("char", n) => Type::Char(n.unwrap_or(1)),
        (n, _) => Type::parse(&[n.to_string()], &[])?,
    })
}

/// A file name for a table or database name: safe characters kept, others as `%xx`.
pub fn file_name(name: &str) -> String {
    let mut o = String::new();
    for b in name.bytes() {
        if b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02x}"));
        }
    }
    o
}

pub fn encode(t: &Table) -> String {
    let mut s = String::new();
    s.push_str(MAGIC);
    s.push('\n');
    s.push_str(&format!("name\t{}\noid\t{}\nowner\t{}\n", escape(Some(&t.name)), t.oid, escape(Some(&t.owner))));
    for c in &t.columns {
        let default = c.default.as_ref().map(|d| d.to_string());
        s.push_str(&format!(
            "column\t{}\t{}\t{}\t{}\t{}\n",
            escape(Some(&c.name)),
            type_code(c.ty),
            c.not_null as u8,
            c.seq.map(|n| n.to_string()).unwrap_or_else(|| "-".into()),
            default.map(|d| escape(Some(&d))).unwrap_or_else(|| "-".into())
        ));
    }
    let list = |v: &[usize]| v.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    if let Some(pk) = &t.pk {
        s.push_str(&format!("pk\t{}\n", list(pk)));
    }
    for u in &t.uniques {
        s.push_str(&format!("unique\t{}\n", list(u)));
    }
    for r in &t.rows {
        s.push_str("row");
        for (v, c) in r.iter().zip(&t.columns) {
            s.push('\t');
            s.push_str(&escape(v.to_text(c.ty).as_deref()));
        }
        s.push('\n');
    }
    s
}

pub fn decode(text: &str) -> Result<Table, String> {
    let mut lines = text.lines();
    if lines.next() != Some(MAGIC) {
        return Err("not a skiff table file".into());
    }
    let mut t = Table {
        name: String::new(),
        oid: 0,
        owner: "postgres".into(),
        columns: vec![],
        rows: vec![],
        pk: None,
        uniques: vec![],
        version: 0,
    };
    let idx = |s: &str| -> Result<Vec<usize>, String> {
        s.split(',').map(|x| x.parse().map_err(|_| format!("bad index {x}"))).collect()
    };
    for (n, line) in lines.enumerate() {
        let f: Vec<&str> = line.split('\t').collect();
        match f[0] {
            "name" => t.name = unescape(f.get(1).ok_or("name")?).unwrap_or_default(),
            "oid" => t.oid = f.get(1).and_then(|x| x.parse().ok()).ok_or("oid")?,
            "owner" => t.owner = unescape(f.get(1).ok_or("owner")?).unwrap_or_default(),
            "column" => {
                if f.len() != 6 {
                    return Err(format!("line {}: bad column", n + 2));
                }
                let ty = type_from_code(f[2]).ok_or_else(|| format!("unknown type {}", f[2]))?;
                let default: Option<Expr> = match f[5] {
                    "-" => None,
                    d => Some(parse_expr(&unescape(d).unwrap_or_default()).map_err(|e| e.message)?),
                };
                t.columns.push(Column {
                    name: unescape(f[1]).unwrap_or_default(),
                    ty,
                    not_null: f[3] == "1",
                    seq: f[4].parse().ok(),
                    default,
                });
            }
            "pk" => t.pk = Some(idx(f.get(1).ok_or("pk")?)?),
            "unique" => t.uniques.push(idx(f.get(1).ok_or("unique")?)?),
            "row" => {
                let vals = &f[1..];
                if vals.len() != t.columns.len() {
                    return Err(format!("line {}: {} fields for {} columns", n + 2, vals.len(), t.columns.len()));
                }
                let mut row = Vec::with_capacity(vals.len());
                for (v, c) in vals.iter().zip(&t.columns) {
                    row.push(match unescape(v) {
                        None => Value::Null,
                        Some(s) => Value::parse(&s, c.ty).map_err(|e| e.message)?,
                    });
                }
                t.rows.push(row);
            }
            "" => {}
            other => return Err(format!("line {}: unknown record {other}", n + 2)),
        }
    }
    Ok(t)
}

/// Write `data` to `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        let _ = f.sync_all();
    }
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::parser::parse_expr;

    #[test]
    fn tables_round_trip() {
        let t = Table {
            name: "My Table".into(),
            oid: 16390,
            owner: "postgres".into(),
            columns: vec![
                Column {
                    name: "id".into(),
                    ty: Type::Int4,
                    not_null: true,
                    seq: Some(2),
                    default: Some(parse_expr("nextval('t_id_seq')").unwrap()),
                },
                Column {
                    name: "note".into(),
                    ty: Type::Varchar(Some(20)),
                    not_null: false,
                    seq: None,
                    default: Some(parse_expr("'x'").unwrap()),
                },
                Column {
                    name: "at".into(),
                    ty: Type::Timestamp,
                    not_null: false,
                    seq: None,
                    default: Some(parse_expr("now()").unwrap()),
                },
            ],
            rows: vec![
                vec![Value::Int(1), Value::Text("tab\there\nline \\ x".into()), Value::Null],
                vec![Value::Int(2), Value::Null, Value::Timestamp(1_000_000)],
            ],
            pk: Some(vec![0]),
            uniques: vec![vec![1]],
            version: 3,
        };
        let text = encode(&t);
        let back = decode(&text).unwrap();
        assert_eq!(back.name, t.name);
        assert_eq!(back.rows, t.rows);
        assert_eq!(back.columns[0].seq, Some(2));
        assert_eq!(back.columns[1].ty, Type::Varchar(Some(20)));
        assert_eq!(back.columns[0].default.as_ref().unwrap().to_string(), "nextval('t_id_seq'::regclass)");
        assert_eq!(back.columns[2].default.as_ref().unwrap().to_string(), "now()");
        assert_eq!(back.pk, Some(vec![0]));
        assert_eq!(encode(&back), text);
        assert_eq!(file_name("My Table"), "%4dy%20%54able");
    }
}
