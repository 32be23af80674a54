//! `tenant-mail admin …`: account management from the server's shell, for the
//! first admin and for recovery when nobody can sign in. Passwords come from
//! standard input (one line), never from arguments, which `ps` would show.
use crate::audit::{self, Event};
use crate::auth::{admins, password};
use crate::config::{AdminCommand, Config};
use app::model::admin::{normalize_username, validate_new_password, validate_username};
use app::port::Actor;
use sea_orm::TransactionTrait;
use std::io::BufRead;

fn read_password() -> Result<String, String> {
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        eprintln!("Password (input is shown; pipe it in to hide it):");
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn cli_actor() -> Actor {
    Actor {
        username: "cli".into(),
        ..Actor::default()
    }
}

pub async fn admin(config: &Config, action: AdminCommand) -> Result<(), String> {
    let db = crate::db::connect(config)
        .await
        .map_err(|e| format!("database: {e}"))?;
    let now = chrono::Utc::now();
    match action {
        AdminCommand::List => {
            for a in admins::list(&db).await.map_err(|e| e.to_string())? {
                let state = if a.disabled_at.is_some() {
                    "disabled"
                } else {
                    "enabled"
                };
                println!("{}\t{}\t{}", a.username, state, a.created_at.to_rfc3339());
            }
            Ok(())
        }
        AdminCommand::Create { username } => {
            validate_username(&username)?;
            let username = normalize_username(&username);
            let pw = read_password()?;
            validate_new_password(&pw, &username)?;
            let hash = password::hash(&pw).await.map_err(|e| e.to_string())?;
            let txn = db.begin().await.map_err(|e| e.to_string())?;
            let created = admins::create(&txn, &username, hash, now)
                .await
                .map_err(|e| format!("cannot create {username:?} (does it exist already?): {e}"))?;
            audit::record(
                &txn,
                now,
                &cli_actor(),
                Event::new("admin.created").target("admin", &created.id, &created.username),
            )
            .await
            .map_err(|e| e.to_string())?;
            txn.commit().await.map_err(|e| e.to_string())?;
            println!(
                "Admin {username:?} created. Sign in at {}/sign-in",
                config.public_url
            );
            Ok(())
        }
        AdminCommand::SetPassword { username } => {
            let username = normalize_username(&username);
            let found = admins::find_by_username(&db, &username)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no admin named {username:?}"))?;
            let pw = read_password()?;
            validate_new_password(&pw, &username)?;
            let hash = password::hash(&pw).await.map_err(|e| e.to_string())?;
            let txn = db.begin().await.map_err(|e| e.to_string())?;
            admins::set_password_hash(&txn, &found.id, hash, now, true)
                .await
                .map_err(|e| e.to_string())?;
            let ended = admins::end_sessions(&txn, &found.id, None)
                .await
                .map_err(|e| e.to_string())?;
            audit::record(
                &txn,
                now,
                &cli_actor(),
                Event::new("admin.password_changed")
                    .target("admin", &found.id, &found.username)
                    .detail(format!(
                        "set from the command line; sessions ended: {ended}"
                    )),
            )
            .await
            .map_err(|e| e.to_string())?;
            txn.commit().await.map_err(|e| e.to_string())?;
            println!("Password of {username:?} changed; their sessions were ended.");
            Ok(())
        }
    }
}
