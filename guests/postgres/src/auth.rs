//! Authentication: `pg_hba.conf` rules, SCRAM-SHA-256 (RFC 5802/7677, as PostgreSQL 14+
//! uses it by default) on both sides, the client's md5, and random bytes from WASI.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::net::Ipv4Addr;

type HmacSha256 = Hmac<Sha256>;

// ---- randomness ----

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    #[link_name = "random_get"]
    fn wasi_random_get(buf: *mut u8, len: usize) -> u16;
}

pub fn random_bytes(buf: &mut [u8]) {
    #[cfg(target_arch = "wasm32")]
    {
        // SAFETY: the host writes exactly `len` bytes into our buffer.
        unsafe {
            wasi_random_get(buf.as_mut_ptr(), buf.len());
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::io::Read;
        if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
            let _ = f.read_exact(buf);
        }
    }
}

pub fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    random_bytes(&mut b);
    u64::from_le_bytes(b)
}

fn nonce() -> String {
    let mut b = [0u8; 18];
    random_bytes(&mut b);
    B64.encode(b)
}

// ---- SCRAM-SHA-256 ----

fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    m.update(msg);
    m.finalize().into_bytes().into()
}

fn salted_password(password: &str, salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt, iterations, &mut out);
    out
}

/// A stored SCRAM secret: `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Secret {
    pub iterations: u32,
    pub salt: Vec<u8>,
    pub stored_key: Vec<u8>,
    pub server_key: Vec<u8>,
}

impl Secret {
    pub fn new(password: &str, salt: &[u8], iterations: u32) -> Secret {
        let sp = salted_password(password, salt, iterations);
        let client_key = hmac(&sp, b"Client Key");
        Secret {
            iterations,
            salt: salt.to_vec(),
            stored_key: Sha256::digest(client_key).to_vec(),
            server_key: hmac(&sp, b"Server Key").to_vec(),
        }
    }

    pub fn parse(s: &str) -> Option<Secret> {
        let rest = s.strip_prefix("SCRAM-SHA-256$")?;
        let (iter_salt, keys) = rest.split_once('$')?;
        let (iter, salt) = iter_salt.split_once(':')?;
        let (stored, server) = keys.split_once(':')?;
        Some(Secret {
            iterations: iter.parse().ok()?,
            salt: B64.decode(salt).ok()?,
            stored_key: B64.decode(stored).ok()?,
            server_key: B64.decode(server).ok()?,
        })
    }

    pub fn encode(&self) -> String {
        format!(
            "SCRAM-SHA-256${}:{}${}:{}",
            self.iterations,
            B64.encode(&self.salt),
            B64.encode(&self.stored_key),
            B64.encode(&self.server_key)
        )
    }

    /// Whether `password` is the one this secret was made from (for `password` auth).
    pub fn check(&self, password: &str) -> bool {
        Secret::new(password, &self.salt, self.iterations).stored_key == self.stored_key
    }
}

/// A new secret for `password` with a random salt.
pub fn scram_secret(password: &str, iterations: u32) -> String {
    let mut salt = [0u8; 16];
    random_bytes(&mut salt);
    Secret::new(password, &salt, iterations).encode()
}

/// The server's side of one SCRAM exchange.
pub struct ScramServer {
    secret: Secret,
    /// A made-up secret for a user that does not exist: the exchange runs and fails.
    mock: bool,
    nonce: String,
    client_first_bare: String,
    server_first: String,
    gs2: String,
}

