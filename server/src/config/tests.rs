use super::*;

fn cli() -> Cli {
    Cli::default()
}

#[test]
fn defaults_are_valid() {
    let c = Config::load(cli()).unwrap();
    assert_eq!(
        c.redirect_uri(),
        "http://localhost:3000/core/oauth2/validated"
    );
    assert_eq!(c.database_kind, DatabaseKind::Sqlite);
}

#[test]
fn bad_values_name_the_setting() {
    let cases: Vec<(Cli, &str)> = vec![
        (
            Cli {
                bind: Some("nope".into()),
                ..cli()
            },
            "TENANT_MAIL_BIND",
        ),
        (
            Cli {
                public_url: Some("http://example.com".into()),
                ..cli()
            },
            "TENANT_MAIL_PUBLIC_URL",
        ),
        (
            Cli {
                database_url: Some("mysql://x".into()),
                ..cli()
            },
            "TENANT_MAIL_DATABASE_URL",
        ),
        (
            Cli {
                log_level: Some("[[[".into()),
                ..cli()
            },
            "TENANT_MAIL_LOG_LEVEL",
        ),
        (
            Cli {
                graph_base_url: Some("http://graph.example.com/v1.0".into()),
                ..cli()
            },
            "TENANT_MAIL_GRAPH_BASE_URL",
        ),
        (
            Cli {
                token_keepalive_days: Some(90),
                ..cli()
            },
            "TENANT_MAIL_TOKEN_KEEPALIVE_DAYS",
        ),
        (
            Cli {
                session_idle_minutes: Some(1),
                ..cli()
            },
            "TENANT_MAIL_SESSION_IDLE_MINUTES",
        ),
        (
            Cli {
                session_absolute_hours: Some(0),
                ..cli()
            },
            "TENANT_MAIL_SESSION_ABSOLUTE_HOURS",
        ),
        (
            Cli {
                trusted_proxies: Some("10.0.0.0/8, proxy.local".into()),
                ..cli()
            },
            "TENANT_MAIL_TRUSTED_PROXIES",
        ),
        (
            Cli {
                metrics_token: Some("too-short-to-guard-metrics".into()),
                ..cli()
            },
            "TENANT_MAIL_METRICS_TOKEN",
        ),
        (
            Cli {
                alert_after_minutes: Some(0),
                ..cli()
            },
            "TENANT_MAIL_ALERT_AFTER_MINUTES",
        ),
    ];
    for (bad, setting) in cases {
        let e = Config::load(bad).unwrap_err().to_string();
        assert!(e.contains(setting), "{setting}: {e}");
    }
}

#[test]
fn the_metrics_token_is_never_printed() {
    let token = "a-long-enough-metrics-token-0123456789";
    let c = Config::load(Cli {
        metrics_token: Some(format!("  {token} ")),
        ..cli()
    })
    .unwrap();
    use secrecy::ExposeSecret;
    assert_eq!(c.metrics_token.as_ref().unwrap().expose_secret(), token);
    assert!(!format!("{c:?}").contains(token));
}

#[test]
fn graph_base_url_default_and_loopback() {
    let c = Config::load(cli()).unwrap();
    assert_eq!(c.graph_base_url, DEFAULT_GRAPH_BASE_URL);
    let c = Config::load(Cli {
        graph_base_url: Some("http://127.0.0.1:4799/v1.0/".into()),
        ..cli()
    })
    .unwrap();
    assert_eq!(c.graph_base_url, "http://127.0.0.1:4799/v1.0");
}

#[test]
fn file_is_layered_under_cli() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(
        &path,
        "bind = \"127.0.0.1:4000\"\npublic_url = \"https://mail.example.com/\"\n",
    )
    .unwrap();
    let c = Config::load(Cli {
        config: Some(path.clone()),
        bind: Some("127.0.0.1:5000".into()),
        ..cli()
    })
    .unwrap();
    assert_eq!(c.bind.port(), 5000);
    assert_eq!(
        c.redirect_uri(),
        "https://mail.example.com/core/oauth2/validated"
    );
    std::fs::write(&path, "colour = \"blue\"\n").unwrap();
    assert!(Config::load(Cli {
        config: Some(path),
        ..cli()
    })
    .is_err());
}

#[test]
fn notifications_need_https_unless_graph_is_the_loopback_stand_in() {
    let local = Config::load(cli()).unwrap();
    // Microsoft cannot post to localhost.
    assert!(local.notification_url().unwrap_err().contains("https"));
    let public = Config::load(Cli {
        public_url: Some("https://mail.contoso.com".into()),
        ..cli()
    })
    .unwrap();
    assert_eq!(
        public.notification_url().unwrap(),
        "https://mail.contoso.com/core/graph/notifications"
    );
    let stand_in = Config::load(Cli {
        graph_base_url: Some("http://127.0.0.1:4000/v1.0".into()),
        ..cli()
    })
    .unwrap();
    assert_eq!(
        stand_in.notification_url().unwrap(),
        "http://localhost:3000/core/graph/notifications"
    );
}
