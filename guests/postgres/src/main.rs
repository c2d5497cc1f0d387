//! `postgres`: the programs of skiff's postgres teaching image, chosen by argv[0]'s base
//! name: `postgres` (the server), `psql` and `pg_isready`.

mod auth;
mod params;
mod proto;
mod regex;
mod server;
mod sql;

fn main() {
    skiff_guest::init();
}
