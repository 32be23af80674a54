//! Creating, saving and deleting tenant emails, each in one transaction with
//! its audit entries.
use super::{find_owned, from_row, secret_binding, MailboxSettings, TenantEmail, TenantEmails};
use crate::db::audit::{self, Event};
use crate::db::entities::{inbox_sync, mailbox_connection, tenant, tenant_email};
use crate::db::error::is_unique_violation;
use crate::db::{connections, Saved, StoreError};
use app::model::identifiers::normalize_address;
use app::model::ConnectionStatus;
use app::port::Actor;
use sea_orm::sea_query::{CaseStatement, Cond, Expr, ExprTrait, SimpleExpr};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};

/// Why a save sent the connection back to "needs re-authentication".
const ADDRESS_CHANGED: &str = "the address changed";
const RECONFIGURED: &str = "the Application ID or authority changed";

impl TenantEmails<'_> {
    /// A new tenant email of `tenant_id` with its (required) client secret.
    pub async fn create(
        &self,
        actor: &Actor,
        tenant_id: &str,
        settings: &MailboxSettings,
        secret: &str,
    ) -> Result<Saved<TenantEmail>, StoreError> {
        let store = self.0;
        let id = uuid::Uuid::new_v4().to_string();
        let now = store.now();
        // No secret yet: the mailbox will use a certificate made for it.
        let sealed = match secret {
            "" => None,
            s => Some(store.keys.seal(s, &secret_binding(&id))?),
        };
        let set_at = sealed.as_ref().map(|_| now);
        let r = &settings.receiving;
        let row = tenant_email::ActiveModel {
            id: Set(id.clone()),
            tenant_id: Set(tenant_id.to_string()),
            account_type: Set(settings.account_type.code().to_string()),
            address: Set(settings.address.clone()),
            address_normalized: Set(normalize_address(&settings.address)),
            direction: Set(settings.direction.code().to_string()),
            application_id: Set(settings.application_id.clone()),
            client_secret: Set(sealed),
            client_secret_set_at: Set(set_at),
            secret_expires_on: Set(settings.secret_expires_on),
            authority_url: Set(settings.authority_url.clone()),
            authorization_endpoint: Set(settings.authorization_endpoint.clone()),
            token_endpoint: Set(settings.token_endpoint.clone()),
            scopes: Set(settings.scopes.clone()),
            connection_status: Set(ConnectionStatus::NotAuthenticated.code().to_string()),
            receive_folder: Set(r.folder.clone()),
            after_processing: Set(r.after.code().to_string()),
            move_to_folder: Set(r.move_to_folder.clone()),
            poll_interval_seconds: Set(poll_interval(settings)),
            import_since: Set(r.import_since),
            arrival: Set(r.arrival.code().to_string()),
            cloud: Set(settings.cloud.code().to_string()),
            delegate: Set(settings.delegate.clone()),
            credential: Set("secret".into()),
            certificate_pem: Set(None),
            certificate_thumbprint: Set(None),
            certificate_expires_at: Set(None),
            next_client_secret: Set(None),
            next_secret_set_at: Set(None),
            next_secret_expires_on: Set(None),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let txn = store.conn.begin().await?;
        let tenant_exists = tenant::Entity::find_by_id(tenant_id.to_string())
            .one(&txn)
            .await?
            .is_some();
        if !tenant_exists {
            return Ok(Saved::Missing);
        }
        let m = match row.insert(&txn).await {
            Ok(m) => m,
            Err(e) if is_unique_violation(&e) => return Ok(Saved::Duplicate),
            Err(e) => return Err(e.into()),
        };
        audit::insert(
            &txn,
            now,
            actor,
            Event::new("tenant_email.created")
                .target("tenant_email", &m.id, &m.address)
                .detail("client secret set"),
        )
        .await?;
        txn.commit().await?;
        Ok(Saved::Done(from_row(m)))
    }

    /// Saves `settings` over version `expected_version`; `new_secret` replaces
    /// the stored secret (`None` keeps it). A connection that the new
    /// settings no longer match (another address, Application ID or
    /// authority) becomes "needs re-authentication" in the same transaction,
    /// audited as the saving admin's doing; its tokens are kept.
    pub async fn update(
        &self,
        actor: &Actor,
        tenant_id: &str,
        id: &str,
        expected_version: i32,
        settings: &MailboxSettings,
        new_secret: Option<&str>,
    ) -> Result<Saved<TenantEmail>, StoreError> {
        let store = self.0;
        let now = store.now();
        let sealed = match new_secret {
            Some(secret) => Some(store.keys.seal(secret, &secret_binding(id))?),
            None => None,
        };
        let txn = store.conn.begin().await?;
        let Some(old) = find_owned(&txn, tenant_id, id).await?.map(from_row) else {
            return Ok(Saved::Missing);
        };
        if old.version != expected_version {
            return Ok(Saved::Stale);
        }
        // Another mailbox (address, type, delegate) or another Graph (cloud):
        // the stored delta state is another mailbox's; the next sync starts a
        // full round (what is stored already is not stored again).
        let other_mailbox = !old.address().eq_ignore_ascii_case(&settings.address)
            || old.settings.account_type != settings.account_type
            || old.settings.cloud != settings.cloud
            || !same_delegate(&old.settings.delegate, &settings.delegate);
        if other_mailbox {
            inbox_sync::Entity::update_many()
                .col_expr(inbox_sync::Column::NextLink, Expr::value(None::<String>))
                .col_expr(inbox_sync::Column::DeltaLink, Expr::value(None::<String>))
                .filter(inbox_sync::Column::TenantEmailId.eq(id))
                .exec(&txn)
                .await?;
        }
        // Tokens of another app or authority are useless with these settings,
        // and so are another cloud's (GCC High and DoD share a sign-in host,
        // but not a Graph: the tokens' audience differs), and a user's
        // sign-in is not the application's access (nor the reverse).
        let reconfigured = old.settings.cloud != settings.cloud
            || old.settings.account_type != settings.account_type
            || !same_delegate(&old.settings.delegate, &settings.delegate)
            || mailbox_connection::Entity::find_by_id(id.to_string())
                .one(&txn)
                .await?
                .is_some_and(|c| connections::made_for_other(&c, settings));
        let r = &settings.receiving;
        let mut update = tenant_email::Entity::update_many()
            .col_expr(
                tenant_email::Column::AccountType,
                Expr::value(settings.account_type.code()),
            )
            .col_expr(
                tenant_email::Column::Address,
                Expr::value(settings.address.clone()),
            )
            .col_expr(
                tenant_email::Column::AddressNormalized,
                Expr::value(normalize_address(&settings.address)),
            )
            .col_expr(
                tenant_email::Column::Direction,
                Expr::value(settings.direction.code()),
            )
            .col_expr(
                tenant_email::Column::ApplicationId,
                Expr::value(settings.application_id.clone()),
            )
            .col_expr(
                tenant_email::Column::SecretExpiresOn,
                Expr::value(settings.secret_expires_on),
            )
            .col_expr(
                tenant_email::Column::AuthorityUrl,
                Expr::value(settings.authority_url.clone()),
            )
            .col_expr(
                tenant_email::Column::AuthorizationEndpoint,
                Expr::value(settings.authorization_endpoint.clone()),
            )
            .col_expr(
                tenant_email::Column::TokenEndpoint,
                Expr::value(settings.token_endpoint.clone()),
            )
            .col_expr(
                tenant_email::Column::Scopes,
                Expr::value(settings.scopes.clone()),
            )
            .col_expr(
                tenant_email::Column::ConnectionStatus,
                status_after_save(settings, reconfigured),
            )
            .col_expr(
                tenant_email::Column::ReceiveFolder,
                Expr::value(r.folder.clone()),
            )
            .col_expr(
                tenant_email::Column::AfterProcessing,
                Expr::value(r.after.code()),
            )
            .col_expr(
                tenant_email::Column::MoveToFolder,
                Expr::value(r.move_to_folder.clone()),
            )
            .col_expr(
                tenant_email::Column::PollIntervalSeconds,
                Expr::value(poll_interval(settings)),
            )
            .col_expr(
                tenant_email::Column::ImportSince,
                Expr::value(r.import_since),
            )
            .col_expr(tenant_email::Column::Arrival, Expr::value(r.arrival.code()))
            .col_expr(
                tenant_email::Column::Cloud,
                Expr::value(settings.cloud.code()),
            )
            .col_expr(
                tenant_email::Column::Delegate,
                Expr::value(settings.delegate.clone()),
            )
            .col_expr(
                tenant_email::Column::Version,
                Expr::value(expected_version + 1),
            )
            .col_expr(tenant_email::Column::UpdatedAt, Expr::value(now));
        // A next secret belongs to the app it was made for.
        if old.settings.application_id != settings.application_id {
            update = super::next_secret::cleared(update);
        }
        if let Some(sealed) = sealed {
            update = update
                .col_expr(
                    tenant_email::Column::ClientSecret,
                    Expr::value(Some(sealed)),
                )
                .col_expr(
                    tenant_email::Column::ClientSecretSetAt,
                    Expr::value(Some(now)),
                )
                // A new secret replaces a certificate credential.
                .col_expr(tenant_email::Column::Credential, Expr::value("secret"))
                .col_expr(
                    tenant_email::Column::CertificatePem,
                    Expr::value(None::<String>),
                )
                .col_expr(
                    tenant_email::Column::CertificateThumbprint,
                    Expr::value(None::<String>),
                )
                .col_expr(
                    tenant_email::Column::CertificateExpiresAt,
                    Expr::value(None::<chrono::DateTime<chrono::Utc>>),
                );
        }
        let written = update
            .filter(tenant_email::Column::Id.eq(id))
            .filter(tenant_email::Column::TenantId.eq(tenant_id))
            .filter(tenant_email::Column::Version.eq(expected_version))
            .exec_with_returning(&txn)
            .await;
        let new = match written {
            Ok(rows) => match rows.into_iter().next() {
                Some(row) => from_row(row),
                // Saved by someone else between our read and this write.
                None => return Ok(Saved::Stale),
            },
            Err(e) if is_unique_violation(&e) => return Ok(Saved::Duplicate),
            Err(e) => return Err(e.into()),
        };
        for event in update_events(&old, &new, new_secret.is_some()) {
            audit::insert(&txn, now, actor, event).await?;
        }
        if new.status != old.status {
            let why = if normalize_address(old.address()) != normalize_address(new.address()) {
                ADDRESS_CHANGED
            } else {
                RECONFIGURED
            };
            connections::audit_status(&txn, now, actor, &new, Some(why)).await?;
        }
        txn.commit().await?;
        Ok(Saved::Done(new))
    }

    pub async fn delete(
        &self,
        actor: &Actor,
        tenant_id: &str,
        id: &str,
    ) -> Result<Saved<()>, StoreError> {
        let store = self.0;
        let txn = store.conn.begin().await?;
        let Some(old) = find_owned(&txn, tenant_id, id).await? else {
            return Ok(Saved::Missing);
        };
        tenant_email::Entity::delete_many()
            .filter(tenant_email::Column::Id.eq(id))
            .filter(tenant_email::Column::TenantId.eq(tenant_id))
            .exec(&txn)
            .await?;
        audit::insert(
            &txn,
            store.now(),
            actor,
            Event::new("tenant_email.deleted").target("tenant_email", id, &old.address),
        )
        .await?;
        txn.commit().await?;
        Ok(Saved::Done(()))
    }
}

