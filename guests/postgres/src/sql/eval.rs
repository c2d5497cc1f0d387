//! Expressions: their types (checked before a statement touches any row, so a misspelt
//! column fails even on an empty table) and their values, with SQL's three-valued logic.

use std::cmp::Ordering;

use super::ast::{is_aggregate, BinOp, Expr};
use super::value::{format_timestamp, Decimal, Type, Value};
use super::Error;

/// A column a row has, as expressions name it.
#[derive(Debug, Clone)]
pub struct ColInfo {
    /// The table's name or alias (for `t.col`).
    pub table: Option<String>,
    pub name: String,
    pub ty: Type,
}

/// What functions like `now()` and `version()` answer.
#[derive(Debug, Clone)]
pub struct Env {
    /// The statement's (the transaction's) time, PostgreSQL microseconds.
    pub now: i64,
    pub database: String,
    pub user: String,
    pub version: String,
    pub pid: i32,
    pub start_time: i64,
}

pub struct Ctx<'a> {
    pub cols: &'a [ColInfo],
    pub params: &'a [Value],
    pub env: &'a Env,
}

type R<T> = Result<T, Error>;

impl Ctx<'_> {
    fn column(&self, table: &Option<String>, name: &str, pos: usize) -> R<usize> {
        if let Some(t) = table {
            if !self.cols.iter().any(|c| c.table.as_deref() == Some(t.as_str())) {
                return Err(Error::new("42P01", format!("missing FROM-clause entry for table \"{t}\"")).at(pos));
            }
        }
        self.cols.iter().position(|c| c.name == name && (table.is_none() || c.table == *table)).ok_or_else(|| {
            match table {
                Some(t) => Error::new("42703", format!("column {t}.{name} does not exist")).at(pos),
                None => Error::new("42703", format!("column \"{name}\" does not exist")).at(pos),
            }
        })
    }

    fn param(&self, n: usize) -> R<&Value> {
        if n == 0 || n > self.params.len() {
            return Err(Error::new("42P02", format!("there is no parameter ${n}")));
        }
        Ok(&self.params[n - 1])
    }
}

fn no_operator(op: &str, a: Type, b: Type) -> Error {
    Error::new("42883", format!("operator does not exist: {} {op} {}", a.short_name(), b.short_name()))
        .hint("No operator matches the given name and argument types. You might need to add explicit type casts.")
}

fn family(t: Type) -> u8 {
    if t.is_numeric() {
        1
    } else if t.is_text() {
        2
    } else if t == Type::Bool {
        3
    } else if t.is_time() {
        4
    } else {
        5
    }
}

/// The type of `e` over `ctx`'s columns (and whether every column it names exists).
pub fn type_of(e: &Expr, ctx: &Ctx) -> R<Type> {
    Ok(match e {
        Expr::Lit(_, t) => *t,
        Expr::Column { table, name, pos } => ctx.cols[ctx.column(table, name, *pos)?].ty,
        Expr::Param(n) => {
            ctx.param(*n)?;
            Type::Unknown
        }
        Expr::Neg(x) => {
            let t = type_of(x, ctx)?;
            if !t.is_numeric() && t != Type::Unknown {
                return Err(Error::new("42883", format!("operator does not exist: - {}", t.short_name())));
            }
            if t == Type::Unknown {
                Type::Int4
            } else {
                t
            }
        }
        Expr::Not(x) => {
            bool_arg(type_of(x, ctx)?, "NOT")?;
            Type::Bool
        }
        Expr::Binary(op, a, b) => {
            let (ta, tb) = (type_of(a, ctx)?, type_of(b, ctx)?);
            match op {
                BinOp::And | BinOp::Or => {
                    bool_arg(ta, op.symbol())?;
                    bool_arg(tb, op.symbol())?;
                    Type::Bool
                }
                BinOp::Concat => Type::Text,
                BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod | BinOp::Pow => {
                    let ok = |t: Type| t.is_numeric() || t == Type::Unknown;
                    if !ok(ta) || !ok(tb) {
                        return Err(no_operator(op.symbol(), ta, tb));
                    }
                    if *op == BinOp::Pow {
                        if ta == Type::Numeric || tb == Type::Numeric {
                            Type::Numeric
                        } else {
                            Type::Float8
                        }
                    } else {
                        Type::arith(ta, tb)
                    }
                }
                _ => {
                    if ta != Type::Unknown && tb != Type::Unknown && family(ta) != family(tb) {
                        return Err(no_operator(op.symbol(), ta, tb));
                    }
                    Type::Bool
                }
            }
        }
        Expr::IsNull(x, _) => {
            type_of(x, ctx)?;
            Type::Bool
        }
        Expr::IsBool(x, _, _) => {
            bool_arg(type_of(x, ctx)?, "IS TRUE")?;
            Type::Bool
        }
        Expr::InList { expr, list, .. } => {
            let t = type_of(expr, ctx)?;
            for x in list {
                let tx = type_of(x, ctx)?;
                if t != Type::Unknown && tx != Type::Unknown && family(t) != family(tx) {
                    return Err(no_operator("=", t, tx));
                }
            }
            Type::Bool
        }
        Expr::Between { expr, lo, hi, .. } => {
            type_of(expr, ctx)?;
            type_of(lo, ctx)?;
            type_of(hi, ctx)?;
            Type::Bool
        }
        Expr::Like { expr, pattern, ci, .. } => {
            let t = type_of(expr, ctx)?;
            type_of(pattern, ctx)?;
            if !t.is_text() {
                return Err(no_operator(if *ci { "~~*" } else { "~~" }, t, Type::Unknown));
            }
            Type::Bool
        }
        Expr::Cast(x, t) => {
            type_of(x, ctx)?;
            *t
        }
        Expr::Case { operand, whens, else_ } => {
            if let Some(o) = operand {
                type_of(o, ctx)?;
            }
            let mut ty = Type::Unknown;
            for (w, t) in whens {
                type_of(w, ctx)?;
                let tt = type_of(t, ctx)?;
                if ty == Type::Unknown {
                    ty = tt;
                } else if tt.is_numeric() && ty.is_numeric() {
                    ty = Type::arith(ty, tt);
                }
            }
            if let Some(e) = else_ {
                let tt = type_of(e, ctx)?;
                if ty == Type::Unknown {
                    ty = tt;
                }
            }
            if ty == Type::Unknown {
                Type::Text
            } else {
                ty
            }
        }
        Expr::Func { name, args, star, pos, .. } => func_type(name, args, *star, *pos, ctx)?,
    })
}

