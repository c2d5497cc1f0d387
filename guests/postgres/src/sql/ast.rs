//! The statements and expressions the parser makes, and how an expression prints back as
//! SQL (column defaults are kept as text, and `\d` shows them).

use std::fmt;

use super::value::{Type, Value};

#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    Select(Box<Select>),
    Insert(Box<Insert>),
    Update(Box<Update>),
    Delete(Box<Delete>),
    CreateTable(Box<CreateTable>),
    DropTable {
        names: Vec<String>,
        if_exists: bool,
    },
    Truncate(Vec<String>),
    AlterTable {
        table: String,
        action: AlterAction,
    },
    CreateDatabase(String),
    DropDatabase {
        name: String,
        if_exists: bool,
    },
    /// `ALTER USER name [WITH] PASSWORD 'x'` / `CREATE USER name [WITH] PASSWORD 'x'`.
    UserPassword {
        user: String,
        password: Option<String>,
        create: bool,
    },
    Begin,
    Commit,
    Rollback,
    Set {
        name: String,
        value: Option<String>,
    },
    Show(String),
    /// Accepted and done nothing with: the command tag to answer.
    Noop(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum AlterAction {
    AddColumn(ColumnDef),
    DropColumn(String),
    RenameTo(String),
    RenameColumn(String, String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Select {
    pub distinct: bool,
    pub items: Vec<SelectItem>,
    /// `FROM table [AS] alias`.
    pub from: Option<(String, Option<String>)>,
    pub where_: Option<Expr>,
    pub group_by: Vec<Expr>,
    pub having: Option<Expr>,
    pub order_by: Vec<OrderItem>,
    pub limit: Option<Expr>,
    pub offset: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SelectItem {
    /// `*` or `t.*`.
    Star(Option<String>),
    Expr(Expr, Option<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderItem {
    pub expr: Expr,
    pub desc: bool,
    pub nulls_first: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Insert {
    pub table: String,
    pub columns: Option<Vec<String>>,
    pub source: InsertSource,
    pub on_conflict_nothing: bool,
    pub returning: Vec<SelectItem>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum InsertSource {
    /// Rows of expressions; `None` is `DEFAULT`.
    Values(Vec<Vec<Option<Expr>>>),
    Select(Box<Select>),
    Defaults,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub table: String,
    pub alias: Option<String>,
    /// `col = expr` (`None`: DEFAULT).
    pub sets: Vec<(String, Option<Expr>)>,
    pub where_: Option<Expr>,
    pub returning: Vec<SelectItem>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Delete {
    pub table: String,
    pub alias: Option<String>,
    pub where_: Option<Expr>,
    pub returning: Vec<SelectItem>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CreateTable {
    pub name: String,
    pub if_not_exists: bool,
    pub columns: Vec<ColumnDef>,
    pub primary_key: Option<Vec<String>>,
    pub uniques: Vec<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDef {
    pub name: String,
    pub ty: Type,
    pub serial: bool,
    pub not_null: bool,
    pub primary_key: bool,
    pub unique: bool,
    pub default: Option<Expr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Concat,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    /// `~` and `!~` (regular expressions: the subset psql's patterns use).
    Match,
    NotMatch,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Pow => "^",
            BinOp::Concat => "||",
            BinOp::Eq => "=",
            BinOp::Ne => "<>",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "AND",
            BinOp::Or => "OR",
            BinOp::Match => "~",
            BinOp::NotMatch => "!~",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A literal; strings are `Type::Unknown` until used.
    Lit(Value, Type),
    Column {
        table: Option<String>,
        name: String,
        pos: usize,
    },
    Param(usize),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    IsNull(Box<Expr>, bool),
    /// `x IS [NOT] TRUE/FALSE`.
    IsBool(Box<Expr>, bool, bool),
    InList {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    Between {
        expr: Box<Expr>,
        lo: Box<Expr>,
        hi: Box<Expr>,
        negated: bool,
    },
    Like {
        expr: Box<Expr>,
        pattern: Box<Expr>,
        negated: bool,
        ci: bool,
    },
    Func {
        name: String,
        args: Vec<Expr>,
        star: bool,
        distinct: bool,
        pos: usize,
    },
    Cast(Box<Expr>, Type),
    Case {
        operand: Option<Box<Expr>>,
        whens: Vec<(Expr, Expr)>,
        else_: Option<Box<Expr>>,
    },
}

impl Expr {
    pub fn contains_aggregate(&self) -> bool {
        match self {
            Expr::Func { name, args, .. } => is_aggregate(name) || args.iter().any(Expr::contains_aggregate),
            Expr::Neg(e) | Expr::Not(e) | Expr::IsNull(e, _) | Expr::Cast(e, _) | Expr::IsBool(e, _, _) => {
                e.contains_aggregate()
            }
            Expr::Binary(_, a, b) => a.contains_aggregate() || b.contains_aggregate(),
            Expr::InList { expr, list, .. } => expr.contains_aggregate() || list.iter().any(Expr::contains_aggregate),
            Expr::Between { expr, lo, hi, .. } => {
                expr.contains_aggregate() || lo.contains_aggregate() || hi.contains_aggregate()
            }
            Expr::Like { expr, pattern, .. } => expr.contains_aggregate() || pattern.contains_aggregate(),
            Expr::Case { operand, whens, else_ } => {
                operand.as_ref().is_some_and(|e| e.contains_aggregate())
                    || whens.iter().any(|(a, b)| a.contains_aggregate() || b.contains_aggregate())
                    || else_.as_ref().is_some_and(|e| e.contains_aggregate())
            }
            _ => false,
        }
    }

    /// The column name PostgreSQL gives a select-list item without an alias.
    pub fn default_name(&self) -> String {
        match self {
            Expr::Column { name, .. } => name.clone(),
            Expr::Func { name, .. } => name.rsplit('.').next().unwrap_or(name).to_string(),
            Expr::Cast(e, ty) => match e.as_ref() {
                Expr::Lit(..) | Expr::Param(_) => match ty {
                    Type::Int4 => "int4".into(),
                    Type::Int8 => "int8".into(),
                    Type::Int2 => "int2".into(),
                    Type::Bool => "bool".into(),
                    Type::Float8 => "float8".into(),
                    Type::Float4 => "float4".into(),
                    Type::Varchar(_) => "varchar".into(),
                    Type::Char(_) => "bpchar".into(),
                    Type::Timestamp => "timestamp".into(),
                    Type::TimestampTz => "timestamptz".into(),
                    t => t.sql_name(),
                },
                inner => inner.default_name(),
            },
            Expr::Case { .. } => "case".into(),
            _ => "?column?".into(),
        }
    }
}

pub fn is_aggregate(name: &str) -> bool {
    matches!(name, "count" | "sum" | "avg" | "min" | "max" | "bool_and" | "bool_or" | "string_agg" | "every")
}

fn quote_ident(s: &str) -> String {
    if !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !s.as_bytes()[0].is_ascii_digit()
    {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('"', "\"\""))
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Expr::Lit(Value::Null, _) => write!(f, "NULL"),
            Expr::Lit(Value::Bool(b), _) => write!(f, "{b}"),
            Expr::Lit(v, ty) if ty.is_numeric() => {
                write!(f, "{}", v.to_text(*ty).unwrap_or_default())
            }
            Expr::Lit(v, ty) => {
                let s = v.to_text(*ty).unwrap_or_default().replace('\'', "''");
                match ty {
                    Type::Unknown | Type::Text => write!(f, "'{s}'::text"),
                    t => write!(f, "'{s}'::{}", t.sql_name()),
                }
            }
            Expr::Column { table: Some(t), name, .. } => write!(f, "{}.{}", quote_ident(t), quote_ident(name)),
            Expr::Column { name, .. } => write!(f, "{}", quote_ident(name)),
            Expr::Param(n) => write!(f, "${n}"),
            Expr::Neg(e) => write!(f, "(- {e})"),
            Expr::Not(e) => write!(f, "(NOT {e})"),
            Expr::Binary(op, a, b) => write!(f, "({a} {} {b})", op.symbol()),
            Expr::IsNull(e, neg) => write!(f, "({e} IS {}NULL)", if *neg { "NOT " } else { "" }),
            Expr::IsBool(e, neg, v) => {
                write!(f, "({e} IS {}{})", if *neg { "NOT " } else { "" }, if *v { "TRUE" } else { "FALSE" })
            }
            Expr::InList { expr, list, negated } => {
                write!(f, "({expr} {}IN (", if *negated { "NOT " } else { "" })?;
                for (i, e) in list.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{e}")?;
                }
                write!(f, "))")
            }
            Expr::Between { expr, lo, hi, negated } => {
                write!(f, "({expr} {}BETWEEN {lo} AND {hi})", if *negated { "NOT " } else { "" })
            }
            Expr::Like { expr, pattern, negated, ci } => {
                write!(
                    f,
                    "({expr} {}{} {pattern})",
                    if *negated { "NOT " } else { "" },
                    if *ci { "ILIKE" } else { "LIKE" }
                )
            }
            Expr::Func { name, args, star, distinct, .. } => {
                if name == "current_timestamp" && args.is_empty() {
                    return write!(f, "CURRENT_TIMESTAMP");
                }
                if (name == "current_date" || name == "current_user" || name == "localtimestamp") && args.is_empty() {
                    return write!(f, "{}", name.to_ascii_uppercase());
                }
                write!(f, "{name}(")?;
                if *star {
                    write!(f, "*")?;
                }
                if *distinct {
                    write!(f, "DISTINCT ")?;
                }
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    if name == "nextval" {
                        let lit = match a {
                            Expr::Cast(inner, _) => inner.as_ref(),
                            a => a,
                        };
                        if let Expr::Lit(v, _) = lit {
                            write!(f, "'{}'::regclass", v.to_text(Type::Text).unwrap_or_default())?;
                            continue;
                        }
                    }
                    write!(f, "{a}")?;
                }
                write!(f, ")")
            }
            Expr::Cast(e, ty) => match e.as_ref() {
                Expr::Lit(v, Type::Unknown) if !v.is_null() => {
                    write!(f, "'{}'::{}", v.to_text(Type::Text).unwrap_or_default().replace('\'', "''"), ty.sql_name())
                }
                e => write!(f, "({e})::{}", ty.sql_name()),
            },
            Expr::Case { operand, whens, else_ } => {
                write!(f, "CASE")?;
                if let Some(o) = operand {
                    write!(f, " {o}")?;
                }
                for (w, t) in whens {
                    write!(f, " WHEN {w} THEN {t}")?;
                }
                if let Some(e) = else_ {
                    write!(f, " ELSE {e}")?;
                }
                write!(f, " END")
            }
        }
    }
}