impl ScramServer {
    /// Take the client-first-message; returns the server-first-message.
    pub fn start(secret: Option<&str>, client_first: &str) -> Result<(ScramServer, String), String> {
        let (secret, mock) = match secret.and_then(Secret::parse) {
            Some(s) => (s, false),
            None => {
                let mut salt = [0u8; 16];
                random_bytes(&mut salt);
                (
                    Secret { iterations: 4096, salt: salt.to_vec(), stored_key: vec![0; 32], server_key: vec![0; 32] },
                    true,
                )
            }
        };
        // gs2-header: "n,," (no channel binding) or "y,," (client could, server did not offer).
        let (cb, rest) = client_first.split_once(',').ok_or("malformed SCRAM message")?;
        if cb != "n" && cb != "y" {
            return Err("unsupported SCRAM channel-binding type".into());
        }
        let (authzid, bare) = rest.split_once(',').ok_or("malformed SCRAM message")?;
        if !authzid.is_empty() {
            return Err("client uses authorization identity, but it is not supported".into());
        }
        let gs2 = format!("{cb},{authzid},");
        let cnonce = bare.split(',').find_map(|a| a.strip_prefix("r=")).ok_or("malformed SCRAM message")?;
        let nonce = format!("{cnonce}{}", self::nonce());
        let server_first = format!("r={nonce},s={},i={}", B64.encode(&secret.salt), secret.iterations);
        Ok((
            ScramServer {
                secret,
                mock,
                nonce,
                client_first_bare: bare.to_string(),
                server_first: server_first.clone(),
                gs2,
            },
            server_first,
        ))
    }

    /// Take the client-final-message; the server-final-message when the proof is right.
    pub fn finish(&self, client_final: &str) -> Result<String, String> {
        let (without_proof, proof) = client_final.rsplit_once(",p=").ok_or("malformed SCRAM message")?;
        let mut channel = None;
        let mut nonce = None;
        for a in without_proof.split(',') {
            if let Some(v) = a.strip_prefix("c=") {
                channel = Some(v);
            } else if let Some(v) = a.strip_prefix("r=") {
                nonce = Some(v);
            }
        }
        if channel != Some(&B64.encode(self.gs2.as_bytes())) || nonce != Some(&self.nonce) {
            return Err("malformed SCRAM message".into());
        }
        let proof = B64.decode(proof).map_err(|_| "malformed SCRAM message")?;
        let auth_message = format!("{},{},{}", self.client_first_bare, self.server_first, without_proof);
        let client_signature = hmac(&self.secret.stored_key, auth_message.as_bytes());
        if proof.len() != 32 || self.mock {
            return Err("password".into());
        }
        let client_key: Vec<u8> = proof.iter().zip(client_signature).map(|(a, b)| a ^ b).collect();
        if Sha256::digest(&client_key).as_slice() != self.secret.stored_key.as_slice() {
            return Err("password".into());
        }
        let server_signature = hmac(&self.secret.server_key, auth_message.as_bytes());
        Ok(format!("v={}", B64.encode(server_signature)))
    }
}

/// The client's side of one SCRAM exchange.
pub struct ScramClient {
    password: String,
    cnonce: String,
    server_signature: Vec<u8>,
}

impl ScramClient {
    pub fn new(password: &str) -> ScramClient {
        ScramClient { password: password.into(), cnonce: nonce(), server_signature: vec![] }
    }

    pub fn client_first(&self) -> String {
        format!("n,,n=,r={}", self.cnonce)
    }

    pub fn client_final(&mut self, server_first: &str) -> Result<String, String> {
        let mut nonce = None;
        let mut salt = None;
        let mut iter = None;
        for a in server_first.split(',') {
            if let Some(v) = a.strip_prefix("r=") {
                nonce = Some(v.to_string());
            } else if let Some(v) = a.strip_prefix("s=") {
                salt = B64.decode(v).ok();
            } else if let Some(v) = a.strip_prefix("i=") {
                iter = v.parse::<u32>().ok();
            }
        }
        let (Some(nonce), Some(salt), Some(iter)) = (nonce, salt, iter) else {
            return Err("malformed SCRAM message".into());
        };
        if !nonce.starts_with(&self.cnonce) {
            return Err("invalid SCRAM response (nonce mismatch)".into());
        }
        let sp = salted_password(&self.password, &salt, iter);
        let client_key = hmac(&sp, b"Client Key");
        let stored_key = Sha256::digest(client_key);
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("n=,r={},{server_first},{without_proof}", self.cnonce);
        let sig = hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key.iter().zip(sig).map(|(a, b)| a ^ b).collect();
        self.server_signature = hmac(&hmac(&sp, b"Server Key"), auth_message.as_bytes()).to_vec();
        Ok(format!("{without_proof},p={}", B64.encode(proof)))
    }