fn bool_arg(t: Type, what: &str) -> R<()> {
    if t != Type::Bool && t != Type::Unknown {
        return Err(Error::new(
            "42804",
            format!("argument of {what} must be type boolean, not type {}", t.short_name()),
        ));
    }
    Ok(())
}

fn func_type(name: &str, args: &[Expr], star: bool, pos: usize, ctx: &Ctx) -> R<Type> {
    let mut types = Vec::new();
    for a in args {
        if a.contains_aggregate() && is_aggregate(name) {
            return Err(Error::new("42803", "aggregate function calls cannot be nested").at(pos));
        }
        types.push(type_of(a, ctx)?);
    }
    let arity = |n: usize| -> R<()> {
        if types.len() != n {
            return Err(no_function(name, &types, pos));
        }
        Ok(())
    };
    let first = types.first().copied().unwrap_or(Type::Unknown);
    Ok(match name {
        "count" => {
            if !star {
                arity(1)?;
            }
            Type::Int8
        }
        "sum" => {
            arity(1)?;
            match first {
                Type::Int2 | Type::Int4 => Type::Int8,
                Type::Int8 | Type::Numeric => Type::Numeric,
                Type::Float4 => Type::Float4,
                Type::Float8 | Type::Unknown => Type::Float8,
                t => return Err(no_function(name, &[t], pos)),
            }
        }
        "avg" => {
            arity(1)?;
            match first {
                Type::Int2 | Type::Int4 | Type::Int8 | Type::Numeric => Type::Numeric,
                Type::Float4 | Type::Float8 | Type::Unknown => Type::Float8,
                t => return Err(no_function(name, &[t], pos)),
            }
        }
        "min" | "max" => {
            arity(1)?;
            if first == Type::Unknown {
                Type::Text
            } else {
                first
            }
        }
        "bool_and" | "bool_or" | "every" => Type::Bool,
        "string_agg" => Type::Text,
        "now"
        | "current_timestamp"
        | "transaction_timestamp"
        | "statement_timestamp"
        | "clock_timestamp"
        | "pg_postmaster_start_time" => Type::TimestampTz,
        "localtimestamp" => Type::Timestamp,
        "current_date" => Type::Date,
        "version" | "current_database" | "current_user" | "current_schema" | "current_catalog" | "lower" | "upper"
        | "concat" | "concat_ws" | "substr" | "substring" | "trim" | "btrim" | "ltrim" | "rtrim" | "replace"
        | "md5" | "repeat" | "left" | "right" | "reverse" | "initcap" | "lpad" | "rpad" | "gen_random_uuid"
        | "split_part" | "format_type" | "pg_get_userbyid" | "to_char" => Type::Text,
        "length" | "char_length" | "character_length" | "octet_length" | "position" | "strpos" | "pg_backend_pid" => {
            Type::Int4
        }
        "nextval" | "currval" => Type::Int8,
        "random" => Type::Float8,
        "abs" | "ceil" | "ceiling" | "floor" | "sign" => {
            arity(1)?;
            if first.is_numeric() {
                first
            } else {
                Type::Float8
            }
        }
        "round" | "trunc" => {
            if first == Type::Float8 || first == Type::Float4 {
                if types.len() == 2 {
                    return Err(no_function(name, &types, pos));
                }
                Type::Float8
            } else {
                Type::Numeric
            }
        }
        "sqrt" | "power" | "pow" | "exp" | "ln" | "log" => Type::Float8,
        "mod" => Type::arith(first, types.get(1).copied().unwrap_or(Type::Int4)),
        "coalesce" | "nullif" | "greatest" | "least" => {
            types.iter().copied().find(|t| *t != Type::Unknown).unwrap_or(Type::Text)
        }
        "regexp_ci" | "pg_table_is_visible" | "starts_with" => Type::Bool,
        _ => return Err(no_function(name, &types, pos)),
    })
}

fn no_function(name: &str, types: &[Type], pos: usize) -> Error {
    let args: Vec<String> =
        types.iter().map(|t| if *t == Type::Unknown { "unknown".into() } else { t.short_name() }).collect();
    Error::new("42883", format!("function {name}({}) does not exist", args.join(", ")))
        .hint("No function matches the given name and argument types. You might need to add explicit type casts.")
        .at(pos)
}

