//! `skiff network ls|create|inspect|rm|prune|connect|disconnect`: the networks containers are
//! on and the addresses they hold there (names and ports reach guests with the network issue's
//! data plane; this is the model they use).

use super::listing::Listing;
use crate::container;
use crate::network::{self, Network};
use crate::store::Store;
use clap::{Args, Subcommand};
use serde_json::{json, Value};

#[derive(Debug, Subcommand)]
pub enum NetworkCommand {
    /// Create a network
    Create(CreateArgs),
    /// List networks
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Display detailed information on one or more networks
    Inspect(InspectArgs),
    /// Remove one or more networks
    #[command(alias = "remove")]
    Rm(RmArgs),
    /// Remove all unused networks
    Prune(PruneArgs),
    /// Connect a container to a network
    Connect(ConnectArgs),
    /// Disconnect a container from a network
    Disconnect(ConnectArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Driver to manage the Network
    #[arg(short, long, default_value = "bridge", value_name = "string")]
    driver: String,
    /// Subnet in CIDR format that represents a network segment
    #[arg(long, value_name = "strings")]
    subnet: Option<String>,
    /// IPv4 Gateway for the master subnet
    #[arg(long, value_name = "strings")]
    gateway: Option<String>,
    /// Restrict external access to the network
    #[arg(long)]
    internal: bool,
    name: String,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only display network IDs
    #[arg(short, long)]
    quiet: bool,
    /// Do not truncate the output
    #[arg(long)]
    no_trunc: bool,
    /// Pretty-print networks using a Go template
    #[arg(long, value_name = "string")]
    format: Option<String>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Format the output using the given Go template
    #[arg(short, long, value_name = "string")]
    format: Option<String>,
    #[arg(required = true, value_name = "NETWORK")]
    networks: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    #[arg(required = true, value_name = "NETWORK")]
    networks: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Do not prompt for confirmation
    #[arg(short, long)]
    force: bool,
}

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// Add network-scoped alias for the container
    #[arg(long, value_name = "strings")]
    alias: Vec<String>,
    network: String,
    container: String,
}

