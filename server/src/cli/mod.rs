//! `tenant-mail admin …`: account management from the server's shell, for the
//! first admin and for recovery when nobody can sign in. Passwords come from
//! standard input (one line), never from arguments, which `ps` would show.
//! `tenant-mail key rotate`: see [`key`]. `tenant-mail doctor`: see [`doctor`].
mod doctor;
mod key;

pub use doctor::{doctor, render as render_doctor};
pub use key::rotate_key;

use crate::auth::password;
use crate::clock::SystemClock;
use crate::config::{AdminCommand, Config, DatabaseKind};
use crate::db::{Saved, Store, StoreError};
use crate::secrets::KeyRing;
use app::model::admin::{normalize_username, validate_new_password, validate_username};
use app::port::Actor;
use std::io::BufRead;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Key(#[from] crate::secrets::SecretError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Password(#[from] password::PasswordError),
    #[error("cannot read the password from standard input: {0}")]
    Stdin(std::io::Error),
    #[error("{0}")]
    Invalid(String),
    #[error("an admin named {0:?} exists already")]
    Taken(String),
    #[error("no admin named {0:?}")]
    Unknown(String),
    #[error(
        "{0} stored values are still sealed under another key: is an instance still running? \
         Stop every instance and run `tenant-mail key rotate` again"
    )]
    StillSealedElsewhere(usize),
}

fn read_password() -> Result<String, CliError> {
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        eprintln!("Password (input is shown; pipe it in to hide it):");
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(CliError::Stdin)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn cli_actor() -> Actor {
    Actor {
        username: "cli".into(),
        ..Actor::default()
    }
}

/// The same key and database the server uses: on the embedded default the
/// key is made here when an admin is created before the first start.
async fn open(config: &Config) -> Result<Store, CliError> {
    let create_key = config.database_kind == DatabaseKind::Sqlite;
    let (keys, created) = KeyRing::load_or_create(&config.key_file, create_key)?;
    if created {
        eprintln!(
            "Generated a new encryption key for secrets at rest in {}; back it up.",
            config.key_file.display()
        );
    }
    Ok(Store::open(config, Arc::new(keys), Arc::new(SystemClock)).await?)
}

pub async fn admin(config: &Config, action: AdminCommand) -> Result<(), CliError> {
    let store = open(config).await?;
    let admins = store.admins();
    match action {
        AdminCommand::List => {
            for a in admins.list().await? {
                let state = if a.enabled() { "enabled" } else { "disabled" };
                println!("{}\t{}\t{}", a.username, state, a.created_at.to_rfc3339());
            }
            Ok(())
        }
        AdminCommand::Create { username } => {
            validate_username(&username).map_err(CliError::Invalid)?;
            let username = normalize_username(&username);
            let pw = read_password()?;
            validate_new_password(&pw, &username).map_err(CliError::Invalid)?;
            let hash = password::hash(&pw).await?;
            match admins.create(&cli_actor(), &username, &hash).await? {
                Saved::Done(_) => {
                    println!(
                        "Admin {username:?} created. Sign in at {}/sign-in",
                        config.public_url
                    );
                    Ok(())
                }
                _ => Err(CliError::Taken(username)),
            }
        }
        AdminCommand::SetPassword { username } => {
            let username = normalize_username(&username);
            let found = admins
                .by_username(&username)
                .await?
                .ok_or_else(|| CliError::Unknown(username.clone()))?;
            let pw = read_password()?;
            validate_new_password(&pw, &username).map_err(CliError::Invalid)?;
            let hash = password::hash(&pw).await?;
            admins
                .change_password(&cli_actor(), &found, &hash, None, |ended| {
                    format!("set from the command line; sessions ended: {ended}")
                })
                .await?;
            println!("Password of {username:?} changed; their sessions were ended.");
            Ok(())
        }
    }
}