    pub fn verify(&self, server_final: &str) -> bool {
        server_final.strip_prefix("v=").and_then(|v| B64.decode(v).ok()).is_some_and(|v| v == self.server_signature)
    }
}

/// The answer to AuthenticationMD5Password: `md5` + md5(md5(password + user) + salt).
pub fn md5_response(user: &str, password: &str, salt: &[u8]) -> String {
    use md5::Md5;
    let inner = crate::sql::eval::hex(&Md5::digest(format!("{password}{user}").as_bytes()));
    let mut m = Md5::new();
    m.update(inner.as_bytes());
    m.update(salt);
    format!("md5{}", crate::sql::eval::hex(&m.finalize()))
}

// ---- pg_hba.conf ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Trust,
    Reject,
    Scram,
    /// `md5`: with a SCRAM secret stored, PostgreSQL does SCRAM; so does this server.
    Md5,
    Password,
}

/// The method of the first `host` line of `conf` that matches the connection (None: no
/// line does).
/// `peer` None: a local ("unix socket") connection, matched by `local` lines.
pub fn hba_method(conf: &str, peer: Option<Ipv4Addr>, user: &str, db: &str) -> Option<Method> {
    for line in conf.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let f: Vec<&str> = line.split_whitespace().collect();
        let is_local = f.first() == Some(&"local");
        if f.len() < 4 || !(is_local || matches!(f[0], "host" | "hostnossl")) || is_local != peer.is_none() {
            continue;
        }
        let list_has = |list: &str, name: &str, same: &str| {
            list.split(',').any(|x| x == "all" || x == name || (x == same && user == db))
        };
        if !list_has(f[1], db, "sameuser") || !list_has(f[2], user, "\u{0}") {
            continue;
        }
        let peer = peer.unwrap_or(Ipv4Addr::LOCALHOST);
        let (addr_ok, method_at) = match f[3] {
            _ if is_local => (true, 3),
            "all" | "samehost" | "samenet" => (true, 4),
            a if a.contains('/') => {
                let (ip, bits) = a.split_once('/').unwrap_or((a, "32"));
                match (ip.parse::<Ipv4Addr>(), bits.parse::<u32>()) {
                    (Ok(ip), Ok(bits)) if bits <= 32 => {
                        let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
                        ((u32::from(ip) & mask) == (u32::from(peer) & mask), 4)
                    }
                    _ => (false, 4),
                }
            }
            a => match (a.parse::<Ipv4Addr>(), f.get(4).and_then(|m| m.parse::<Ipv4Addr>().ok())) {
                (Ok(ip), Some(mask)) => ((u32::from(ip) & u32::from(mask)) == (u32::from(peer) & u32::from(mask)), 5),
                _ => (false, 4),
            },
        };
        if !addr_ok {
            continue;
        }
        return Some(match f.get(method_at).copied().unwrap_or("reject") {
            "trust" => Method::Trust,
            "scram-sha-256" => Method::Scram,
            "md5" => Method::Md5,
            "password" => Method::Password,
            _ => Method::Reject,
        });
    }
    None
}

