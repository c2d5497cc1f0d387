//! The SQL side of the server: tokens, statements, values, and the engine that runs them
//! over tables kept in memory and saved under `PGDATA`.

pub mod ast;
pub mod catalog;
pub mod engine;
pub mod eval;
pub mod lexer;
pub mod parser;
pub mod storage;
pub mod value;

/// An error as PostgreSQL reports it: SQLSTATE, message, optional detail/hint and the
/// 1-based position in the query string.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub severity: &'static str,
    pub code: &'static str,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    pub position: Option<usize>,
}

impl Error {
    pub fn new(code: &'static str, message: impl Into<String>) -> Error {
        Error { severity: "ERROR", code, message: message.into(), detail: None, hint: None, position: None }
    }

    /// At byte offset `pos` (0-based) of the query.
    pub fn at(mut self, pos: usize) -> Error {
        self.position = Some(pos + 1);
        self
    }

    pub fn detail(mut self, d: impl Into<String>) -> Error {
        self.detail = Some(d.into());
        self
    }

    pub fn hint(mut self, h: impl Into<String>) -> Error {
        self.hint = Some(h.into());
        self
    }

    pub fn fatal(mut self) -> Error {
        self.severity = "FATAL";
        self
    }
}
