//! Integration tests: drive the real `skiff` binary, each test in its own state root.

mod build;
mod classroom;
mod classroom_tty;
mod crossplat;
mod everyday;
mod fidelity;
mod guests;
#[path = "../hostile/mod.rs"]
mod hostile;
mod images;
mod interop;
mod lifecycle;
mod native;
mod native_net;
mod network;
mod postgres_image;
mod reach;
mod registry;
mod registry_image;
mod run;
mod tutorials;
mod util;
mod volumes;