/// Evaluate `e` on one row; `group` is the group's rows when aggregates are being computed.
pub fn eval(e: &Expr, ctx: &Ctx, row: &[Value], group: Option<&[Vec<Value>]>) -> R<Value> {
    Ok(match e {
        Expr::Lit(v, _) => v.clone(),
        Expr::Column { table, name, pos } => row.get(ctx.column(table, name, *pos)?).cloned().unwrap_or(Value::Null),
        Expr::Param(n) => ctx.param(*n)?.clone(),
        Expr::Neg(x) => match eval(x, ctx, row, group)? {
            Value::Null => Value::Null,
            Value::Int(i) => Value::Int(i.checked_neg().ok_or_else(|| Error::new("22003", "integer out of range"))?),
            Value::Float(f) => Value::Float(-f),
            Value::Numeric(d) => Value::Numeric(d.neg()),
            Value::Text(s) => match Value::parse(&s, Type::Numeric)? {
                Value::Numeric(d) => Value::Numeric(d.neg()),
                v => v,
            },
            v => return Err(Error::new("42883", format!("operator does not exist: - {v:?}"))),
        },
        Expr::Not(x) => match truth(&eval(x, ctx, row, group)?)? {
            None => Value::Null,
            Some(b) => Value::Bool(!b),
        },
        Expr::Binary(BinOp::And, a, b) => {
            let x = truth(&eval(a, ctx, row, group)?)?;
            if x == Some(false) {
                return Ok(Value::Bool(false));
            }
            let y = truth(&eval(b, ctx, row, group)?)?;
            match (x, y) {
                (_, Some(false)) => Value::Bool(false),
                (Some(true), Some(true)) => Value::Bool(true),
                _ => Value::Null,
            }
        }
        Expr::Binary(BinOp::Or, a, b) => {
            let x = truth(&eval(a, ctx, row, group)?)?;
            if x == Some(true) {
                return Ok(Value::Bool(true));
            }
            let y = truth(&eval(b, ctx, row, group)?)?;
            match (x, y) {
                (_, Some(true)) => Value::Bool(true),
                (Some(false), Some(false)) => Value::Bool(false),
                _ => Value::Null,
            }
        }
        Expr::Binary(op, a, b) => {
            let ta = type_of(a, ctx)?;
            let tb = type_of(b, ctx)?;
            let x = eval(a, ctx, row, group)?;
            let y = eval(b, ctx, row, group)?;
            binary(*op, x, ta, y, tb)?
        }
        Expr::IsNull(x, neg) => Value::Bool(eval(x, ctx, row, group)?.is_null() != *neg),
        Expr::IsBool(x, neg, want) => {
            let v = truth(&eval(x, ctx, row, group)?)?;
            Value::Bool((v == Some(*want)) != *neg)
        }
        Expr::InList { expr, list, negated } => {
            let x = eval(expr, ctx, row, group)?;
            if x.is_null() {
                return Ok(Value::Null);
            }
            let mut saw_null = false;
            for item in list {
                let y = eval(item, ctx, row, group)?;
                match compare(&x, &y)? {
                    None => saw_null = true,
                    Some(Ordering::Equal) => return Ok(Value::Bool(!negated)),
                    _ => {}
                }
            }
            if saw_null {
                Value::Null
            } else {
                Value::Bool(*negated)
            }
        }
        Expr::Between { expr, lo, hi, negated } => {
            let x = eval(expr, ctx, row, group)?;
            let l = eval(lo, ctx, row, group)?;
            let h = eval(hi, ctx, row, group)?;
            match (compare(&x, &l)?, compare(&x, &h)?) {
                (Some(a), Some(b)) => Value::Bool((a != Ordering::Less && b != Ordering::Greater) != *negated),
                _ => Value::Null,
            }
        }
        Expr::Like { expr, pattern, negated, ci } => {
            let x = eval(expr, ctx, row, group)?;
            let p = eval(pattern, ctx, row, group)?;
            match (x, p) {
                (Value::Null, _) | (_, Value::Null) => Value::Null,
                (x, p) => {
                    let mut s = x.to_text(Type::Text).unwrap_or_default();
                    let mut p = p.to_text(Type::Text).unwrap_or_default();
                    if *ci {
                        s = s.to_lowercase();
                        p = p.to_lowercase();
                    }
                    Value::Bool(like(&s.chars().collect::<Vec<_>>(), &p.chars().collect::<Vec<_>>()) != *negated)
                }
            }
        }
        Expr::Cast(x, t) => {
            let v = eval(x, ctx, row, group)?;
            match (v, *t) {
                // A cast to varchar(n)/char(n) truncates instead of failing.
                (Value::Text(s), Type::Varchar(Some(n)) | Type::Char(n)) => {
                    Value::Text(s.chars().take(n as usize).collect())
                }
                (v, t) => v.cast(t)?,
            }
        }
        Expr::Case { operand, whens, else_ } => {
            let op = match operand {
                Some(o) => Some(eval(o, ctx, row, group)?),
                None => None,
            };
            for (w, t) in whens {
                let hit = match &op {
                    Some(o) => compare(o, &eval(w, ctx, row, group)?)? == Some(Ordering::Equal),
                    None => truth(&eval(w, ctx, row, group)?)? == Some(true),
                };
                if hit {
                    return eval(t, ctx, row, group);
                }
            }
            match else_ {
                Some(e) => eval(e, ctx, row, group)?,
                None => Value::Null,
            }
        }
        Expr::Func { name, args, star, distinct, pos } if is_aggregate(name) => {
            let Some(group) = group else {
                return Err(Error::new("42803", "aggregate functions are not allowed in WHERE").at(*pos));
            };
            aggregate(name, args, *star, *distinct, ctx, group)?
        }
        Expr::Func { name, args, pos, .. } => {
            let mut vals = Vec::with_capacity(args.len());
            for a in args {
                vals.push(eval(a, ctx, row, group)?);
            }
            let types: Vec<Type> = args.iter().map(|a| type_of(a, ctx)).collect::<R<_>>()?;
            function(name, vals, &types, ctx, *pos)?
        }
    })
}

