//! Many clients on one state root at once, as a classroom's shared machine has them: eight
//! threads, each doing fifty mixed commands (run, run -d/exec/rm, build, tag/rmi, load,
//! network and volume create/rm), with names of their own, so no command has a reason to
//! fail; then `system check` must be clean. And the races issue 17 found: parallel
//! `network create` of different networks must get different subnets, of one name exactly
//! one must succeed.

use super::*;
use crate::util::Sandbox;
use std::sync::Arc;

const CLIENTS: usize = 8;
const OPS: usize = 50;

#[test]
fn parallel_clients_on_one_root() {
    let sb = Arc::new(Sandbox::new());
    sb.run(&["pull", "busybox"]).ok();
    sb.run(&["network", "ls"]).ok();
    let layer = raw_tar(&[(tar::EntryType::Regular, "shared", "", b"one layer for all\n", 0o644)]);
    std::fs::write(sb.work.path().join("img.tar"), docker_archive(&[layer], &["loaded:shared"], None)).unwrap();
    let threads: Vec<_> = (0..CLIENTS)
        .map(|t| {
            let sb = sb.clone();
            std::thread::spawn(move || {
                let mut done = Vec::new();
                let ctx = sb.work.path().join(format!("ctx{t}"));
                std::fs::create_dir_all(&ctx).unwrap();
                for i in 0..OPS {
                    let name = format!("t{t}o{i}");
                    let steps: Vec<Vec<String>> = match i % 10 {
                        0 => vec![sv(&["run", "--rm", "busybox", "sh", "-c", "echo hi > /x && cat /x"])],
                        1 => vec![
                            sv(&["run", "-d", "--name", &name, "busybox", "sleep", "5"]),
                            sv(&["exec", &name, "sh", "-c", "echo e > /e && cat /e"]),
                            sv(&["rm", "-f", &name]),
                        ],
                        2 => {
                            std::fs::write(
                                ctx.join("Dockerfile"),
                                format!("FROM busybox\nRUN echo {t}-{i} > /b\nENV T={t}\n"),
                            )
                            .unwrap();
                            vec![sv(&["build", "-q", "-t", &format!("b{t}:{i}"), ctx.to_str().unwrap()])]
                        }
                        3 => vec![
                            sv(&["tag", "busybox", &format!("tagged{t}:{i}")]),
                            sv(&["rmi", &format!("tagged{t}:{i}")]),
                        ],
                        4 => vec![sv(&["load", "-q", "-i", sb.work.path().join("img.tar").to_str().unwrap()])],
                        5 => vec![
                            sv(&["network", "create", &format!("net{name}")]),
                            sv(&["network", "rm", &format!("net{name}")]),
                        ],
                        6 => vec![
                            sv(&["volume", "create", &format!("vol{name}")]),
                            sv(&["volume", "rm", &format!("vol{name}")]),
                        ],
                        7 => vec![sv(&["rmi", &format!("b{t}:{}", i - 5)])],
                        8 => vec![
                            sv(&[
                                "run",
                                "--name",
                                &name,
                                "-v",
                                &format!("v{t}:/data"),
                                "busybox",
                                "sh",
                                "-c",
                                "echo $HOSTNAME >> /data/log",
                            ]),
                            sv(&["rm", &name]),
                        ],
                        _ => vec![sv(&["images", "-a"]), sv(&["ps", "-a"]), sv(&["network", "ls"])],
                    };
                    for args in steps {
                        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
                        let r = sb.run(&argv);
                        assert_no_panic(&r, &format!("client {t} op {i}"));
                        assert_eq!(r.code, 0, "client {t}, op {i}: {args:?}\n{}{}", r.stdout, r.stderr);
                        done.push(args[0].clone());
                    }
                }
                done.len()
            })
        })
        .collect();
    let commands: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    sb.assert_check_clean("after the parallel clients");
    println!("concurrency: {CLIENTS} clients x {OPS} operations ({commands} commands), 0 unintended errors");
}

fn sv(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn parallel_network_creates() {
    let sb = Arc::new(Sandbox::new());
    sb.run(&["network", "ls"]).ok();
    let run_all = |names: Vec<String>| -> Vec<crate::util::Run> {
        let ts: Vec<_> = names
            .into_iter()
            .map(|n| {
                let sb = sb.clone();
                std::thread::spawn(move || sb.run(&["network", "create", &n]))
            })
            .collect();
        ts.into_iter().map(|t| t.join().unwrap()).collect()
    };
    let rs = run_all((0..8).map(|i| format!("par{i}")).collect());
    assert!(rs.iter().all(|r| r.code == 0), "{:?}", rs.iter().map(|r| &r.stderr).collect::<Vec<_>>());
    let subnets = sb
        .run(&[
            "network",
            "inspect",
            "-f",
            "{{range .IPAM.Config}}{{.Subnet}}{{end}}",
            "par0",
            "par1",
            "par2",
            "par3",
            "par4",
            "par5",
            "par6",
            "par7",
        ])
        .ok()
        .stdout;
    let mut list: Vec<&str> = subnets.lines().collect();
    list.sort();
    list.dedup();
    assert_eq!(list.len(), 8, "two networks got one subnet:\n{subnets}");
    let rs = run_all((0..8).map(|_| "same".to_string()).collect());
    assert_eq!(
        rs.iter().filter(|r| r.code == 0).count(),
        1,
        "parallel creates of one name: {:?}",
        rs.iter().map(|r| (r.code, &r.stderr)).collect::<Vec<_>>()
    );
    assert!(rs.iter().filter(|r| r.code != 0).all(|r| r.stderr.contains("already exists")));
    sb.assert_check_clean("after parallel network creates");
}
