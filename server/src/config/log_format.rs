//! `log_format`: how log lines are written — text for people, JSON for log
//! collectors (one object per line, the event's fields at the top level).
use serde::Deserialize;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}