/// The `pg_hba.conf` the real image writes: trust on loopback, `auth` for every other host.
pub fn default_hba(auth: &str) -> String {
    let mut s = String::from(
        "# PostgreSQL Client Authentication Configuration File (skiff teaching image)
# ===================================================
#
# TYPE  DATABASE        USER            ADDRESS                 METHOD

# \"local\" is for Unix domain socket connections only
local   all             all                                     trust
# IPv4 local connections:
host    all             all             127.0.0.1/32            trust
# IPv6 local connections:
host    all             all             ::1/128                 trust
# Allow replication connections from localhost, by a user with the
# replication privilege.
local   replication     all                                     trust
host    replication     all             127.0.0.1/32            trust
host    replication     all             ::1/128                 trust

",
    );
    if auth == "trust" {
        s.push_str("# warning trust is enabled for all connections\n# see https://www.postgresql.org/docs/12/auth-trust.html\n");
    }
    s.push_str(&format!("host all all all {auth}\n"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7677_vector() {
        // RFC 7677's example: user "user", password "pencil".
        let salt = B64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let secret = Secret::new("pencil", &salt, 4096);
        let mut client =
            ScramClient { password: "pencil".into(), cnonce: "rOprNGfwEbeRWgbNEkqO".into(), server_signature: vec![] };
        let server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        let fin = client.client_final(server_first).unwrap();
        // The RFC's client-first names the user (n=user); PostgreSQL's leaves it empty, so
        // the proof differs from the RFC's; check it against our server instead.
        let srv = ScramServer {
            secret: secret.clone(),
            mock: false,
            nonce: "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0".into(),
            client_first_bare: "n=,r=rOprNGfwEbeRWgbNEkqO".into(),
            server_first: server_first.into(),
            gs2: "n,,".into(),
        };
        let server_final = srv.finish(&fin).unwrap();
        assert!(client.verify(&server_final));
        // The stored key of the RFC's example.
        let sp = salted_password("pencil", &salt, 4096);
        let ck = hmac(&sp, b"Client Key");
        let auth = "n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        let sig = hmac(&Sha256::digest(ck), auth.as_bytes());
        let proof: Vec<u8> = ck.iter().zip(sig).map(|(a, b)| a ^ b).collect();
        assert_eq!(B64.encode(proof), "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
        assert_eq!(
            B64.encode(hmac(&hmac(&sp, b"Server Key"), auth.as_bytes())),
            "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        );
    }

    #[test]
    fn exchange_and_wrong_password() {
        let secret = scram_secret("secret", 4096);
        assert!(Secret::parse(&secret).unwrap().check("secret"));
        for (pw, ok) in [("secret", true), ("nope", false)] {
            let mut c = ScramClient::new(pw);
            let (srv, first) = ScramServer::start(Some(&secret), &c.client_first()).unwrap();
            let fin = c.client_final(&first).unwrap();
            match srv.finish(&fin) {
                Ok(v) => {
                    assert!(ok);
                    assert!(c.verify(&v));
                }
                Err(e) => {
                    assert!(!ok);
                    assert_eq!(e, "password");
                }
            }
        }
        // no such user: the exchange runs, and fails
        let mut c = ScramClient::new("x");
        let (srv, first) = ScramServer::start(None, &c.client_first()).unwrap();
        assert!(srv.finish(&c.client_final(&first).unwrap()).is_err());
    }

    #[test]
    fn md5() {
        // md5(md5("secretpostgres") + salt)
        assert_eq!(md5_response("postgres", "secret", &[1, 2, 3, 4]).len(), 35);
        assert!(md5_response("postgres", "secret", &[1, 2, 3, 4]).starts_with("md5"));
    }

    #[test]
    fn hba_rules() {
        let conf = default_hba("scram-sha-256");
        assert_eq!(hba_method(&conf, Some(Ipv4Addr::LOCALHOST), "postgres", "postgres"), Some(Method::Trust));
        assert_eq!(hba_method(&conf, Some(Ipv4Addr::new(172, 17, 0, 1)), "postgres", "postgres"), Some(Method::Scram));
        let conf = "host mydb bob 10.0.0.0/8 md5\nhost all all 0.0.0.0 0.0.0.0 reject\n";
        assert_eq!(hba_method(conf, Some(Ipv4Addr::new(10, 1, 2, 3)), "bob", "mydb"), Some(Method::Md5));
        assert_eq!(hba_method(conf, Some(Ipv4Addr::new(10, 1, 2, 3)), "bob", "other"), Some(Method::Reject));
        assert_eq!(hba_method("local all all trust\n", Some(Ipv4Addr::LOCALHOST), "a", "b"), None);
        assert_eq!(hba_method("local all all trust\n", None, "a", "b"), Some(Method::Trust));
        assert_eq!(hba_method(&default_hba("scram-sha-256"), None, "a", "b"), Some(Method::Trust));
    }
}
