//! `skiff login [SERVER]` and `skiff logout [SERVER]`: check credentials against a registry
//! and keep them in skiff's `config.json` (Docker's shape, mode 0600), or forget them.
//! Docker Hub is the default server. Passwords are never printed.

use crate::registry::auth::{self, Credentials};
use crate::registry::host::{insecure_registries, normalise_domain, HUB_AUTH_KEY};
use crate::registry::{Client, Registry};
use clap::Args;
use std::io::{BufRead, IsTerminal, Read, Write};

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Username
    #[arg(short, long, value_name = "string")]
    username: Option<String>,
    /// Password
    #[arg(short, long, value_name = "string")]
    password: Option<String>,
    /// Take the password from stdin
    #[arg(long)]
    password_stdin: bool,
    /// The registry (default: Docker Hub)
    server: Option<String>,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The registry (default: Docker Hub)
    server: Option<String>,
}

const UNENCRYPTED: &str = "WARNING! Your password will be stored unencrypted in {}.
Configure a credential helper to remove this warning. See
https://docs.docker.com/engine/reference/commandline/login/#credentials-store
";

pub fn login(a: LoginArgs) -> anyhow::Result<i32> {
    if a.password.is_some() && a.password_stdin {
        anyhow::bail!("--password and --password-stdin are mutually exclusive");
    }
    if a.password_stdin && a.username.is_none() {
        anyhow::bail!("Must provide --username with --password-stdin");
    }
    if a.password.is_some() {
        eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
    }
    let domain = normalise_domain(a.server.as_deref().unwrap_or(""));
    let registry = Registry::new(&domain, &insecure_registries());
    let mut password = a.password.clone();
    if a.password_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        password = Some(s.trim_end_matches(['\n', '\r']).to_string());
    }
    // No user and no password: the stored credentials, if they still work.
    if a.username.is_none() && password.is_none() {
        if let Some(stored) = auth::stored(&domain) {
            println!("Authenticating with existing credentials...");
            match Client::new(registry.clone(), Some(stored)).login() {
                Ok(()) => {
                    println!("Login Succeeded");
                    return Ok(0);
                }
                Err(e) => eprintln!("Login did not succeed, error: {e}"),
            }
        }
    }
    let interactive = std::io::stdin().is_terminal();
    let username = match a.username {
        Some(u) => u,
        None => {
            if !interactive {
                anyhow::bail!("Cannot perform an interactive login from a non TTY device");
            }
            prompt("Username: ")?
        }
    };
    if username.trim().is_empty() {
        anyhow::bail!("Username cannot be empty");
    }
    let password = match password {
        Some(p) => p,
        None => {
            if !interactive {
                anyhow::bail!("Cannot perform an interactive login from a non TTY device");
            }
            read_password("Password: ")?
        }
    };
    if password.is_empty() {
        anyhow::bail!("Password cannot be empty");
    }
    let creds = Credentials { username: username.trim().to_string(), password };
    Client::new(registry.clone(), Some(creds.clone())).login()?;
    auth::store(&registry.auth_key(), &creds)?;
    eprintln!("{}", UNENCRYPTED.replace("{}", &auth::config_file().display().to_string()));
    println!("Login Succeeded");
    Ok(0)
}

pub fn logout(a: LogoutArgs) -> anyhow::Result<i32> {
    let (domain, shown) = match a.server.as_deref() {
        None => ("docker.io".to_string(), HUB_AUTH_KEY.to_string()),
        Some(s) => {
            let d = normalise_domain(s);
            let shown = if d == "docker.io" { HUB_AUTH_KEY.to_string() } else { d.clone() };
            (d, shown)
        }
    };
    if auth::remove(&domain)? {
        println!("Removing login credentials for {shown}");
    } else {
        println!("Not logged in to {shown}");
    }
    Ok(0)
}

fn prompt(label: &str) -> anyhow::Result<String> {
    print!("{label}");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// Read a line from the terminal without echoing it.
fn read_password(label: &str) -> anyhow::Result<String> {
    print!("{label}");
    std::io::stdout().flush()?;
    #[cfg(unix)]
    // SAFETY: termios is read, changed and restored on stdin only; the struct is plain data.
    let saved = unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(0, &mut t) == 0 {
            let saved = t;
            t.c_lflag &= !libc::ECHO;
            libc::tcsetattr(0, libc::TCSANOW, &t);
            Some(saved)
        } else {
            None
        }
    };
    let mut line = String::new();
    let r = std::io::stdin().lock().read_line(&mut line);
    #[cfg(unix)]
    if let Some(saved) = saved {
        // SAFETY: restores the settings read above.
        unsafe {
            libc::tcsetattr(0, libc::TCSANOW, &saved);
        }
    }
    println!();
    r?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}
