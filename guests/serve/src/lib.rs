//! `serve`: what skiff's server guests share: a single-threaded event loop that serves many
//! keep-alive TCP connections at once (WASI preview 1 has no threads), HTTP/1.x request
//! parsing and response helpers, and date formatting.
//!
//! A program implements [`Service`] (pure: bytes in, bytes out) and hands it to [`run`].

pub mod event;
pub mod http;
pub mod num;
pub mod sys;
pub mod time;

pub use event::{run, Ctx, Service, Step};
pub use sys::listen;
