//! The machine a run measured, and the commit it measured.

use crate::report::Machine;
use std::path::Path;
use std::process::Command;

/// The commit checked out where the run started, if that is a git work tree.
pub(crate) fn git_commit() -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// This machine: cores, CPU model, memory, kernel, and the disk under `dir`.
pub fn machine(dir: &Path) -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or_else(|| "unknown".to_owned(), |(_, m)| m.trim().to_owned());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_gib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    let disk = Command::new("df")
        .args(["-P", "-T", "-h"])
        .arg(dir)
        .output()
        .ok()
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            text.lines().nth(1).map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                let dev = f.first().copied().unwrap_or("?");
                let name = dev.rsplit('/').next().unwrap_or(dev);
                let rotational = std::fs::read_to_string(format!("/sys/block/{name}/queue/rotational"))
                    .ok()
                    .map(|r| {
                        if r.trim() == "1" {
                            ", rotational"
                        } else {
                            ", non-rotational"
                        }
                    })
                    .unwrap_or_default();
                format!(
                    "{dev} ({}, {} total{rotational})",
                    f.get(1).copied().unwrap_or("?"),
                    f.get(2).copied().unwrap_or("?")
                )
            })
        })
        .unwrap_or_else(|| "unknown".into());
    Machine {
        cores: std::thread::available_parallelism().map_or(0, usize::from),
        cpu_model,
        memory_gib,
        kernel,
        disk,
        postgres: None,
    }
}
