//! `skiff port CONTAINER [PRIVATE_PORT[/PROTO]]`: the host addresses a running container's
//! ports are published on.

use crate::container;
use clap::Args;

#[derive(Debug, Args)]
pub struct PortArgs {
    container: String,
    /// Only this container port (`80` or `80/tcp`)
    #[arg(value_name = "PRIVATE_PORT[/PROTO]")]
    port: Option<String>,
}

pub fn exec(a: PortArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let c = container::find(&store, &a.container)?;
    let ports = if c.state.is_alive() { c.ports.clone() } else { Default::default() };
    let mut keys: Vec<&String> = ports.keys().collect();
    keys.sort_by_key(|k| k.split('/').next().and_then(|p| p.parse::<u16>().ok()).unwrap_or(0));
    match &a.port {
        Some(p) => {
            let (key, _) = crate::network::ports::port_key(p)?;
            let list = ports
                .get(&key)
                .filter(|l| !l.is_empty())
                .ok_or_else(|| anyhow::anyhow!("No public port '{key}' published for {}", a.container))?;
            for b in list {
                println!("{}:{}", b.host_ip, b.host_port);
            }
        }
        None => {
            for k in keys {
                for b in &ports[k] {
                    println!("{k} -> {}:{}", b.host_ip, b.host_port);
                }
            }
        }
    }
    Ok(0)
}
