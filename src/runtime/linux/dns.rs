//! The embedded DNS server of a native container on a user-defined network, as Docker's at
//! `127.0.0.11`: a UDP socket made inside the container's network namespace (a socket stays
//! in the namespace it was made in) and served by a thread of its supervisor. Names are
//! answered by the one set of rules both backends use (`network::rules::resolve`: the
//! container's `/etc/hosts`, then the names, aliases and short IDs of running containers on
//! its user networks), read from the records at each query, so a container joining,
//! leaving, renamed or removed is seen at once. Other dotted names go to the host's
//! resolver; a single name that is no container is NXDOMAIN at once.

use crate::network::{rules, Directory};
use simple_dns::rdata::{RData, A};
use simple_dns::{Packet, PacketFlag, ResourceRecord, CLASS, QTYPE, RCODE, TYPE};
use std::net::{Ipv4Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The address Docker's embedded server answers on.
pub const ADDRESS: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 11);

/// A running server; dropping it stops the thread.
pub struct Server {
    stop: Arc<AtomicBool>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Serve names for container `id` on `127.0.0.11:53` in the namespace pinned at `netns`.
pub fn serve(netns: &Path, directory: Arc<dyn Directory>, id: String) -> std::io::Result<Server> {
    let sock = super::sys::in_netns(netns, || UdpSocket::bind((ADDRESS, 53)))?;
    sock.set_read_timeout(Some(Duration::from_millis(250)))?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    std::thread::Builder::new().name("dns".into()).spawn(move || {
        let mut buf = [0u8; 1500];
        while !flag.load(Ordering::SeqCst) {
            let Ok((n, from)) = sock.recv_from(&mut buf) else { continue };
            if let Some(reply) = answer(&buf[..n], &|name| lookup(directory.as_ref(), &id, name)) {
                let _ = sock.send_to(&reply, from);
            }
        }
    })?;
    Ok(Server { stop })
}

/// What `name` is for container `id`: the rules, then the host's resolver for dotted names.
/// `None`: no such name.
fn lookup(directory: &dyn Directory, id: &str, name: &str) -> Option<Vec<Ipv4Addr>> {
    let me = directory.get(id).ok()?;
    let found = rules::resolve(directory, &me, name);
    if !found.is_empty() {
        return Some(found);
    }
    if !name.trim_end_matches('.').contains('.') {
        return None;
    }
    let host: Vec<Ipv4Addr> = (name.trim_end_matches('.'), 0)
        .to_socket_addrs()
        .ok()?
        .filter_map(|a| if let SocketAddr::V4(a) = a { Some(*a.ip()) } else { None })
        .collect();
    (!host.is_empty()).then_some(host)
}

/// The reply to one query packet (`None` for something that is not a query).
pub fn answer(query: &[u8], resolve: &dyn Fn(&str) -> Option<Vec<Ipv4Addr>>) -> Option<Vec<u8>> {
    let q = Packet::parse(query).ok()?;
    if q.has_flags(PacketFlag::RESPONSE) {
        return None;
    }
    let mut reply = Packet::new_reply(q.id());
    reply.set_flags(PacketFlag::RECURSION_AVAILABLE);
    if q.has_flags(PacketFlag::RECURSION_DESIRED) {
        reply.set_flags(PacketFlag::RECURSION_DESIRED);
    }
    let mut known = false;
    for question in &q.questions {
        reply.questions.push(question.clone());
        let name = question.qname.to_string();
        let Some(ips) = resolve(&name) else { continue };
        known = true;
        if matches!(question.qtype, QTYPE::TYPE(TYPE::A) | QTYPE::ANY) {
            for ip in ips {
                reply.answers.push(ResourceRecord::new(question.qname.clone(), CLASS::IN, 600, RData::A(A::from(ip))));
            }
        }
    }
    if !known && !q.questions.is_empty() {
        *reply.rcode_mut() = RCODE::NameError;
    }
    reply.build_bytes_vec().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use simple_dns::{Name, Question};

    fn query(name: &str, t: TYPE) -> Vec<u8> {
        let mut p = Packet::new_query(7);
        p.set_flags(PacketFlag::RECURSION_DESIRED);
        p.questions.push(Question::new(
            Name::new_unchecked(name),
            QTYPE::TYPE(t),
            simple_dns::QCLASS::CLASS(CLASS::IN),
            false,
        ));
        p.build_bytes_vec().unwrap()
    }

    #[test]
    fn names_and_refusals() {
        let r = |n: &str| (n == "api").then(|| vec![Ipv4Addr::new(172, 18, 0, 2)]);
        let reply = answer(&query("api", TYPE::A), &r).unwrap();
        let p = Packet::parse(&reply).unwrap();
        assert_eq!(p.id(), 7);
        assert_eq!(p.answers.len(), 1);
        assert!(
            matches!(&p.answers[0].rdata, RData::A(a) if Ipv4Addr::from(a.address) == Ipv4Addr::new(172, 18, 0, 2))
        );
        let p2 = answer(&query("nope", TYPE::A), &r).unwrap();
        assert_eq!(Packet::parse(&p2).unwrap().rcode(), RCODE::NameError);
        let p3 = answer(&query("api", TYPE::AAAA), &r).unwrap();
        let p3 = Packet::parse(&p3).unwrap();
        assert_eq!((p3.rcode(), p3.answers.len()), (RCODE::NoError, 0), "known, but no IPv6");
    }
}
