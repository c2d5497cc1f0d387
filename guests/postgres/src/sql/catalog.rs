//! psql's catalog queries. psql's backslash commands (`\dt`, `\d`, `\d name`, `\l`, `\dn`,
//! `\du`) send fixed queries against `pg_catalog` with joins this engine does not run; they
//! are recognized by their shape and answered from the engine's own tables. Any other query
//! that reads `pg_catalog` gets an empty answer (psql's optional footers: policies,
//! statistics, publications, inheritance).

use super::engine::{Engine, OutCol, Outcome, Session, Table};
use super::value::Type;
use crate::regex::Regex;

/// psql 15's `\l`.
pub const PSQL_LIST_DATABASES: &str = "SELECT d.datname as \"Name\",
       pg_catalog.pg_get_userbyid(d.datdba) as \"Owner\",
       pg_catalog.pg_encoding_to_char(d.encoding) as \"Encoding\",
       d.datcollate as \"Collate\",
       d.datctype as \"Ctype\",
       d.daticulocale as \"ICU Locale\",
       CASE d.datlocprovider WHEN 'c' THEN 'libc' WHEN 'i' THEN 'icu' END AS \"Locale Provider\",
       pg_catalog.array_to_string(d.datacl, E'\\n') AS \"Access privileges\"
FROM pg_catalog.pg_database d
ORDER BY 1;";

/// psql 15's `\dn`.
pub const PSQL_LIST_SCHEMAS: &str = "SELECT n.nspname AS \"Name\",
  pg_catalog.pg_get_userbyid(n.nspowner) AS \"Owner\"
FROM pg_catalog.pg_namespace n
WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
ORDER BY 1;";

/// `\du`: the role list, already in the shape psql prints.
pub const PSQL_LIST_ROLES: &str = "SELECT r.rolname AS \"Role name\", 'Superuser' AS \"Attributes\", '{}' AS \"Member of\" FROM pg_catalog.pg_roles r WHERE r.rolname !~ '^pg_' ORDER BY 1;";

const RELATIONS_HEAD: &str = "SELECT n.nspname as \"Schema\",
  c.relname as \"Name\",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as \"Type\",
  pg_catalog.pg_get_userbyid(c.relowner) as \"Owner\"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
";

/// psql's pattern (`us*`, `users`) as the regular expression psql sends.
pub fn pattern_regex(p: &str) -> String {
    let mut r = String::new();
    for c in p.trim_matches('"').chars() {
        match c {
            '*' => r.push_str(".*"),
            '?' => r.push('.'),
            '.' | '$' | '^' | '(' | ')' | '[' | ']' | '+' | '|' | '{' | '}' | '\\' => {
                r.push('\\');
                r.push(c);
            }
            c => r.extend(c.to_lowercase()),
        }
    }
    format!("^({r})$")
}

/// psql 15's `\dt [PATTERN]`.
pub fn psql_list_tables(pattern: Option<&str>) -> String {
    match pattern {
        None => format!(
            "{RELATIONS_HEAD}WHERE c.relkind IN ('r','p','')\n      AND n.nspname <> 'pg_catalog'\n      AND n.nspname !~ '^pg_toast'\n      AND n.nspname <> 'information_schema'\n  AND pg_catalog.pg_table_is_visible(c.oid)\nORDER BY 1,2;"
        ),
        Some(p) => format!(
            "{RELATIONS_HEAD}WHERE c.relkind IN ('r','p','t','s','')\n  AND c.relname OPERATOR(pg_catalog.~) '{}' COLLATE pg_catalog.default\n  AND pg_catalog.pg_table_is_visible(c.oid)\nORDER BY 1,2;",
            pattern_regex(p).replace('\'', "''")
        ),
    }
}

/// psql 15's `\d` (no name).
pub fn psql_list_relations() -> String {
    format!("{RELATIONS_HEAD}WHERE c.relkind IN ('r','p','v','m','S','f','')\n      AND n.nspname <> 'pg_catalog'\n      AND n.nspname !~ '^pg_toast'\n      AND n.nspname <> 'information_schema'\n  AND pg_catalog.pg_table_is_visible(c.oid)\nORDER BY 1,2;")
}

