//! `ms-stand-in --port N [--seed-demo] [--manual-clock]`: serves the stand-in on 127.0.0.1 until Ctrl-C.

use std::process::ExitCode;

use ms_stand_in::{demo, Clock, StandIn, StandInConfig};

const USAGE: &str = "usage: ms-stand-in [--port N] [--seed-demo] [--manual-clock]
  --port N         port on 127.0.0.1 (default 0: any free port; the URL is printed)
  --seed-demo      register a demo tenant, app and users (printed on start)
  --manual-clock   freeze time at 2025-01-01T00:00:00Z; move it with POST /_stand-in/clock/advance";

fn parse(args: &[String]) -> Result<StandInConfig, String> {
    let mut config = StandInConfig {
        clock: Clock::system(),
        ..StandInConfig::default()
    };
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--port" => {
                let value = iter.next().ok_or("--port needs a value")?;
                config.port = value.parse().map_err(|_| format!("bad port '{value}'"))?;
            }
            "--seed-demo" => config.seed_demo = true,
            "--manual-clock" => config.clock = Clock::default(),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match parse(&args) {
        Ok(config) => config,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("{message}");
            }
            eprintln!("{USAGE}");
            return if message.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    let seeded = config.seed_demo;
    let stand_in = match StandIn::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ms-stand-in: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("ms-stand-in listening on {}", stand_in.base_url());
    println!("  authority (login):  {}", stand_in.authority("common"));
    println!("  graph:              {}", stand_in.graph_base());
    println!(
        "  control:            {}/_stand-in/ledger",
        stand_in.base_url()
    );
    if seeded {
        println!("demo tenant:  {} ({})", demo::TENANT_ID, demo::DOMAIN);
        println!("  application id: {}", demo::CLIENT_ID);
        println!("  secret value:   {}", demo::SECRET_VALUE);
        println!(
            "  secret id:      {} (pasting this gives AADSTS7000215)",
            demo::SECRET_ID
        );
        println!("  redirect URIs:  {}", demo::REDIRECT_URIS.join(", "));
        println!("  users: admin@contoso.com, megan@contoso.com (signed in), noreply@contoso.com");
    }
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("ms-stand-in: cannot wait for Ctrl-C: {e}");
    }
    stand_in.stop();
    ExitCode::SUCCESS
}
