//! The results: one JSON document per run, and a Markdown table of it.

use crate::load::Outcome;
use crate::procs::Memory;
use serde::{Deserialize, Serialize};

/// Latency percentiles, in milliseconds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Latency {
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Latency {
    pub fn of(o: &Outcome) -> Option<Latency> {
        (!o.hist.is_empty()).then(|| {
            let ms = |q: f64| o.hist.value_at_quantile(q) as f64 / 1000.0;
            Latency {
                p50: ms(0.5),
                p99: ms(0.99),
                p999: ms(0.999),
                max: o.hist.max() as f64 / 1000.0,
            }
        })
    }
}

/// A measured figure: a rate (or a size, for memory rows).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Figure {
    /// Operations per second (or MB, or a growth ratio: see the workload's unit).
    pub value: f64,
    /// Operations that succeeded, and that failed (a failed operation is not counted in `value`).
    pub ops: u64,
    pub errors: u64,
    pub secs: f64,
    pub latency_ms: Option<Latency>,
    /// The serving process's memory during this workload.
    pub server_memory: Option<Memory>,
}

impl Figure {
    pub fn rate(o: &Outcome, memory: Option<Memory>) -> Figure {
        Figure {
            value: o.rate(),
            ops: o.ok,
            errors: o.errors,
            secs: o.secs,
            latency_ms: Latency::of(o),
            server_memory: memory,
        }
    }

    pub fn scalar(value: f64) -> Figure {
        Figure {
            value,
            ops: 0,
            errors: 0,
            secs: 0.0,
            latency_ms: None,
            server_memory: None,
        }
    }
}

/// A target, checked against the figure.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Target {
    /// At least this value.
    pub min_value: Option<f64>,
    /// At most this value (memory).
    pub max_value: Option<f64>,
    /// p99 at most this many milliseconds.
    pub max_p99_ms: Option<f64>,
    /// Ward / baseline at least this.
    pub min_ratio: Option<f64>,
}

impl Target {
    pub fn is_empty(&self) -> bool {
        *self == Target::default()
    }

    pub fn describe(&self, unit: &str) -> String {
        let mut parts = Vec::new();
        if let Some(v) = self.min_value {
            parts.push(format!("≥ {} {unit}", group(v)));
        }
        if let Some(v) = self.max_value {
            parts.push(format!("≤ {} {unit}", group(v)));
        }
        if let Some(v) = self.max_p99_ms {
            parts.push(format!("p99 ≤ {v} ms"));
        }
        if let Some(v) = self.min_ratio {
            parts.push(format!("≥ {v} × baseline"));
        }
        if parts.is_empty() {
            "—".into()
        } else {
            parts.join(", ")
        }
    }
}

/// One row of the results.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Workload {
    /// A stable key, for comparing runs.
    pub key: String,
    pub title: String,
    /// The unit of `ward.value` and `baseline.value`.
    pub unit: String,
    /// Concurrent clients (connections, or baseline submitters).
    pub clients: usize,
    /// Subjects in the vault when the workload ran.
    pub subjects: u64,
    pub ward: Figure,
    pub baseline: Option<Figure>,
    /// What the baseline is.
    pub baseline_what: String,
    /// Ward / baseline (for memory rows: Ward's size / the baseline's size).
    pub ratio: Option<f64>,
    pub target: Target,
    /// Whether every part of the target is met; `None` when there is no target.
    pub met: Option<bool>,
    pub notes: Vec<String>,
}

impl Workload {
    /// Computes `ratio` and `met`.
    pub fn finish(mut self) -> Self {
        self.ratio = self
            .baseline
            .as_ref()
            .filter(|b| b.value > 0.0)
            .map(|b| self.ward.value / b.value);
        if self.target.is_empty() {
            self.met = None;
            return self;
        }
        let t = &self.target;
        let mut ok = self.ward.errors == 0;
        if let Some(v) = t.min_value {
            ok &= self.ward.value >= v;
        }
        if let Some(v) = t.max_value {
            ok &= self.ward.value <= v;
        }
        if let Some(v) = t.max_p99_ms {
            ok &= self.ward.latency_ms.is_some_and(|l| l.p99 <= v);
        }
        if let Some(v) = t.min_ratio {
            ok &= self.ratio.is_some_and(|r| r >= v);
        }
        self.met = Some(ok);
        self
    }
}

