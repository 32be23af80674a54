//! `tenant-mail doctor`: the pre-flight doctor for every mailbox, from the
//! server's shell (a line per check, the fix under a failure), exiting
//! non-zero when anything fails — for a deployment script or a cron job.
use super::{open, CliError};
use crate::config::Config;
use crate::identity::Identity;
use app::model::doctor::{CheckOutcome, DoctorReport};

/// The report as text.
pub fn render(report: &DoctorReport) -> String {
    let mut out = format!("{} ({})\n", report.address, report.tenant_email_id);
    for c in &report.checks {
        let mark = match c.outcome {
            CheckOutcome::Pass => "ok  ",
            CheckOutcome::Warn => "warn",
            CheckOutcome::Fail => "FAIL",
            CheckOutcome::Skip => "skip",
        };
        out.push_str(&format!("  [{mark}] {}: {}\n", c.name, c.detail));
        if let Some(copy) = &c.copy {
            out.push_str(&format!("         value: {copy}\n"));
        }
        if let Some(fix) = &c.fix {
            out.push_str(&format!("         fix: {fix}\n"));
        }
    }
    out
}

/// Checks every mailbox; `Ok(false)` when any check failed.
pub async fn doctor(config: &Config) -> Result<bool, CliError> {
    let store = open(config).await?;
    let identity =
        Identity::new(store.clone(), config).map_err(|e| CliError::Invalid(e.to_string()))?;
    let mut healthy = true;
    let mut count = 0;
    for t in store.tenants().list().await? {
        println!("Tenant {}", t.tenant.name);
        for e in store.tenant_emails().of_tenant(&t.tenant.id).await? {
            count += 1;
            if let Some(report) = identity.doctor(&e.id).await? {
                healthy &= !report.failed();
                print!("{}", render(&report));
            }
        }
    }
    if count == 0 {
        println!("No mailboxes configured.");
    }
    Ok(healthy)
}
