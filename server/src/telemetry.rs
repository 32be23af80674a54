//! What operators scrape at `GET /metrics` (Prometheus text format): counters
//! and a histogram the mail engine and the sign-in code add to as they work.
//! Process-wide, like the process they describe. Gauges that are the state of
//! the database (the outbox by state) are read when scraped, in `routes::metrics`.
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::LazyLock;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Status {
    /// The HTTP status, or `transport` when no answer came.
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Result {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AlertDelivery {
    destination: &'static str,
    result: &'static str,
}

struct Telemetry {
    registry: Registry,
    graph_responses: Family<Status, Counter>,
    outbox_finished: Family<Result, Counter>,
    send_latency: Histogram,
    token_refreshes: Family<Result, Counter>,
    inbox_messages: Counter,
    secrets_rotated: Counter,
    alerts: Family<AlertDelivery, Counter>,
}

static TELEMETRY: LazyLock<Telemetry> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("tenant_mail");
    let graph_responses = Family::<Status, Counter>::default();
    registry.register(
        "graph_responses",
        "Microsoft Graph answers by HTTP status (429: throttled)",
        graph_responses.clone(),
    );
    let outbox_finished = Family::<Result, Counter>::default();
    registry.register(
        "outbox_messages_finished",
        "Outbox messages that left the queue: sent, failed or held",
        outbox_finished.clone(),
    );
    // From a quick send to a backlog after an hour-long outage.
    let send_latency = Histogram::new([
        0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
    ]);
    registry.register(
        "outbox_send_latency_seconds",
        "Time from queueing a message to Graph accepting it",
        send_latency.clone(),
    );
    let token_refreshes = Family::<Result, Counter>::default();
    registry.register(
        "token_refreshes",
        "Access-token refreshes at Microsoft, by result",
        token_refreshes.clone(),
    );
    let inbox_messages = Counter::default();
    registry.register(
        "inbox_messages_synced",
        "Received messages stored by the inbox sync",
        inbox_messages.clone(),
    );
    let secrets_rotated = Counter::default();
    registry.register(
        "client_secrets_rotated",
        "Next client secrets promoted after Microsoft accepted them",
        secrets_rotated.clone(),
    );
    let alerts = Family::<AlertDelivery, Counter>::default();
    registry.register(
        "alerts_delivered",
        "Alerts handed to a destination (email: queued in the outbox), by result",
        alerts.clone(),
    );
    Telemetry {
        alerts,
        registry,
        graph_responses,
        outbox_finished,
        send_latency,
        token_refreshes,
        inbox_messages,
        secrets_rotated,
    }
});

pub fn secret_rotated() {
    TELEMETRY.secrets_rotated.inc();
}

/// A Graph answer (`None`: no answer, a transport error).
pub fn graph_response(status: Option<u16>) {
    let status = status.map_or_else(|| "transport".to_string(), |s| s.to_string());
    TELEMETRY
        .graph_responses
        .get_or_create(&Status { status })
        .inc();
}

/// An outbox message sent; `queued_for` is its time from queueing to sent.
pub fn message_sent(queued_for: Duration) {
    TELEMETRY
        .outbox_finished
        .get_or_create(&Result { result: "sent" })
        .inc();
    TELEMETRY.send_latency.observe(queued_for.as_secs_f64());
}

/// An outbox message given up on (`failed`) or held for re-authentication (`held`).
pub fn message_stopped(result: &'static str) {
    TELEMETRY
        .outbox_finished
        .get_or_create(&Result { result })
        .inc();
}

/// A refresh at the token endpoint: `ok`, `refused` or `unavailable`.
pub fn token_refresh(result: &'static str) {
    TELEMETRY
        .token_refreshes
        .get_or_create(&Result { result })
        .inc();
}

pub fn inbox_stored(messages: u64) {
    TELEMETRY.inbox_messages.inc_by(messages);
}

/// A batch of `count` alerts delivered (`ok`) or not to a destination kind.
pub fn alert_delivery(destination: &'static str, ok: bool, count: usize) {
    let result = if ok { "delivered" } else { "failed" };
    TELEMETRY
        .alerts
        .get_or_create(&AlertDelivery {
            destination,
            result,
        })
        .inc_by(u64::try_from(count).unwrap_or(u64::MAX));
}

/// The counters in Prometheus text format, `extra` (gauges read at scrape
/// time, already formatted) before the final `# EOF`.
pub fn encode(extra: &str) -> std::result::Result<String, std::fmt::Error> {
    let mut text = String::new();
    prometheus_client::encoding::text::encode_registry(&mut text, &TELEMETRY.registry)?;
    text.push_str(extra);
    prometheus_client::encoding::text::encode_eof(&mut text)?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_appear_in_the_text_format() {
        super::graph_response(Some(429));
        super::graph_response(None);
        super::message_sent(std::time::Duration::from_millis(250));
        let text = super::encode("# extra\n").unwrap();
        assert!(
            text.contains("tenant_mail_graph_responses_total{status=\"429\"}"),
            "{text}"
        );
        assert!(
            text.contains("tenant_mail_graph_responses_total{status=\"transport\"}"),
            "{text}"
        );
        assert!(
            text.contains("tenant_mail_outbox_send_latency_seconds_bucket{le=\"0.25\"} 1"),
            "{text}"
        );
        assert!(text.ends_with("# extra\n# EOF\n"), "{text}");
    }
}