/// The column query of psql 15's `\d NAME` (with the relation named instead of its OID).
pub fn psql_describe_columns(name: &str) -> String {
    format!(
        "SELECT a.attname,\n  pg_catalog.format_type(a.atttypid, a.atttypmod),\n  (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true)\n   FROM pg_catalog.pg_attrdef d\n   WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),\n  a.attnotnull,\n  NULL AS attcollation,\n  ''::pg_catalog.char AS attidentity,\n  ''::pg_catalog.char AS attgenerated\nFROM pg_catalog.pg_attribute a\nWHERE a.attrelid = '{}'::pg_catalog.regclass AND a.attnum > 0 AND NOT a.attisdropped\nORDER BY a.attnum;",
        name.replace('\'', "''")
    )
}

/// The index query of psql 15's `\d NAME`.
pub fn psql_describe_indexes(name: &str) -> String {
    format!(
        "SELECT c2.relname, i.indisprimary, i.indisunique, i.indisclustered, i.indisvalid, pg_catalog.pg_get_indexdef(i.indexrelid, 0, true),\n  pg_catalog.pg_get_constraintdef(con.oid, true), contype, condeferrable, condeferred, i.indisreplident, c2.reltablespace\nFROM pg_catalog.pg_class c, pg_catalog.pg_class c2, pg_catalog.pg_index i\n  LEFT JOIN pg_catalog.pg_constraint con ON (conrelid = i.indrelid AND conindid = i.indexrelid AND contype IN ('p','u','x'))\nWHERE c.oid = '{}'::pg_catalog.regclass AND c.oid = i.indrelid AND i.indexrelid = c2.oid\nORDER BY i.indisprimary DESC, c2.relname;",
        name.replace('\'', "''")
    )
}

fn col(name: &str, ty: Type) -> OutCol {
    OutCol { name: name.into(), ty }
}

fn rows(cols: Vec<OutCol>, rows: Vec<Vec<Option<String>>>) -> Outcome {
    let n = rows.len();
    Outcome::Rows { cols, rows, tag: format!("SELECT {n}") }
}

fn st(x: &str) -> Option<String> {
    Some(x.to_string())
}

fn b(x: bool) -> Option<String> {
    st(if x { "t" } else { "f" })
}

/// The first `'…'` literal after `marker` (a regex, an OID, a name).
fn literal_after(sql: &str, marker: &str) -> Option<String> {
    let at = sql.find(marker)? + marker.len();
    let rest = &sql[at..];
    let start = rest.find('\'')? + 1;
    let mut out = String::new();
    let mut it = rest[start..].chars().peekable();
    while let Some(c) = it.next() {
        if c == '\'' {
            if it.peek() == Some(&'\'') {
                it.next();
                out.push('\'');
                continue;
            }
            return Some(out);
        }
        out.push(c);
    }
    None
}

/// The table a `'16385'` or `'name'::regclass` literal names.
fn table_by_ref<'a>(e: &'a Engine, s: &'a Session, r: &str) -> Option<&'a Table> {
    let tables = e.visible_tables(s);
    match r.parse::<u32>() {
        Ok(oid) => tables.into_iter().find(|t| t.oid == oid),
        Err(_) => {
            let name = r.rsplit('.').next().unwrap_or(r).trim_matches('"');
            tables.into_iter().find(|t| t.name == name || t.name == name.to_lowercase())
        }
    }
}

/// The sequences behind serial columns: (sequence name, owner).
fn sequences(t: &Table) -> Vec<String> {
    t.columns.iter().filter(|c| c.seq.is_some()).map(|c| format!("{}_{}_seq", t.name, c.name)).collect()
}