fn poll_interval(settings: &MailboxSettings) -> i32 {
    i32::try_from(settings.receiving.poll_interval_seconds).unwrap_or(i32::MAX)
}

/// A connection belongs to the mailbox and app it was made for. If the
/// address changes, the stored tokens are another mailbox's; if the
/// Application ID or authority changes, another app's: stop using them until
/// the admin re-authenticates. The address comparison runs inside the UPDATE,
/// against the row's current values, so a concurrent status change is not
/// overwritten by a value read earlier.
fn status_after_save(settings: &MailboxSettings, reconfigured: bool) -> SimpleExpr {
    let status = Expr::col(tenant_email::Column::ConnectionStatus);
    let mut invalidated =
        Cond::all().add(status.clone().ne(ConnectionStatus::NotAuthenticated.code()));
    if !reconfigured {
        invalidated = invalidated.add(
            Expr::col(tenant_email::Column::AddressNormalized)
                .ne(normalize_address(&settings.address)),
        );
    }
    CaseStatement::new()
        .case(
            invalidated,
            Expr::value(ConnectionStatus::NeedsReauth.code()),
        )
        .finally(status)
        .into()
}

/// What a save changed, by field name (values of secrets never appear).
fn update_events(old: &TenantEmail, new: &TenantEmail, secret_replaced: bool) -> Vec<Event> {
    let target = |e: Event| e.target("tenant_email", &old.id, new.address());
    let mut events = Vec::new();
    let changed = old.settings.changed_fields(&new.settings);
    if !changed.is_empty() {
        let mut detail = format!("changed: {}", changed.join(", "));
        if old.address() != new.address() {
            detail.push_str(&format!(" (address was {})", old.address()));
        }
        events.push(target(Event::new("tenant_email.updated")).detail(detail));
    }
    if secret_replaced {
        events.push(target(Event::new("tenant_email.secret_replaced")));
    }
    events
}

/// Delegates are addresses: case does not make another person.
fn same_delegate(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        (None, None) => true,
        _ => false,
    }
}
