//! skiff: a Docker-compatible container runtime for teaching. Images of read-only layers with
//! content-hash IDs, containers with a copy-on-write layer, all of it visible; containers run
//! as WASI guests in wasmtime over a userspace union filesystem, on any OS, without root.

pub mod archive;
pub mod build;
pub mod builtin;
pub mod cli;
pub mod container;
pub mod error;
pub mod events;
#[doc(hidden)]
pub mod fuzz;
pub mod hostfs;
pub mod hostproc;
pub mod network;
pub mod reference;
pub mod registry;
pub mod runtime;
pub mod spec;
pub mod store;
pub mod tutorial;
pub mod unionfs;
pub mod units;
pub mod volume;

pub use error::{Error, Result};
