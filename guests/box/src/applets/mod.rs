//! The applets, grouped by family.
pub mod basic;
pub mod find;
pub mod fs;
pub mod grep;
pub mod ls;
pub mod net;
pub mod printf;
pub mod procs;
pub mod sed;
pub mod sort;
pub mod sys;
pub mod test;
pub mod text;
pub mod tr;
pub mod users;