pub fn exec(cmd: NetworkCommand) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    match cmd {
        NetworkCommand::Create(a) => {
            if a.driver != "bridge" {
                anyhow::bail!("plugin \"{}\" not found (skiff networks use the bridge driver)", a.driver);
            }
            let n = network::create(&store, &a.name, a.subnet.as_deref(), a.gateway.as_deref(), a.internal)?;
            println!("{}", n.id);
            Ok(0)
        }
        NetworkCommand::Ls(a) => {
            let mut list = Listing::new(
                &[("ID", "NETWORK ID"), ("Name", "NAME"), ("Driver", "DRIVER"), ("Scope", "SCOPE")],
                "table {{.ID}}\\t{{.Name}}\\t{{.Driver}}\\t{{.Scope}}",
            );
            for n in network::list(&store)? {
                let id = if a.no_trunc { n.id.clone() } else { n.id[..12].to_string() };
                if a.quiet {
                    println!("{id}");
                    continue;
                }
                list.push([
                    ("ID", id),
                    ("Name", n.name.clone()),
                    ("Driver", n.driver.clone()),
                    ("Scope", n.scope.clone()),
                ]);
            }
            if !a.quiet {
                list.print(a.format.as_deref())?;
            }
            Ok(0)
        }
        NetworkCommand::Inspect(a) => {
            let template = super::inspect::parse_format(a.format.as_deref())?;
            let mut found = Vec::new();
            let mut missing = Vec::new();
            for key in &a.networks {
                match network::find(&store, key) {
                    Ok(n) => found.push(inspect_json(&store, &n)?),
                    Err(_) => missing.push(format!("No such network: {key}")),
                }
            }
            super::inspect::print_objects(found, &missing, template.as_ref())
        }
        NetworkCommand::Rm(a) => Ok(super::each::for_each(
            &a.networks,
            |key| network::find(&store, key).map_err(|_| anyhow::anyhow!("No such network: {key}")),
            |_, n| {
                if ["bridge", "host", "none"].contains(&n.name.as_str()) {
                    anyhow::bail!("{} is a pre-defined network and cannot be removed", n.name);
                }
                if !attached(&store, &n)?.is_empty() {
                    anyhow::bail!("error while removing network: network {} id {} has active endpoints", n.name, n.id);
                }
                Ok(network::remove(&store, &n)?)
            },
        )),
        NetworkCommand::Prune(a) => {
            if !a.force
                && !super::confirm("WARNING! This will remove all custom networks not used by at least one container.")?
            {
                return Ok(0);
            }
            super::each::report(&[super::prune::networks(&store)?]);
            Ok(0)
        }
        NetworkCommand::Connect(a) => {
            let n = network::find(&store, &a.network).map_err(|_| anyhow::anyhow!("No such network: {}", a.network))?;
            let _lock = store.lock()?;
            let mut c = container::find(&store, &a.container)?;
            if c.networks.contains_key(&n.name) {
                anyhow::bail!("endpoint with name {} already exists in network {}", c.name, n.name);
            }
            if n.name == "host" || c.networks.contains_key("host") {
                anyhow::bail!("container cannot be disconnected from host network or connected to host network");
            }
            if n.name == "none" || c.networks.contains_key("none") {
                anyhow::bail!("container cannot be connected to multiple networks with one of the networks in private (none) mode");
            }
            let mut e = network::allocate(&n, &container::taken_addresses(&store, &n.name)?, a.alias)?;
            e.joined = c.networks.values().map(|x| x.joined + 1).max().unwrap_or(0);
            c.networks.insert(n.name.clone(), e);
            c.save(&store)?;
            // A running container's backend follows at once (a native one gets its interface).
            if c.state.is_alive() {
                c.backend(&store)?.network_changed(&c.spec(&store)?)?;
            }
            network_event(&store, &n, "connect", &c.id);
            Ok(0)
        }
        NetworkCommand::Disconnect(a) => {
            let n = network::find(&store, &a.network).map_err(|_| anyhow::anyhow!("No such network: {}", a.network))?;
            let _lock = store.lock()?;
            let mut c = container::find(&store, &a.container)?;
            if c.networks.remove(&n.name).is_none() {
                anyhow::bail!("container {} is not connected to network {}", c.id, n.name);
            }
            c.save(&store)?;
            if c.state.is_alive() {
                c.backend(&store)?.network_changed(&c.spec(&store)?)?;
            }
            network_event(&store, &n, "disconnect", &c.id);
            Ok(0)
        }
    }
}

/// `network connect|disconnect <network id> (container=…, name=…, type=bridge)`.
fn network_event(store: &Store, n: &Network, action: &str, container: &str) {
    crate::events::record(
        store,
        crate::events::Event::new(
            "network",
            action,
            &n.id,
            &[("container", container), ("name", n.name.as_str()), ("type", n.driver.as_str())],
        ),
    );
}

/// The containers on `n`: (container, endpoint).
fn attached(store: &Store, n: &Network) -> anyhow::Result<Vec<(container::Container, network::Endpoint)>> {
    Ok(container::list(store)?.into_iter().filter_map(|c| c.networks.get(&n.name).cloned().map(|e| (c, e))).collect())
}

fn inspect_json(store: &Store, n: &Network) -> anyhow::Result<Value> {
    let mut v = serde_json::to_value(n)?;
    let mut containers = serde_json::Map::new();
    for (c, e) in attached(store, n)? {
        containers.insert(
            c.id.clone(),
            json!({
                "Name": c.name,
                "EndpointID": e.endpoint_id,
                "MacAddress": e.mac_address,
                "IPv4Address": if e.ip_address.is_empty() { String::new() } else { format!("{}/{}", e.ip_address, e.ip_prefix_len) },
                "IPv6Address": "",
            }),
        );
    }
    // Docker's key order: `Containers` after `ConfigOnly`.
    let obj = v.as_object_mut().expect("a network is an object");
    let mut out = serde_json::Map::new();
    for (k, val) in std::mem::take(obj) {
        let after = k == "ConfigOnly";
        out.insert(k, val);
        if after {
            out.insert("Containers".into(), Value::Object(containers.clone()));
        }
    }
    Ok(Value::Object(out))
}
