//! The pre-flight doctor's report: a line per check, green or red, with the
//! fix. Shown by "Check configuration" and printed by `tenant-mail doctor`.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    Pass,
    /// Works, but something is worth knowing (not a failure).
    Warn,
    Fail,
    /// Not run, because an earlier check failed or it does not apply.
    Skip,
}

impl CheckOutcome {
    pub fn label(self) -> &'static str {
        match self {
            CheckOutcome::Pass => "OK",
            CheckOutcome::Warn => "Warning",
            CheckOutcome::Fail => "Failed",
            CheckOutcome::Skip => "Skipped",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoctorCheck {
    pub name: String,
    pub outcome: CheckOutcome,
    pub detail: String,
    /// What to do (failures and warnings).
    pub fix: Option<String>,
    /// A value to copy as it is (the redirect URI to register).
    pub copy: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoctorReport {
    pub tenant_email_id: String,
    pub address: String,
    pub checks: Vec<DoctorCheck>,
}

impl DoctorReport {
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.outcome == CheckOutcome::Fail)
    }
}