/// A value as a boolean (NULL: None).
pub fn truth(v: &Value) -> R<Option<bool>> {
    Ok(match v {
        Value::Null => None,
        Value::Bool(b) => Some(*b),
        Value::Text(s) => match Value::parse(s, Type::Bool)? {
            Value::Bool(b) => Some(b),
            _ => None,
        },
        other => {
            return Err(Error::new(
                "42804",
                format!(
                    "argument of WHERE must be type boolean, not {}",
                    other.to_text(Type::Text).unwrap_or_default()
                ),
            ))
        }
    })
}

/// Compare two values, a string literal taking the other side's type; None when one is NULL.
pub fn compare(a: &Value, b: &Value) -> R<Option<Ordering>> {
    if a.is_null() || b.is_null() {
        return Ok(None);
    }
    if let Some(o) = a.compare(b) {
        return Ok(Some(o));
    }
    // One side is an untyped string: read it as the other's type.
    let (a2, b2) = match (a, b) {
        (Value::Text(s), other) => (coerce_like(s, other)?, b.clone()),
        (other, Value::Text(s)) => (a.clone(), coerce_like(s, other)?),
        _ => return Err(Error::new("42883", "operator does not exist for these types")),
    };
    Ok(a2.compare(&b2))
}

fn coerce_like(s: &str, other: &Value) -> R<Value> {
    let ty = match other {
        Value::Int(_) => {
            if s.contains('.') {
                Type::Numeric
            } else {
                Type::Int8
            }
        }
        Value::Float(_) => Type::Float8,
        Value::Numeric(_) => Type::Numeric,
        Value::Bool(_) => Type::Bool,
        Value::Timestamp(_) => Type::Timestamp,
        Value::Date(_) => Type::Date,
        _ => Type::Text,
    };
    Value::parse(s, ty)
}

fn binary(op: BinOp, x: Value, tx: Type, y: Value, ty: Type) -> R<Value> {
    if x.is_null() || y.is_null() {
        return Ok(Value::Null);
    }
    let cmp = |o: Option<Ordering>, f: fn(Ordering) -> bool| Value::Bool(o.map(f).unwrap_or(false));
    Ok(match op {
        BinOp::Eq => cmp(compare(&x, &y)?, |o| o == Ordering::Equal),
        BinOp::Ne => cmp(compare(&x, &y)?, |o| o != Ordering::Equal),
        BinOp::Lt => cmp(compare(&x, &y)?, |o| o == Ordering::Less),
        BinOp::Le => cmp(compare(&x, &y)?, |o| o != Ordering::Greater),
        BinOp::Gt => cmp(compare(&x, &y)?, |o| o == Ordering::Greater),
        BinOp::Ge => cmp(compare(&x, &y)?, |o| o != Ordering::Less),
        BinOp::Concat => {
            let mut s = x.to_text(tx).unwrap_or_default();
            s.push_str(&y.to_text(ty).unwrap_or_default());
            Value::Text(s)
        }
        BinOp::Match | BinOp::NotMatch => {
            let s = x.to_text(tx).unwrap_or_default();
            let p = y.to_text(ty).unwrap_or_default();
            let m = crate::regex::Regex::new(&p, false)
                .map_err(|e| Error::new("2201B", format!("invalid regular expression: {e}")))?
                .is_match(&s);
            Value::Bool(m != (op == BinOp::NotMatch))
        }
        _ => arith(op, x, tx, y, ty)?,
    })
}

fn num_operand(v: Value, t: Type, other: Type) -> R<Value> {
    match v {
        Value::Text(s) => {
            let want = if other == Type::Unknown
                || other.is_numeric() && !matches!(other, Type::Float4 | Type::Float8 | Type::Numeric)
            {
                if s.contains(['.', 'e', 'E']) {
                    Type::Numeric
                } else {
                    Type::Int8
                }
            } else {
                other
            };
            Value::parse(&s, want)
        }
        v => {
            let _ = t;
            Ok(v)
        }
    }
}

