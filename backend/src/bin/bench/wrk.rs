//! wrk on one connection, its latency distribution read back as numbers.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context};

use crate::report::Figures;

/// `wrk -t1 -c1 -d<duration> --latency [-s script] url`.
pub fn run(url: &str, script: Option<&Path>, duration: Duration) -> anyhow::Result<Figures> {
    let mut command = Command::new("wrk");
    command
        .args(["-t1", "-c1", "--latency", "-d"])
        .arg(format!("{}s", duration.as_secs().max(1)));
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    let output = command
        .arg(url)
        .output()
        .context("run wrk (the setup installs it)")?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        bail!(
            "wrk exited with {} on {url}:\n{text}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    if text.contains("Non-2xx") || text.contains("Socket errors") {
        bail!("wrk saw errors from {url}:\n{text}");
    }
    let field = |prefix: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(1))
            .with_context(|| format!("no `{prefix}` line in wrk's output:\n{text}"))
    };
    Ok(Figures {
        p50: micros(field("50%")?)?,
        p99: micros(field("99%")?)?,
        rate: field("Requests/sec:")?
            .parse()
            .context("wrk's Requests/sec")?,
        // One connection, one request at a time.
        in_flight: 1.0,
    })
}

/// wrk's `123.45us` / `1.20ms` / `2.00s` in microseconds.
fn micros(value: &str) -> anyhow::Result<f64> {
    let split = value
        .find(|c: char| c.is_ascii_alphabetic())
        .with_context(|| format!("no unit in wrk's `{value}`"))?;
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().with_context(|| format!("wrk's `{value}`"))?;
    let scale = match unit {
        "us" => 1.0,
        "ms" => 1_000.0,
        "s" => 1_000_000.0,
        _ => bail!("unknown unit in wrk's `{value}`"),
    };
    Ok(number * scale)
}

#[cfg(test)]
mod tests {
    use super::micros;

    #[test]
    fn reads_wrk_units_as_micros() {
        assert_eq!(micros("72.00us").unwrap(), 72.0);
        assert_eq!(micros("12.47ms").unwrap(), 12_470.0);
        assert_eq!(micros("1.50s").unwrap(), 1_500_000.0);
        assert!(micros("7").is_err());
    }
}
