//! `tenant-mail key rotate`: every stored secret (client secrets, tokens,
//! PKCE verifiers) re-sealed under a new key, then the new key becomes the
//! key file and the old one is kept beside it for older backups. Run it with
//! every instance stopped (they read the key once, at start). Resumable: run
//! again after a crash or an interruption and it finishes the same rotation
//! (see `secrets::rotation` for the steps).
use super::CliError;
use crate::clock::SystemClock;
use crate::config::Config;
use crate::db::rekey::Resealed;
use crate::db::Store;
use crate::secrets::{rotation, KeyRing};
use std::sync::Arc;

/// Passes over the tables before giving up on values that keep changing
/// (which only a running instance does).
const PASSES: usize = 3;

pub async fn rotate_key(config: &Config) -> Result<(), CliError> {
    let key_file = &config.key_file;
    let (old, _) = KeyRing::load_or_create(key_file, false)?;
    let old_id = old.key_id().to_string();
    let (next, resumed) = rotation::next_key(key_file)?;
    let next_id = next.key_id().to_string();
    match resumed {
        true => eprintln!("Resuming the rotation from key {old_id} to key {next_id}."),
        false => eprintln!(
            "Rotating from key {old_id} to a new key {next_id} (kept in {} until done).",
            rotation::next_path(key_file).display()
        ),
    }
    let store = Store::open(
        config,
        Arc::new(next.opening_also(old)),
        Arc::new(SystemClock),
    )
    .await?;
    let mut total = Resealed::default();
    for _ in 0..PASSES {
        let pass = store.reseal_all().await?;
        total.client_secrets += pass.client_secrets;
        total.tokens += pass.tokens;
        total.flows += pass.flows;
        total.webhook_secrets += pass.webhook_secrets;
        if pass.changed_meanwhile == 0 {
            break;
        }
    }
    let left = store.sealed_elsewhere().await?;
    if left > 0 {
        return Err(CliError::StillSealedElsewhere(left));
    }
    let retired = rotation::finish(key_file, &old_id)?;
    println!(
        "Re-sealed {} client secrets, {} tokens, {} sign-in flows and {} webhook secrets \
         under key {next_id}, now in {}.",
        total.client_secrets,
        total.tokens,
        total.flows,
        total.webhook_secrets,
        key_file.display()
    );
    println!(
        "The old key {old_id} is kept in {}: database backups made before now open only \
         with it. Keep it as long as you keep those backups, as privately as the key file.",
        retired.display()
    );
    Ok(())
}