/// The machine the run measured.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Machine {
    pub cores: usize,
    pub cpu_model: String,
    pub memory_gib: f64,
    pub kernel: String,
    /// The file system and device under the work directory.
    pub disk: String,
    /// PostgreSQL's version and durability settings, for PostgreSQL runs.
    pub postgres: Option<String>,
}

/// One run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub format: u32,
    pub ward_version: String,
    pub git_commit: Option<String>,
    /// RFC 3339.
    pub started_at: String,
    pub command: String,
    pub backend: String,
    pub scale: String,
    pub clients: usize,
    pub duration_secs: f64,
    pub machine: Machine,
    pub total_secs: f64,
    pub workloads: Vec<Workload>,
}

/// `12345.6` → `12,346`; small values keep decimals.
pub fn group(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    if v.abs() < 100.0 {
        return format!("{v:.2}");
    }
    let n = v.round() as i64;
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

fn lat(l: Option<Latency>) -> String {
    l.map_or_else(
        || "—".into(),
        |l| format!("{:.2} / {:.2} / {:.2}", l.p50, l.p99, l.p999),
    )
}

/// The results as a Markdown table.
pub fn markdown(r: &Report) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "{} backend, scale `{}`, {} clients, {} s per timed workload; {} cores ({}), {:.0} GiB, kernel {}; disk: {}{}\n\n",
        r.backend,
        r.scale,
        r.clients,
        r.duration_secs,
        r.machine.cores,
        r.machine.cpu_model,
        r.machine.memory_gib,
        r.machine.kernel,
        r.machine.disk,
        r.machine
            .postgres
            .as_ref()
            .map(|p| format!("; {p}"))
            .unwrap_or_default(),
    ));
    s.push_str("| Workload | Subjects | Ward | p50 / p99 / p99.9 ms | Server RSS peak | Baseline | Baseline p50 / p99 / p99.9 ms | Ratio | Target | Met |\n");
    s.push_str("|---|---:|---:|---|---:|---:|---|---:|---|:---:|\n");
    for w in &r.workloads {
        let errors = if w.ward.errors > 0 {
            format!(" ({} errors)", w.ward.errors)
        } else {
            String::new()
        };
        s.push_str(&format!(
            "| {} | {} | {} {}{} | {} | {} | {} | {} | {} | {} | {} |\n",
            w.title,
            group(w.subjects as f64),
            group(w.ward.value),
            w.unit,
            errors,
            lat(w.ward.latency_ms),
            w.ward
                .server_memory
                .map_or_else(|| "—".into(), |m| format!("{:.0} MB", m.peak_rss_mib * 1.048_576)),
            w.baseline
                .as_ref()
                .map_or_else(|| "—".into(), |b| format!("{} {}", group(b.value), w.unit)),
            lat(w.baseline.as_ref().and_then(|b| b.latency_ms)),
            w.ratio.map_or_else(|| "—".into(), |x| format!("{x:.2}")),
            w.target.describe(&w.unit),
            match w.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "—",
            }
        ));
    }
    s.push('\n');
    s.push_str("Baselines:\n\n");
    for w in &r.workloads {
        if !w.baseline_what.is_empty() {
            s.push_str(&format!("- {}: {}\n", w.title, w.baseline_what));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(group(1234567.4), "1,234,567");
        assert_eq!(group(999.0), "999");
        assert_eq!(group(1.5), "1.50");
    }

    #[test]
    fn a_target_is_met_only_when_every_part_is() {
        let w = Workload {
            key: "k".into(),
            title: "t".into(),
            unit: "ops/s".into(),
            clients: 1,
            subjects: 1,
            ward: Figure::scalar(10.0),
            baseline: Some(Figure::scalar(40.0)),
            baseline_what: String::new(),
            ratio: None,
            target: Target {
                min_value: Some(5.0),
                min_ratio: Some(0.5),
                ..Target::default()
            },
            met: None,
            notes: vec![],
        }
        .finish();
        assert_eq!(w.ratio, Some(0.25));
        assert_eq!(w.met, Some(false));
    }
}
