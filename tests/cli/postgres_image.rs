//! The `postgres` teaching image: Debian's real `psql` talks to it through a published port
//! (SCRAM password auth, SQL, errors, `\dt`), other containers reach it by name with the
//! image's own psql, `exec` gets a trusted local session, and a volume keeps the data.

use super::util::{free_port, require_tool, Sandbox};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const READY: &str = "database system is ready to accept connections";

/// Poll `skiff logs NAME` until the server says it is ready (bounded); the logs.
fn wait_ready(s: &Sandbox, name: &str) -> String {
    let mut logs = String::new();
    for _ in 0..150 {
        let r = s.run(&["logs", name]);
        logs = format!("{}{}", r.stdout, r.stderr);
        if logs.contains(READY) {
            return logs;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("{name} never became ready:\n{logs}");
}

/// The host's psql against 127.0.0.1:PORT as postgres, with `password`, reading `stdin`.
fn psql(bin: &Path, port: u16, password: &str, args: &[&str], stdin: &str) -> Output {
    let mut c = Command::new(bin);
    c.args(["-X", "-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres"])
        .args(args)
        .env("PGPASSWORD", password)
        .env("PGCONNECT_TIMEOUT", "10")
        .env_remove("PGDATABASE")
        .env_remove("PGHOST")
        .env_remove("PGPORT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn real_psql_runs_sql_over_a_published_port() {
    let Some(bin) = require_tool("psql", "postgresql-client") else {
        return;
    };
    let s = Sandbox::new();
    let port = free_port();
    let publish = format!("127.0.0.1:{port}:5432");
    s.run(&["run", "-d", "--name", "pg", "-e", "POSTGRES_PASSWORD=secret", "-p", &publish, "postgres"]).ok();
    let logs = wait_ready(&s, "pg");
    assert!(logs.contains("The files belonging to this database system will be owned by user \"postgres\"."), "{logs}");
    assert!(logs.contains("PostgreSQL init process complete; ready for start up."), "{logs}");
    assert!(logs.contains("LOG:  listening on IPv4 address \"0.0.0.0\", port 5432"), "{logs}");
    assert_eq!(
        s.run(&[
            "image",
            "inspect",
            "-f",
            "{{.Config.StopSignal}} {{json .Config.ExposedPorts}} {{json .Config.Volumes}}",
            "postgres"
        ])
        .ok()
        .stdout,
        "SIGINT {\"5432/tcp\":{}} {\"/var/lib/postgresql/data\":{}}\n"
    );

    let script = "CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL, admin boolean DEFAULT false, joined timestamp, score integer);
INSERT INTO users (name, admin, joined, score) VALUES ('ada', true, '2024-01-02 03:04:05', 90), ('bob', false, '2024-02-03 10:00:00', 70), ('cy', false, NULL, 80);
SELECT id, name, admin, joined FROM users WHERE score >= 75 ORDER BY score DESC LIMIT 2;
UPDATE users SET score = score + 5 WHERE NOT admin;
DELETE FROM users WHERE name = 'cy';
SELECT name, score FROM users ORDER BY name;
";
    let out = psql(&bin, port, "secret", &[], script);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "CREATE TABLE
INSERT 0 3
 id | name | admin |       joined        
----+------+-------+---------------------
  1 | ada  | t     | 2024-01-02 03:04:05
  3 | cy   | f     | 
(2 rows)

UPDATE 2
DELETE 1
 name | score 
------+-------
 ada  |    90
 bob  |    75
(2 rows)

"
    );

    // A syntax error is reported as PostgreSQL does, and the session goes on.
    let out = psql(&bin, port, "secret", &[], "SELEC 1;\nSELECT count(*) AS n FROM users;\nSELECT * FROM nope;\nINSERT INTO users (id, name) VALUES (1, 'dup');\n");
    let err = text(&out.stderr);
    assert!(err.contains("ERROR:  syntax error at or near \"SELEC\"\nLINE 1: SELEC 1;\n        ^"), "{err}");
    assert!(err.contains("ERROR:  relation \"nope\" does not exist"), "{err}");
    assert!(err.contains("ERROR:  duplicate key value violates unique constraint \"users_pkey\"\nDETAIL:  Key (id)=(1) already exists."), "{err}");
    assert_eq!(text(&out.stdout), " n \n---\n 2\n(1 row)\n\n");

    // \dt lists the table; \d describes it.
    let out = psql(&bin, port, "secret", &["-c", "\\dt"], "");
    assert_eq!(text(&out.stdout), "         List of relations\n Schema | Name  | Type  |  Owner   \n--------+-------+-------+----------\n public | users | table | postgres\n(1 row)\n\n");
    let out = psql(&bin, port, "secret", &["-c", "\\d users"], "");
    let d = text(&out.stdout);
    assert!(
        d.contains(" id     | integer                     |           | not null | nextval('users_id_seq'::regclass)"),
        "{d}"
    );
    assert!(d.contains("\"users_pkey\" PRIMARY KEY, btree (id)"), "{d}");

    // Transactions: a rolled back insert is gone.
    let out = psql(
        &bin,
        port,
        "secret",
        &["-At"],
        "BEGIN;\nINSERT INTO users (name) VALUES ('tmp');\nROLLBACK;\nSELECT count(*) FROM users;\n",
    );
    assert_eq!(text(&out.stdout), "BEGIN\nINSERT 0 1\nROLLBACK\n2\n");

    // A wrong password is refused.
    let out = psql(&bin, port, "wrong", &["-c", "select 1"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("FATAL:  password authentication failed for user \"postgres\""),
        "{}",
        text(&out.stderr)
    );
    let logs = s.run(&["logs", "pg"]).ok();
    assert!(format!("{}{}", logs.stdout, logs.stderr)
        .contains("FATAL:  password authentication failed for user \"postgres\""));

    // Inside the container the socket is local: trusted, no password.
    let out = s.run(&["exec", "pg", "psql", "-U", "postgres", "-c", "SELECT name FROM users WHERE admin"]).ok();
    assert_eq!(out.stdout, " name \n------\n ada\n(1 row)\n\n");
    assert_eq!(s.run(&["exec", "pg", "pg_isready"]).ok().stdout, "/var/run/postgresql:5432 - accepting connections\n");
    s.run(&["rm", "-f", "pg"]).ok();
}

#[test]
fn a_password_is_required_to_initialize() {
    let s = Sandbox::new();
    let r = s.run(&["run", "--rm", "postgres"]).code(1);
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(all.contains("Error: Database is uninitialized and superuser password is not specified."), "{all}");
}

#[test]
fn other_containers_reach_it_by_name_with_the_images_psql() {
    let s = Sandbox::new();
    s.run(&["network", "create", "pgnet"]).ok();
    s.run(&["run", "-d", "--network", "pgnet", "--name", "db", "-e", "POSTGRES_PASSWORD=x", "postgres"]).ok();
    wait_ready(&s, "db");
    let out = s
        .run(&[
            "run",
            "--rm",
            "--network",
            "pgnet",
            "-e",
            "PGPASSWORD=x",
            "postgres",
            "psql",
            "-h",
            "db",
            "-U",
            "postgres",
            "-c",
            "select 1",
        ])
        .ok();
    assert_eq!(out.stdout, " ?column? \n----------\n        1\n(1 row)\n\n");
    let r = s
        .run(&[
            "run",
            "--rm",
            "--network",
            "pgnet",
            "-e",
            "PGPASSWORD=nope",
            "postgres",
            "psql",
            "-h",
            "db",
            "-U",
            "postgres",
            "-c",
            "select 1",
        ])
        .code(2);
    assert!(r.stderr.contains("password authentication failed for user \"postgres\""), "{}", r.stderr);
    s.run(&["rm", "-f", "db"]).ok();
    s.run(&["network", "rm", "pgnet"]).ok();
}

#[test]
fn data_on_a_volume_survives_the_container() {
    let s = Sandbox::new();
    let vol = "pgdata:/var/lib/postgresql/data";
    s.run(&["run", "-d", "--name", "pg1", "-v", vol, "-e", "POSTGRES_PASSWORD=x", "postgres"]).ok();
    wait_ready(&s, "pg1");
    s.run(&[
        "exec",
        "pg1",
        "psql",
        "-U",
        "postgres",
        "-c",
        "CREATE TABLE notes (n integer, body text); INSERT INTO notes VALUES (42, 'kept')",
    ])
    .ok();
    s.run(&["rm", "-f", "pg1"]).ok();
    s.run(&["run", "-d", "--name", "pg2", "-v", vol, "postgres"]).ok();
    let logs = wait_ready(&s, "pg2");
    assert!(
        logs.contains("PostgreSQL Database directory appears to contain a database; Skipping initialization"),
        "{logs}"
    );
    assert_eq!(
        s.run(&["exec", "pg2", "psql", "-U", "postgres", "-At", "-c", "SELECT n, body FROM notes"]).ok().stdout,
        "42|kept\n"
    );
    s.run(&["rm", "-f", "pg2"]).ok();
    s.run(&["volume", "rm", "pgdata"]).ok();
}