fn arith(op: BinOp, x: Value, tx: Type, y: Value, ty: Type) -> R<Value> {
    let result = if op == BinOp::Pow { Type::Float8 } else { Type::arith(tx, ty) };
    let x = num_operand(x, tx, ty)?;
    let y = num_operand(y, ty, tx)?;
    let overflow = || {
        Error::new(
            "22003",
            match result {
                Type::Int2 => "smallint out of range",
                Type::Int4 => "integer out of range",
                _ => "bigint out of range",
            },
        )
    };
    let div0 = || Error::new("22012", "division by zero");
    Ok(match (x, y) {
        (Value::Int(a), Value::Int(b)) if op != BinOp::Pow => {
            let r = match op {
                BinOp::Add => a.checked_add(b),
                BinOp::Sub => a.checked_sub(b),
                BinOp::Mul => a.checked_mul(b),
                BinOp::Div => {
                    if b == 0 {
                        return Err(div0());
                    }
                    a.checked_div(b)
                }
                BinOp::Mod => {
                    if b == 0 {
                        return Err(div0());
                    }
                    a.checked_rem(b)
                }
                _ => None,
            }
            .ok_or_else(overflow)?;
            let (lo, hi) = match result {
                Type::Int2 => (i16::MIN as i64, i16::MAX as i64),
                Type::Int4 => (i32::MIN as i64, i32::MAX as i64),
                _ => (i64::MIN, i64::MAX),
            };
            if r < lo || r > hi {
                return Err(overflow());
            }
            Value::Int(r)
        }
        (a, b)
            if result == Type::Numeric
                || (matches!(a, Value::Numeric(_)) && matches!(b, Value::Numeric(_) | Value::Int(_)))
                || (matches!(b, Value::Numeric(_)) && matches!(a, Value::Int(_))) =>
        {
            let (Value::Numeric(a), Value::Numeric(b)) = (a.cast(Type::Numeric)?, b.cast(Type::Numeric)?) else {
                return Err(overflow());
            };
            let r = match op {
                BinOp::Add => a.add(b),
                BinOp::Sub => a.sub(b),
                BinOp::Mul => a.mul(b),
                BinOp::Div => {
                    if b.mant == 0 {
                        return Err(div0());
                    }
                    a.div(b)
                }
                BinOp::Mod => {
                    if b.mant == 0 {
                        return Err(div0());
                    }
                    // a - trunc(a / b) * b
                    let s = a.scale.max(b.scale);
                    let (x, y) = (a.round(s), b.round(s));
                    Some(Decimal { mant: x.mant % y.mant, scale: s })
                }
                BinOp::Pow => return Ok(Value::Float(a.to_f64().powf(b.to_f64()))),
                _ => None,
            };
            Value::Numeric(r.ok_or_else(|| Error::new("22003", "value overflows numeric format"))?)
        }
        (a, b) => {
            let f = |v: Value| -> R<f64> {
                Ok(match v.cast(Type::Float8)? {
                    Value::Float(f) => f,
                    _ => 0.0,
                })
            };
            let (a, b) = (f(a)?, f(b)?);
            let r = match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                BinOp::Div => {
                    if b == 0.0 {
                        return Err(div0());
                    }
                    a / b
                }
                BinOp::Mod => a % b,
                BinOp::Pow => a.powf(b),
                _ => 0.0,
            };
            if r.is_infinite() && a.is_finite() && b.is_finite() {
                return Err(Error::new("22003", "value out of range: overflow"));
            }
            Value::Float(r)
        }
    })
}

/// SQL LIKE with `%`, `_` and `\` escapes.
pub fn like(s: &[char], p: &[char]) -> bool {
    let (mut si, mut pi) = (0, 0);
    let (mut star_p, mut star_s) = (usize::MAX, 0);
    while si < s.len() {
        if pi < p.len() && p[pi] == '\\' && pi + 1 < p.len() {
            if s[si] == p[pi + 1] {
                si += 1;
                pi += 2;
                continue;
            }
        } else if pi < p.len() && p[pi] == '%' {
            star_p = pi;
            star_s = si;
            pi += 1;
            continue;
        } else if pi < p.len() && (p[pi] == '_' || p[pi] == s[si]) {
            si += 1;
            pi += 1;
            continue;
        }
        if star_p != usize::MAX {
            pi = star_p + 1;
            star_s += 1;
            si = star_s;
            continue;
        }
        return false;
    }
    while pi < p.len() && p[pi] == '%' {
        pi += 1;
    }
    pi == p.len()
}

fn aggregate(name: &str, args: &[Expr], star: bool, distinct: bool, ctx: &Ctx, group: &[Vec<Value>]) -> R<Value> {
    if star {
        return Ok(Value::Int(group.len() as i64));
    }
    let arg = &args[0];
    let ty = type_of(arg, ctx)?;
    let mut vals = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for r in group {
        let v = eval(arg, ctx, r, None)?;
        if v.is_null() {
            continue;
        }
        if distinct && !seen.insert(v.key()) {
            continue;
        }
        vals.push(v);
    }
    if name == "count" {
        return Ok(Value::Int(vals.len() as i64));
    }
    if vals.is_empty() {
        return Ok(Value::Null);
    }
    Ok(match name {
        "sum" | "avg" => {
            let exact = matches!(ty, Type::Int2 | Type::Int4 | Type::Int8 | Type::Numeric);
            if exact {
                let mut acc = Decimal::from_i64(0);
                for v in &vals {
                    let Value::Numeric(d) = v.clone().cast(Type::Numeric)? else {
                        continue;
                    };
                    acc = acc.add(d).ok_or_else(|| Error::new("22003", "value overflows numeric format"))?;
                }
                if name == "avg" {
                    Value::Numeric(
                        acc.div(Decimal::from_i64(vals.len() as i64))
                            .ok_or_else(|| Error::new("22012", "division by zero"))?,
                    )
                } else if matches!(ty, Type::Int2 | Type::Int4) {
                    Value::Int(acc.mant as i64)
                } else {
                    Value::Numeric(acc)
                }
            } else {
                let mut acc = 0.0;
                for v in &vals {
                    if let Value::Float(f) = v.clone().cast(Type::Float8)? {
                        acc += f;
                    }
                }
                if name == "avg" {
                    acc /= vals.len() as f64;
                }
                Value::Float(acc)
            }
        }
        "min" | "max" => {
            let mut best = vals[0].clone();
            for v in &vals[1..] {
                let o = compare(v, &best)?.unwrap_or(Ordering::Equal);
                if (name == "min" && o == Ordering::Less) || (name == "max" && o == Ordering::Greater) {
                    best = v.clone();
                }
            }
            best
        }
        "bool_and" | "every" => Value::Bool(vals.iter().all(|v| matches!(v, Value::Bool(true)))),
        "bool_or" => Value::Bool(vals.iter().any(|v| matches!(v, Value::Bool(true)))),
        "string_agg" => {
            let sep = match args.get(1) {
                Some(e) => eval(e, ctx, &[], None)?.to_text(Type::Text).unwrap_or_default(),
                None => String::new(),
            };
            Value::Text(vals.iter().map(|v| v.to_text(ty).unwrap_or_default()).collect::<Vec<_>>().join(&sep))
        }
        _ => Value::Null,
    })
}