pub fn answer(e: &Engine, s: &Session, sql: &str) -> Option<Outcome> {
    let lower = sql.to_ascii_lowercase();
    if !lower.contains("pg_catalog.") {
        return None;
    }
    let t = lower.trim_start();
    if !t.starts_with("select") {
        return None;
    }
    // \dt, \d, \dt PATTERN
    if sql.contains("as \"Schema\"") && sql.contains("FROM pg_catalog.pg_class c") && sql.contains("c.relkind IN (") {
        let kinds = literal_after(sql, "c.relkind IN (").unwrap_or_default();
        let kinds_all = sql.split("c.relkind IN (").nth(1).and_then(|r| r.split(')').next()).unwrap_or("");
        let want_tables = kinds == "r" || kinds_all.contains("'r'");
        let want_seqs = kinds_all.contains("'S'");
        let re = literal_after(sql, "c.relname OPERATOR(pg_catalog.~)").and_then(|p| Regex::new(&p, false).ok());
        let mut out: Vec<(String, &str, String)> = Vec::new();
        for t in e.visible_tables(s) {
            if want_tables {
                out.push((t.name.clone(), "table", t.owner.clone()));
            }
            if want_seqs {
                for q in sequences(t) {
                    out.push((q, "sequence", t.owner.clone()));
                }
            }
        }
        out.retain(|(n, _, _)| re.as_ref().is_none_or(|r| r.is_match(n)));
        out.sort();
        return Some(rows(
            vec![col("Schema", Type::Name), col("Name", Type::Name), col("Type", Type::Text), col("Owner", Type::Name)],
            out.into_iter().map(|(n, k, o)| vec![st("public"), Some(n), st(k), Some(o)]).collect(),
        ));
    }
    // \d NAME, first step: which relations match.
    if sql.contains("SELECT c.oid,") && sql.contains("c.relname OPERATOR(pg_catalog.~)") {
        let re = literal_after(sql, "c.relname OPERATOR(pg_catalog.~)").and_then(|p| Regex::new(&p, false).ok())?;
        let mut found: Vec<&Table> = e.visible_tables(s).into_iter().filter(|t| re.is_match(&t.name)).collect();
        found.sort_by(|a, b| a.name.cmp(&b.name));
        return Some(rows(
            vec![col("oid", Type::Oid), col("nspname", Type::Name), col("relname", Type::Name)],
            found.into_iter().map(|t| vec![Some(t.oid.to_string()), st("public"), Some(t.name.clone())]).collect(),
        ));
    }
    // \d NAME: the table's kind and flags.
    if sql.contains("c.relchecks, c.relkind, c.relhasindex") {
        let r = literal_after(sql, "WHERE c.oid =")?;
        let Some(t) = table_by_ref(e, s, &r) else {
            return Some(rows(vec![], vec![]));
        };
        let has_index = t.pk.is_some() || !t.uniques.is_empty();
        let names = [
            "relchecks",
            "relkind",
            "relhasindex",
            "relhasrules",
            "relhastriggers",
            "relrowsecurity",
            "relforcerowsecurity",
            "relhasoids",
            "relispartition",
            "array_to_string",
            "reltablespace",
            "reloftype",
            "relpersistence",
            "relreplident",
            "amname",
        ];
        let cols = names.iter().map(|n| col(n, Type::Text)).collect();
        let row = vec![
            st("0"),
            st("r"),
            b(has_index),
            b(false),
            b(false),
            b(false),
            b(false),
            b(false),
            b(false),
            st(""),
            st("0"),
            st(""),
            st("p"),
            st("d"),
            st("heap"),
        ];
        return Some(rows(cols, vec![row]));
    }
    // \d NAME: columns.
    if sql.contains("a.attname") && sql.contains("pg_catalog.format_type(a.atttypid, a.atttypmod)") {
        let r = literal_after(sql, "a.attrelid =")?;
        let cols = vec![
            col("attname", Type::Name),
            col("format_type", Type::Text),
            col("pg_get_expr", Type::Text),
            col("attnotnull", Type::Bool),
            col("attcollation", Type::Name),
            col("attidentity", Type::Text),
            col("attgenerated", Type::Text),
        ];
        let Some(t) = table_by_ref(e, s, &r) else {
            return Some(rows(cols, vec![]));
        };
        let body = t
            .columns
            .iter()
            .map(|c| {
                vec![
                    Some(c.name.clone()),
                    Some(c.ty.sql_name()),
                    c.default.as_ref().map(|d| d.to_string()),
                    b(c.not_null),
                    None,
                    st(""),
                    st(""),
                ]
            })
            .collect();
        return Some(rows(cols, body));
    }
    // \d NAME: indexes (the primary key and unique constraints).
    if sql.contains("c2.relname, i.indisprimary, i.indisunique") {
        let r = literal_after(sql, "WHERE c.oid =")?;
        let names = [
            "relname",
            "indisprimary",
            "indisunique",
            "indisclustered",
            "indisvalid",
            "pg_get_indexdef",
            "pg_get_constraintdef",
            "contype",
            "condeferrable",
            "condeferred",
            "indisreplident",
            "reltablespace",
        ];
        let cols = names.iter().map(|n| col(n, Type::Text)).collect();
        let Some(t) = table_by_ref(e, s, &r) else {
            return Some(rows(cols, vec![]));
        };
        let mut body = Vec::new();
        let mut keys: Vec<(Vec<usize>, bool)> = Vec::new();
        if let Some(pk) = &t.pk {
            keys.push((pk.clone(), true));
        }
        for u in &t.uniques {
            keys.push((u.clone(), false));
        }
        for (k, pk) in keys {
            let name = t.constraint_name(&k, pk);
            let cols: Vec<&str> = k.iter().map(|&i| t.columns[i].name.as_str()).collect();
            let list = cols.join(", ");
            body.push(vec![
                Some(name.clone()),
                b(pk),
                b(true),
                b(false),
                b(true),
                Some(format!("CREATE UNIQUE INDEX {name} ON public.{} USING btree ({list})", t.name)),
                Some(format!("{} ({list})", if pk { "PRIMARY KEY" } else { "UNIQUE" })),
                st(if pk { "p" } else { "u" }),
                b(false),
                b(false),
                b(false),
                st("0"),
            ]);
        }
        return Some(rows(cols, body));
    }
    // \l
    if sql.contains("FROM pg_catalog.pg_database d") && sql.contains("\"Name\"") {
        let names =
            ["Name", "Owner", "Encoding", "Collate", "Ctype", "ICU Locale", "Locale Provider", "Access privileges"];
        let cols = names
            .iter()
            .map(|n| {
                col(
                    n,
                    if *n == "Name" || *n == "Owner" || *n == "Collate" || *n == "Ctype" {
                        Type::Name
                    } else {
                        Type::Text
                    },
                )
            })
            .collect();
        let owner = e.users.values().find(|u| u.oid == 10).map(|u| u.name.clone()).unwrap_or_else(|| "postgres".into());
        let body = e
            .dbs
            .keys()
            .map(|d| {
                let acl = if d.starts_with("template") {
                    Some(format!("={}/{owner}\n{owner}=CTc/{owner}", "c"))
                } else {
                    None
                };
                vec![
                    Some(d.clone()),
                    Some(owner.clone()),
                    st("UTF8"),
                    st("en_US.utf8"),
                    st("en_US.utf8"),
                    None,
                    st("libc"),
                    acl,
                ]
            })
            .collect();
        return Some(rows(cols, body));
    }
    // \dn
    if sql.contains("FROM pg_catalog.pg_namespace n") && sql.contains("AS \"Name\"") {
        return Some(rows(
            vec![col("Name", Type::Name), col("Owner", Type::Name)],
            vec![vec![st("public"), st("pg_database_owner")]],
        ));
    }
    // \du (psql 15's own query, and the image psql's simpler one)
    if sql.contains("FROM pg_catalog.pg_roles r") {
        if sql.contains("\"Role name\"") {
            return Some(rows(
                vec![col("Role name", Type::Name), col("Attributes", Type::Text), col("Member of", Type::Text)],
                e.users
                    .values()
                    .map(|u| {
                        vec![
                            Some(u.name.clone()),
                            st(if u.superuser {
                                "Superuser, Create role, Create DB, Replication, Bypass RLS"
                            } else {
                                ""
                            }),
                            st("{}"),
                        ]
                    })
                    .collect(),
            ));
        }
        let names = [
            "rolname",
            "rolsuper",
            "rolinherit",
            "rolcreaterole",
            "rolcreatedb",
            "rolcanlogin",
            "rolconnlimit",
            "rolvaliduntil",
            "memberof",
            "rolreplication",
            "rolbypassrls",
        ];
        let types = [
            Type::Name,
            Type::Bool,
            Type::Bool,
            Type::Bool,
            Type::Bool,
            Type::Bool,
            Type::Int4,
            Type::TimestampTz,
            Type::Text,
            Type::Bool,
            Type::Bool,
        ];
        let cols = names.iter().zip(types).map(|(n, t)| col(n, t)).collect();
        let body = e
            .users
            .values()
            .map(|u| {
                vec![
                    Some(u.name.clone()),
                    b(u.superuser),
                    b(true),
                    b(u.superuser),
                    b(u.superuser),
                    b(true),
                    st("-1"),
                    None,
                    st("{}"),
                    b(u.superuser),
                    b(u.superuser),
                ]
            })
            .collect();
        return Some(rows(cols, body));
    }
    // Anything else psql asks pg_catalog for: nothing to show.
    if lower.contains("from pg_catalog.") {
        return Some(rows(vec![], vec![]));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (Engine, Session) {
        let mut e = Engine::new(None, "15.0 (skiff)", 0);
        e.create_database("postgres", false).unwrap();
        let mut s = e.session("postgres", "postgres");
        e.query(&mut s, "CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL, email varchar(50) UNIQUE, at timestamp DEFAULT now()); CREATE TABLE orders (n int)", 0);
        (e, s)
    }

    fn table_rows(o: Option<Outcome>) -> Vec<Vec<Option<String>>> {
        match o {
            Some(Outcome::Rows { rows, .. }) => rows,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn list_tables_like_psql() {
        let (e, s) = setup();
        let r = table_rows(answer(&e, &s, &psql_list_tables(None)));
        assert_eq!(r.len(), 2);
        assert_eq!(r[0], vec![s_("public"), s_("orders"), s_("table"), s_("postgres")]);
        let r = table_rows(answer(&e, &s, &psql_list_tables(Some("us*"))));
        assert_eq!(r.len(), 1);
        let r = table_rows(answer(&e, &s, &psql_list_relations()));
        assert_eq!(
            r.iter().map(|x| x[1].clone().unwrap()).collect::<Vec<_>>(),
            vec!["orders", "users", "users_id_seq"]
        );
    }

    fn s_(x: &str) -> Option<String> {
        Some(x.into())
    }

    #[test]
    fn describe_a_table() {
        let (e, s) = setup();
        let r = table_rows(answer(&e, &s, &psql_describe_columns("users")));
        assert_eq!(
            r[0],
            vec![s_("id"), s_("integer"), s_("nextval('users_id_seq'::regclass)"), s_("t"), None, s_(""), s_("")]
        );
        assert_eq!(r[2][1], s_("character varying(50)"));
        assert_eq!(r[3][2], s_("now()"));
        let r = table_rows(answer(&e, &s, &psql_describe_indexes("users")));
        assert_eq!(r.len(), 2);
        assert_eq!(r[0][6], s_("PRIMARY KEY (id)"));
        assert_eq!(r[1][0], s_("users_email_key"));
        let r = table_rows(answer(&e, &s, "SELECT c.oid,\n  n.nspname,\n  c.relname\nFROM pg_catalog.pg_class c\n     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\nWHERE c.relname OPERATOR(pg_catalog.~) '^(users)$' COLLATE pg_catalog.default\n  AND pg_catalog.pg_table_is_visible(c.oid)\nORDER BY 2, 3;"));
        assert_eq!(r.len(), 1);
        let oid = r[0][0].clone().unwrap();
        let info = table_rows(answer(&e, &s, &format!("SELECT c.relchecks, c.relkind, c.relhasindex, c.relhasrules FROM pg_catalog.pg_class c WHERE c.oid = '{oid}';")));
        assert_eq!(info[0].len(), 15);
        assert_eq!(info[0][2], s_("t"));
        assert!(answer(&e, &s, "SELECT 1").is_none());
        assert_eq!(
            table_rows(answer(&e, &s, "SELECT pol.polname FROM pg_catalog.pg_policy pol WHERE pol.polrelid = '1'"))
                .len(),
            0
        );
    }

    #[test]
    fn patterns() {
        assert_eq!(pattern_regex("us*"), "^(us.*)$");
        assert_eq!(pattern_regex("Users"), "^(users)$");
    }
}
