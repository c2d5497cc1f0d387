//! The types of `$n` parameters of a prepared statement, from where they are used (what
//! ParameterDescription answers): compared with or assigned to a column, its type; a LIMIT,
//! bigint; otherwise text.

use std::collections::BTreeMap;

use crate::sql::ast::{Expr, InsertSource, SelectItem, Stmt};
use crate::sql::engine::{Engine, Session};
use crate::sql::eval::{type_of, ColInfo, Ctx, Env};
use crate::sql::value::{Type, Value};

pub fn infer(e: &Engine, s: &Session, stmt: Option<&Stmt>, n: usize) -> Vec<Type> {
    let mut found: BTreeMap<usize, Type> = BTreeMap::new();
    let params = vec![Value::Null; n];
    let env =
        Env { now: 0, database: String::new(), user: String::new(), version: String::new(), pid: 0, start_time: 0 };
    let cols_of = |table: &str, alias: Option<&str>| e.table(s, table).map(|t| t.col_infos(alias)).unwrap_or_default();
    match stmt {
        Some(Stmt::Select(sel)) => {
            let cols = sel.from.as_ref().map(|(t, a)| cols_of(t, a.as_deref())).unwrap_or_default();
            let ctx = Ctx { cols: &cols, params: &params, env: &env };
            for it in &sel.items {
                if let SelectItem::Expr(x, _) = it {
                    walk(x, &ctx, None, &mut found);
                }
            }
            for x in sel.where_.iter().chain(sel.having.iter()).chain(sel.group_by.iter()) {
                walk(x, &ctx, None, &mut found);
            }
            for x in sel.limit.iter().chain(sel.offset.iter()) {
                walk(x, &ctx, Some(Type::Int8), &mut found);
            }
        }
        Some(Stmt::Insert(ins)) => {
            let cols = cols_of(&ins.table, None);
            let targets: Vec<Type> = match &ins.columns {
                Some(names) => names
                    .iter()
                    .map(|n| cols.iter().find(|c| &c.name == n).map(|c| c.ty).unwrap_or(Type::Text))
                    .collect(),
                None => cols.iter().map(|c| c.ty).collect(),
            };
            let none: Vec<ColInfo> = vec![];
            let ctx = Ctx { cols: &none, params: &params, env: &env };
            if let InsertSource::Values(rows) = &ins.source {
                for r in rows {
                    for (i, x) in r.iter().enumerate() {
                        if let Some(x) = x {
                            walk(x, &ctx, targets.get(i).copied(), &mut found);
                        }
                    }
                }
            }
        }
        Some(Stmt::Update(up)) => {
            let cols = cols_of(&up.table, up.alias.as_deref());
            let ctx = Ctx { cols: &cols, params: &params, env: &env };
            for (name, x) in &up.sets {
                if let Some(x) = x {
                    walk(x, &ctx, cols.iter().find(|c| &c.name == name).map(|c| c.ty), &mut found);
                }
            }
            if let Some(w) = &up.where_ {
                walk(w, &ctx, None, &mut found);
            }
        }
        Some(Stmt::Delete(del)) => {
            let cols = cols_of(&del.table, del.alias.as_deref());
            let ctx = Ctx { cols: &cols, params: &params, env: &env };
            if let Some(w) = &del.where_ {
                walk(w, &ctx, None, &mut found);
            }
        }
        _ => {}
    }
    (1..=n)
        .map(|i| found.get(&i).copied().unwrap_or(Type::Text))
        .map(|t| if t == Type::Unknown { Type::Text } else { t })
        .collect()
}

fn known(x: &Expr, ctx: &Ctx) -> Option<Type> {
    match x {
        Expr::Param(_) => None,
        x => type_of(x, ctx).ok().filter(|t| *t != Type::Unknown),
    }
}

fn walk(x: &Expr, ctx: &Ctx, hint: Option<Type>, found: &mut BTreeMap<usize, Type>) {
    match x {
        Expr::Param(n) => {
            found.entry(*n).or_insert(hint.unwrap_or(Type::Text));
        }
        Expr::Binary(_, a, b) => {
            walk(a, ctx, known(b, ctx), found);
            walk(b, ctx, known(a, ctx), found);
        }
        Expr::InList { expr, list, .. } => {
            let h = known(expr, ctx);
            walk(expr, ctx, None, found);
            for i in list {
                walk(i, ctx, h, found);
            }
        }
        Expr::Between { expr, lo, hi, .. } => {
            let h = known(expr, ctx);
            walk(expr, ctx, None, found);
            walk(lo, ctx, h, found);
            walk(hi, ctx, h, found);
        }
        Expr::Like { expr, pattern, .. } => {
            walk(expr, ctx, Some(Type::Text), found);
            walk(pattern, ctx, Some(Type::Text), found);
        }
        Expr::Cast(inner, t) => walk(inner, ctx, Some(*t), found),
        Expr::Neg(a) | Expr::Not(a) | Expr::IsNull(a, _) | Expr::IsBool(a, _, _) => walk(a, ctx, hint, found),
        Expr::Func { args, .. } => {
            for a in args {
                walk(a, ctx, None, found);
            }
        }
        Expr::Case { operand, whens, else_ } => {
            if let Some(o) = operand {
                walk(o, ctx, None, found);
            }
            for (w, t) in whens {
                walk(w, ctx, None, found);
                walk(t, ctx, hint, found);
            }
            if let Some(e) = else_ {
                walk(e, ctx, hint, found);
            }
        }
        _ => {}
    }
}