fn text_arg(v: &Value, t: Type) -> Option<String> {
    v.to_text(t)
}

fn function(name: &str, vals: Vec<Value>, types: &[Type], ctx: &Ctx, pos: usize) -> R<Value> {
    let env = ctx.env;
    let s0 = || vals.first().and_then(|v| text_arg(v, types[0]));
    let int_arg = |i: usize| -> R<Option<i64>> {
        match vals.get(i) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match v.clone().cast(Type::Int8)? {
                Value::Int(n) => Ok(Some(n)),
                _ => Ok(None),
            },
        }
    };
    // Functions that are strict return NULL for a NULL argument.
    let strict = !matches!(name, "coalesce" | "concat" | "concat_ws" | "greatest" | "least" | "nullif");
    if strict && vals.iter().any(Value::is_null) {
        return Ok(Value::Null);
    }
    Ok(match name {
        "now" | "current_timestamp" | "transaction_timestamp" | "statement_timestamp" | "localtimestamp" => {
            Value::Timestamp(env.now)
        }
        "clock_timestamp" => Value::Timestamp(super::value::from_unix_ms(serve::time::now_ms())),
        "pg_postmaster_start_time" => Value::Timestamp(env.start_time),
        "current_date" => Value::Date(env.now.div_euclid(86_400_000_000) as i32),
        "version" => Value::Text(env.version.clone()),
        "current_database" | "current_catalog" => Value::Text(env.database.clone()),
        "current_user" => Value::Text(env.user.clone()),
        "current_schema" => Value::Text("public".into()),
        "pg_backend_pid" => Value::Int(env.pid as i64),
        "pg_table_is_visible" => Value::Bool(true),
        "lower" => Value::Text(s0().unwrap_or_default().to_lowercase()),
        "upper" => Value::Text(s0().unwrap_or_default().to_uppercase()),
        "initcap" => {
            let mut out = String::new();
            let mut start = true;
            for c in s0().unwrap_or_default().chars() {
                out.extend(if start { c.to_uppercase().collect::<Vec<_>>() } else { c.to_lowercase().collect() });
                start = !c.is_alphanumeric();
            }
            Value::Text(out)
        }
        "reverse" => Value::Text(s0().unwrap_or_default().chars().rev().collect()),
        "length" | "char_length" | "character_length" => Value::Int(s0().unwrap_or_default().chars().count() as i64),
        "octet_length" => Value::Int(s0().unwrap_or_default().len() as i64),
        "md5" => {
            use md5::{Digest, Md5};
            Value::Text(hex(&Md5::digest(s0().unwrap_or_default().as_bytes())))
        }
        "repeat" => Value::Text(s0().unwrap_or_default().repeat(int_arg(1)?.unwrap_or(0).clamp(0, 1 << 20) as usize)),
        "left" | "right" => {
            let s: Vec<char> = s0().unwrap_or_default().chars().collect();
            let n = int_arg(1)?.unwrap_or(0);
            let len = s.len() as i64;
            let k = if n < 0 { (len + n).max(0) } else { n.min(len) } as usize;
            Value::Text(if name == "left" { s[..k].iter().collect() } else { s[s.len() - k..].iter().collect() })
        }
        "lpad" | "rpad" => {
            let s: Vec<char> = s0().unwrap_or_default().chars().collect();
            let n = int_arg(1)?.unwrap_or(0).max(0) as usize;
            let fill: Vec<char> =
                vals.get(2).and_then(|v| v.to_text(Type::Text)).unwrap_or_else(|| " ".into()).chars().collect();
            if s.len() >= n || fill.is_empty() {
                return Ok(Value::Text(s[..n.min(s.len())].iter().collect()));
            }
            let pad: String = fill.iter().cycle().take(n - s.len()).collect();
            let s: String = s.iter().collect();
            Value::Text(if name == "lpad" { pad + &s } else { s + &pad })
        }
        "substr" | "substring" => {
            let s: Vec<char> = s0().unwrap_or_default().chars().collect();
            let from = int_arg(1)?.unwrap_or(1);
            let end = match int_arg(2)? {
                Some(l) if l < 0 => return Err(Error::new("22011", "negative substring length not allowed")),
                Some(l) => from.saturating_add(l),
                None => i64::MAX,
            };
            let a = (from.max(1) - 1) as usize;
            let b = (end.max(1) - 1).min(s.len() as i64) as usize;
            Value::Text(if a < b { s[a..b].iter().collect() } else { String::new() })
        }
        "position" | "strpos" => {
            let s = s0().unwrap_or_default();
            let sub = vals.get(1).and_then(|v| v.to_text(Type::Text)).unwrap_or_default();
            Value::Int(s.find(&sub).map(|i| s[..i].chars().count() as i64 + 1).unwrap_or(0))
        }
        "starts_with" => Value::Bool(
            s0().unwrap_or_default().starts_with(&vals.get(1).and_then(|v| v.to_text(Type::Text)).unwrap_or_default()),
        ),
        "split_part" => {
            let s = s0().unwrap_or_default();
            let d = vals.get(1).and_then(|v| v.to_text(Type::Text)).unwrap_or_default();
            let n = int_arg(2)?.unwrap_or(1);
            let parts: Vec<&str> = if d.is_empty() { vec![s.as_str()] } else { s.split(d.as_str()).collect() };
            let idx = if n > 0 { n - 1 } else { parts.len() as i64 + n };
            Value::Text(parts.get(idx.max(0) as usize).filter(|_| idx >= 0).map(|p| p.to_string()).unwrap_or_default())
        }
        "trim" | "btrim" | "ltrim" | "rtrim" => {
            let s = s0().unwrap_or_default();
            let chars: Vec<char> =
                vals.get(1).and_then(|v| v.to_text(Type::Text)).unwrap_or_else(|| " ".into()).chars().collect();
            Value::Text(match name {
                "ltrim" => s.trim_start_matches(chars.as_slice()).to_string(),
                "rtrim" => s.trim_end_matches(chars.as_slice()).to_string(),
                _ => s.trim_matches(chars.as_slice()).to_string(),
            })
        }
        "replace" => {
            let s = s0().unwrap_or_default();
            let from = vals.get(1).and_then(|v| v.to_text(Type::Text)).unwrap_or_default();
            let to = vals.get(2).and_then(|v| v.to_text(Type::Text)).unwrap_or_default();
            Value::Text(if from.is_empty() { s } else { s.replace(&from, &to) })
        }
        "concat" => Value::Text(vals.iter().zip(types).filter_map(|(v, t)| v.to_text(*t)).collect()),
        "concat_ws" => {
            let sep = s0().unwrap_or_default();
            Value::Text(
                vals.iter().zip(types).skip(1).filter_map(|(v, t)| v.to_text(*t)).collect::<Vec<_>>().join(&sep),
            )
        }
        "coalesce" => vals.into_iter().find(|v| !v.is_null()).unwrap_or(Value::Null),
        "nullif" => {
            let mut it = vals.into_iter();
            let a = it.next().unwrap_or(Value::Null);
            let b = it.next().unwrap_or(Value::Null);
            if compare(&a, &b)? == Some(Ordering::Equal) {
                Value::Null
            } else {
                a
            }
        }
        "greatest" | "least" => {
            let mut best = Value::Null;
            for v in vals {
                if v.is_null() {
                    continue;
                }
                let better = best.is_null() || {
                    let o = compare(&v, &best)?.unwrap_or(Ordering::Equal);
                    (name == "greatest" && o == Ordering::Greater) || (name == "least" && o == Ordering::Less)
                };
                if better {
                    best = v;
                }
            }
            best
        }
        "abs" => match &vals[0] {
            Value::Int(i) => Value::Int(i.checked_abs().ok_or_else(|| Error::new("22003", "integer out of range"))?),
            Value::Float(f) => Value::Float(f.abs()),
            Value::Numeric(d) => Value::Numeric(if d.mant < 0 { d.neg() } else { *d }),
            v => v.clone().cast(Type::Float8)?,
        },
        "sign" => match vals[0].clone().cast(Type::Float8)? {
            Value::Float(f) => Value::Float(if f > 0.0 {
                1.0
            } else if f < 0.0 {
                -1.0
            } else {
                0.0
            }),
            v => v,
        },
        "ceil" | "ceiling" | "floor" => match &vals[0] {
            Value::Int(i) => Value::Int(*i),
            Value::Numeric(d) => {
                let f = d.to_f64();
                let r = if name == "floor" { f.floor() } else { f.ceil() };
                Value::Numeric(Decimal::from_i64(r as i64))
            }
            v => match v.clone().cast(Type::Float8)? {
                Value::Float(f) => Value::Float(if name == "floor" { f.floor() } else { f.ceil() }),
                v => v,
            },
        },
        "round" | "trunc" => {
            let places = int_arg(1)?.unwrap_or(0);
            match vals[0].clone() {
                Value::Float(f) => Value::Float(if name == "round" { f.round() } else { f.trunc() }),
                v => {
                    let Value::Numeric(d) = v.cast(Type::Numeric)? else {
                        return Ok(Value::Null);
                    };
                    let places = places.clamp(0, 30) as u32;
                    if name == "round" {
                        Value::Numeric(d.round(places))
                    } else {
                        let div = 10i128.pow(d.scale.saturating_sub(places));
                        Value::Numeric(if d.scale > places { Decimal { mant: d.mant / div, scale: places } } else { d })
                    }
                }
            }
        }
        "mod" => arith(BinOp::Mod, vals[0].clone(), types[0], vals[1].clone(), types[1])?,
        "sqrt" | "exp" | "ln" | "log" | "power" | "pow" => {
            let f = |v: &Value| -> R<f64> {
                match v.clone().cast(Type::Float8)? {
                    Value::Float(f) => Ok(f),
                    _ => Ok(0.0),
                }
            };
            let a = f(&vals[0])?;
            Value::Float(match name {
                "sqrt" => {
                    if a < 0.0 {
                        return Err(Error::new("2201F", "cannot take square root of a negative number"));
                    }
                    a.sqrt()
                }
                "exp" => a.exp(),
                "ln" => a.ln(),
                "log" => a.log10(),
                _ => a.powf(f(&vals[1])?),
            })
        }
        "random" => Value::Float((crate::auth::random_u64() >> 11) as f64 / (1u64 << 53) as f64),
        "gen_random_uuid" => {
            let mut b = [0u8; 16];
            crate::auth::random_bytes(&mut b);
            b[6] = (b[6] & 0x0f) | 0x40;
            b[8] = (b[8] & 0x3f) | 0x80;
            let h = hex(&b);
            Value::Text(format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..]))
        }
        "to_char" => Value::Text(match &vals[0] {
            Value::Timestamp(t) => format_timestamp(*t),
            v => v.to_text(types[0]).unwrap_or_default(),
        }),
        "regexp_ci" => {
            let s = s0().unwrap_or_default();
            let p = vals.get(1).and_then(|v| v.to_text(Type::Text)).unwrap_or_default();
            let re = crate::regex::Regex::new(&p, true)
                .map_err(|e| Error::new("2201B", format!("invalid regular expression: {e}")))?;
            Value::Bool(re.is_match(&s))
        }
        _ => return Err(no_function(name, types, pos)),
    })
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::parser::parse_expr;

    fn env() -> Env {
        Env {
            now: 0,
            database: "db".into(),
            user: "u".into(),
            version: "PostgreSQL 15.0 (skiff)".into(),
            pid: 7,
            start_time: 0,
        }
    }

    fn ev(src: &str) -> Result<Value, Error> {
        let env = env();
        let cols = vec![
            ColInfo { table: Some("t".into()), name: "n".into(), ty: Type::Int4 },
            ColInfo { table: Some("t".into()), name: "s".into(), ty: Type::Text },
        ];
        let ctx = Ctx { cols: &cols, params: &[], env: &env };
        let e = parse_expr(src)?;
        type_of(&e, &ctx)?;
        eval(&e, &ctx, &[Value::Int(5), Value::Text("hello".into())], None)
    }

    #[test]
    fn expressions() {
        assert_eq!(ev("1 + 2 * 3").unwrap(), Value::Int(7));
        assert_eq!(ev("7 / 2").unwrap(), Value::Int(3));
        assert_eq!(ev("7 / 2.0").unwrap().to_text(Type::Numeric).unwrap(), "3.5000000000000000");
        assert_eq!(ev("n > 3 AND s LIKE 'h%'").unwrap(), Value::Bool(true));
        assert_eq!(ev("n = '5'").unwrap(), Value::Bool(true));
        assert_eq!(ev("NULL = 1").unwrap(), Value::Null);
        assert_eq!(ev("NULL OR true").unwrap(), Value::Bool(true));
        assert_eq!(ev("n IN (1, 5)").unwrap(), Value::Bool(true));
        assert_eq!(ev("n NOT IN (1, NULL)").unwrap(), Value::Null);
        assert_eq!(ev("n BETWEEN 1 AND 5").unwrap(), Value::Bool(true));
        assert_eq!(ev("s || '!' || n").unwrap(), Value::Text("hello!5".into()));
        assert_eq!(ev("upper(s)").unwrap(), Value::Text("HELLO".into()));
        assert_eq!(ev("coalesce(NULL, 'x')").unwrap(), Value::Text("x".into()));
        assert_eq!(ev("CASE WHEN n > 4 THEN 'big' ELSE 'small' END").unwrap(), Value::Text("big".into()));
        assert_eq!(ev("'2024-01-02'::timestamp").unwrap().to_text(Type::Timestamp).unwrap(), "2024-01-02 00:00:00");
        assert_eq!(ev("s ~ '^h.*o$'").unwrap(), Value::Bool(true));
        assert_eq!(ev("1 / 0").unwrap_err().message, "division by zero");
        assert_eq!(ev("2147483647 + 1").unwrap_err().message, "integer out of range");
        assert_eq!(ev("y").unwrap_err().message, "column \"y\" does not exist");
        assert_eq!(ev("s = 1").unwrap_err().message, "operator does not exist: text = integer");
        assert_eq!(ev("nope(1)").unwrap_err().message, "function nope(integer) does not exist");
        assert_eq!(ev("round(2.567, 2)").unwrap().to_text(Type::Numeric).unwrap(), "2.57");
    }

    #[test]
    fn like_patterns() {
        let l = |s: &str, p: &str| like(&s.chars().collect::<Vec<_>>(), &p.chars().collect::<Vec<_>>());
        assert!(l("hello", "h%"));
        assert!(l("hello", "%llo"));
        assert!(l("hello", "h_llo"));
        assert!(!l("hello", "h_lo"));
        assert!(l("50%", "50\\%"));
        assert!(!l("500", "50\\%"));
        assert!(l("", "%"));
    }
}
