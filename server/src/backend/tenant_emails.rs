use super::errors::{internal, is_unique_violation, not_found};
use super::DbBackend;
use crate::audit::{self, Event};
use crate::db::entities::{tenant, tenant_email};
use crate::identity::tokens;
use crate::mail::inbox::settings;
use crate::secrets::{Binding, KeyRing, SecretError};
use app::model::identifiers::normalize_address;
use app::model::{fields, ConnectionStatus, ConnectionView, TenantEmailInput, TenantEmailView};
use app::port::{Actor, PortError};
use chrono::NaiveDate;
use sea_orm::sea_query::{CaseStatement, Cond, Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QuerySelect, Set, TransactionTrait,
};

const TABLE: &str = "tenant_email";
const SECRET_COLUMN: &str = "client_secret";

fn binding(row_id: &str) -> Binding<'_> {
    Binding {
        table: TABLE,
        column: SECRET_COLUMN,
        row_id,
    }
}

fn duplicate(address: &str) -> PortError {
    PortError::Duplicate {
        field: fields::ADDRESS.to_string(),
        message: format!("This tenant already has a Tenant Email for {address} (addresses are compared without case)."),
    }
}

fn parse_date(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()
}

fn to_view(m: tenant_email::Model, today: NaiveDate) -> TenantEmailView {
    let secret_expires_in_days = m.secret_expires_on.map(|d| (d - today).num_days());
    let receiving = settings::receiving_input(&m);
    let values = TenantEmailInput {
        account_type: m.account_type,
        address: m.address,
        direction: m.direction,
        application_id: m.application_id,
        // Write-only: the browser never gets the secret back, sealed or not.
        client_secret: String::new(),
        secret_expires_on: m
            .secret_expires_on
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        authority_url: m.authority_url,
        authorization_endpoint: m.authorization_endpoint,
        receiving,
        token_endpoint: m.token_endpoint,
        scopes: m.scopes,
    };
    TenantEmailView {
        id: m.id,
        tenant_id: m.tenant_id,
        version: m.version,
        values,
        secret_set_at: m
            .client_secret_set_at
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
        status: ConnectionStatus::from_code(&m.connection_status)
            .unwrap_or(ConnectionStatus::Error),
        updated_at: m.updated_at.to_rfc3339(),
        secret_expires_in_days,
    }
}

async fn find<C: ConnectionTrait>(
    db: &C,
    tenant_id: &str,
    email_id: &str,
) -> Result<Option<tenant_email::Model>, DbErr> {
    tenant_email::Entity::find_by_id(email_id.to_string())
        .filter(tenant_email::Column::TenantId.eq(tenant_id))
        .one(db)
        .await
}

/// The tenant email, if it belongs to this tenant; else "not found".
pub(super) async fn owned(
    b: &DbBackend,
    tenant_id: &str,
    email_id: &str,
) -> Result<tenant_email::Model, PortError> {
    find(&b.db, tenant_id, email_id)
        .await
        .map_err(|e| internal("find tenant email", e))?
        .ok_or_else(|| not_found("tenant email"))
}

pub async fn get(
    b: &DbBackend,
    tenant_id: &str,
    email_id: &str,
) -> Result<TenantEmailView, PortError> {
    find(&b.db, tenant_id, email_id)
        .await
        .map_err(|e| internal("get tenant email", e))?
        .map(|m| to_view(m, b.clock.now().date_naive()))
        .ok_or_else(|| not_found("tenant email"))
}

pub async fn create(
    b: &DbBackend,
    actor: &Actor,
    tenant_id: &str,
    input: &TenantEmailInput,
) -> Result<TenantEmailView, PortError> {
    let exists = tenant::Entity::find_by_id(tenant_id.to_string())
        .one(&b.db)
        .await
        .map_err(|e| internal("find tenant", e))?
        .is_some();
    if !exists {
        return Err(not_found("tenant"));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let now = b.clock.now();
    let sealed = b
        .keys
        .seal(&input.client_secret, &binding(&id))
        .map_err(|e| internal("seal secret", e))?;
    let receiving = settings::stored(&input.receiving);
    let model = tenant_email::ActiveModel {
        id: Set(id.clone()),
        tenant_id: Set(tenant_id.to_string()),
        account_type: Set(input.account_type.clone()),
        address: Set(input.address.clone()),
        address_normalized: Set(normalize_address(&input.address)),
        direction: Set(input.direction.clone()),
        application_id: Set(input.application_id.clone()),
        client_secret: Set(Some(sealed)),
        client_secret_set_at: Set(Some(now)),
        secret_expires_on: Set(parse_date(&input.secret_expires_on)),
        authority_url: Set(input.authority_url.clone()),
        authorization_endpoint: Set(input.authorization_endpoint.clone()),
        token_endpoint: Set(input.token_endpoint.clone()),
        scopes: Set(input.scopes.clone()),
        connection_status: Set(ConnectionStatus::NotAuthenticated.code().to_string()),
        receive_folder: Set(receiving.folder),
        after_processing: Set(receiving.after_processing),
        move_to_folder: Set(receiving.move_to_folder),
        poll_interval_seconds: Set(receiving.poll_interval_seconds),
        import_since: Set(receiving.import_since),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let txn = b.db.begin().await.map_err(|e| internal("begin", e))?;
    let m = match model.insert(&txn).await {
        Ok(m) => m,
        Err(e) if is_unique_violation(&e) => return Err(duplicate(&input.address)),
        Err(e) => return Err(internal("create tenant email", e)),
    };
    audit::record(
        &txn,
        now,
        actor,
        Event::new("tenant_email.created")
            .target("tenant_email", &m.id, &m.address)
            .detail("client secret set"),
    )
    .await
    .map_err(|e| internal("audit", e))?;
    txn.commit().await.map_err(|e| internal("commit", e))?;
    Ok(to_view(m, now.date_naive()))
}

pub async fn update(
    b: &DbBackend,
    actor: &Actor,
    tenant_id: &str,
    email_id: &str,
    expected_version: i32,
    input: &TenantEmailInput,
) -> Result<TenantEmailView, PortError> {
    let now = b.clock.now();
    let receiving = settings::stored(&input.receiving);
    let mut query = tenant_email::Entity::update_many()
        .col_expr(
            tenant_email::Column::AccountType,
            Expr::value(input.account_type.clone()),
        )
        .col_expr(
            tenant_email::Column::Address,
            Expr::value(input.address.clone()),
        )
        .col_expr(
            tenant_email::Column::AddressNormalized,
            Expr::value(normalize_address(&input.address)),
        )
        .col_expr(
            tenant_email::Column::Direction,
            Expr::value(input.direction.clone()),
        )
        .col_expr(
            tenant_email::Column::ApplicationId,
            Expr::value(input.application_id.clone()),
        )
        .col_expr(
            tenant_email::Column::SecretExpiresOn,
            Expr::value(parse_date(&input.secret_expires_on)),
        )
        .col_expr(
            tenant_email::Column::AuthorityUrl,
            Expr::value(input.authority_url.clone()),
        )
        .col_expr(
            tenant_email::Column::AuthorizationEndpoint,
            Expr::value(input.authorization_endpoint.clone()),
        )
        .col_expr(
            tenant_email::Column::TokenEndpoint,
            Expr::value(input.token_endpoint.clone()),
        )
        .col_expr(
            tenant_email::Column::Scopes,
            Expr::value(input.scopes.clone()),
        )
        .col_expr(
            tenant_email::Column::ConnectionStatus,
            status_after_address_change(input),
        )
        .col_expr(
            tenant_email::Column::ReceiveFolder,
            Expr::value(receiving.folder),
        )
        .col_expr(
            tenant_email::Column::AfterProcessing,
            Expr::value(receiving.after_processing),
        )
        .col_expr(
            tenant_email::Column::MoveToFolder,
            Expr::value(receiving.move_to_folder),
        )
        .col_expr(
            tenant_email::Column::PollIntervalSeconds,
            Expr::value(receiving.poll_interval_seconds),
        )
        .col_expr(
            tenant_email::Column::ImportSince,
            Expr::value(receiving.import_since),
        )
        .col_expr(
            tenant_email::Column::Version,
            Expr::value(expected_version + 1),
        )
        .col_expr(tenant_email::Column::UpdatedAt, Expr::value(now));
    // An empty secret means "unchanged"; replacing it is the explicit case.
    if !input.client_secret.is_empty() {
        let sealed = b
            .keys
            .seal(&input.client_secret, &binding(email_id))
            .map_err(|e| internal("seal secret", e))?;
        query = query
            .col_expr(
                tenant_email::Column::ClientSecret,
                Expr::value(Some(sealed)),
            )
            .col_expr(
                tenant_email::Column::ClientSecretSetAt,
                Expr::value(Some(now)),
            );
    }
    let txn = b.db.begin().await.map_err(|e| internal("begin", e))?;
    let old = find(&txn, tenant_id, email_id)
        .await
        .map_err(|e| internal("get tenant email", e))?;
    let result = query
        .filter(tenant_email::Column::Id.eq(email_id))
        .filter(tenant_email::Column::TenantId.eq(tenant_id))
        .filter(tenant_email::Column::Version.eq(expected_version))
        .exec(&txn)
        .await;
    if let (Ok(r), Some(old)) = (&result, &old) {
        if r.rows_affected == 1 {
            for event in update_events(old, input) {
                audit::record(&txn, now, actor, event)
                    .await
                    .map_err(|e| internal("audit", e))?;
            }
            // The UPDATE itself marks a connection of another address.
            let after = find(&txn, tenant_id, email_id)
                .await
                .map_err(|e| internal("get tenant email", e))?;
            let marked = after.is_some_and(|a| {
                a.address_normalized != old.address_normalized
                    && a.connection_status == ConnectionStatus::NeedsReauth.code()
                    && old.connection_status != a.connection_status
            });
            if marked {
                tokens::audit_status_change(
                    &txn,
                    now,
                    actor,
                    email_id,
                    ConnectionStatus::NeedsReauth,
                    Some("the address changed"),
                )
                .await
                .map_err(|e| internal("audit", e))?;
            }
            // A new Application ID or authority means the stored grant no
            // longer matches: the connection must be re-authenticated.
            tokens::mark_if_reconfigured(&txn, now, actor, email_id)
                .await
                .map_err(|e| internal("mark connection for re-authentication", e))?;
        }
    }
    // A failed statement leaves nothing worth committing; dropping rolls back.
    if result.is_ok() {
        txn.commit().await.map_err(|e| internal("commit", e))?;
    }
    match result {
        Ok(r) if r.rows_affected == 1 => get(b, tenant_id, email_id).await,
        Ok(_) => {
            get(b, tenant_id, email_id).await?;
            Err(PortError::Conflict(
                "Someone else saved this Tenant Email after you opened it.".into(),
            ))
        }
        Err(e) if is_unique_violation(&e) => Err(duplicate(&input.address)),
        Err(e) => Err(internal("update tenant email", e)),
    }
}

/// A connection belongs to the mailbox it was verified for. If the address
/// changes, the stored tokens are another mailbox's: stop using them until the
/// admin re-authenticates as the new address. Evaluated inside the UPDATE,
/// against the row's old values, so no read-then-write race.
fn status_after_address_change(input: &TenantEmailInput) -> Expr {
    CaseStatement::new()
        .case(
            Cond::all()
                .add(
                    Expr::col(tenant_email::Column::AddressNormalized)
                        .ne(normalize_address(&input.address)),
                )
                .add(
                    Expr::col(tenant_email::Column::ConnectionStatus)
                        .ne(ConnectionStatus::NotAuthenticated.code()),
                ),
            Expr::value(ConnectionStatus::NeedsReauth.code()),
        )
        .finally(Expr::col(tenant_email::Column::ConnectionStatus))
        .into()
}

fn fmt_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub async fn connection(
    b: &DbBackend,
    tenant_id: &str,
    email_id: &str,
) -> Result<Option<ConnectionView>, PortError> {
    // Only for an email of this tenant.
    get(b, tenant_id, email_id).await?;
    let info = crate::identity::tokens::connection_info(&b.db, email_id)
        .await
        .map_err(|e| internal("read connection", e))?;
    Ok(info.map(|c| ConnectionView {
        upn: c.upn,
        display_name: c.display_name,
        tenant_id: c.tenant_id,
        connected_at: fmt_time(c.connected_at),
        access_token_valid_until: c.access_token_expires_at.map(fmt_time),
        last_refresh_at: c.last_refresh_at.map(fmt_time),
        last_error: c.last_error,
        last_error_at: c.last_error_at.map(fmt_time),
    }))
}

pub async fn delete(
    b: &DbBackend,
    actor: &Actor,
    tenant_id: &str,
    email_id: &str,
) -> Result<(), PortError> {
    let txn = b.db.begin().await.map_err(|e| internal("begin", e))?;
    let Some(old) = find(&txn, tenant_id, email_id)
        .await
        .map_err(|e| internal("get tenant email", e))?
    else {
        return Err(not_found("tenant email"));
    };
    tenant_email::Entity::delete_many()
        .filter(tenant_email::Column::Id.eq(email_id))
        .filter(tenant_email::Column::TenantId.eq(tenant_id))
        .exec(&txn)
        .await
        .map_err(|e| internal("delete tenant email", e))?;
    audit::record(
        &txn,
        b.clock.now(),
        actor,
        Event::new("tenant_email.deleted").target("tenant_email", email_id, &old.address),
    )
    .await
    .map_err(|e| internal("audit", e))?;
    txn.commit().await.map_err(|e| internal("commit", e))
}

/// What an update changed, by field name (values of secrets never appear).
fn update_events(old: &tenant_email::Model, input: &TenantEmailInput) -> Vec<Event> {
    let mut changed = Vec::new();
    let mut note = |name: &str, differs: bool| {
        if differs {
            changed.push(name.to_string());
        }
    };
    note("account type", old.account_type != input.account_type);
    note("address", old.address != input.address);
    note("direction", old.direction != input.direction);
    note("application id", old.application_id != input.application_id);
    note("authority", old.authority_url != input.authority_url);
    note(
        "authorization endpoint",
        old.authorization_endpoint != input.authorization_endpoint,
    );
    note("token endpoint", old.token_endpoint != input.token_endpoint);
    note("scopes", old.scopes != input.scopes);
    note(
        "receiving settings",
        settings::changed(old, &input.receiving),
    );
    note(
        "secret expiry date",
        old.secret_expires_on != parse_date(&input.secret_expires_on),
    );
    let target = |e: Event| e.target("tenant_email", &old.id, &input.address);
    let mut events = Vec::new();
    if !changed.is_empty() {
        let mut detail = format!("changed: {}", changed.join(", "));
        if old.address != input.address {
            detail.push_str(&format!(" (address was {})", old.address));
        }
        events.push(target(Event::new("tenant_email.updated")).detail(detail));
    }
    if !input.client_secret.is_empty() {
        events.push(target(Event::new("tenant_email.secret_replaced")));
    }
    events
}

/// Reads a stored secret in plaintext (for the token exchange, and tests).
pub async fn open_secret(
    db: &DatabaseConnection,
    keys: &KeyRing,
    email_id: &str,
) -> Result<Option<String>, SecretError> {
    let sealed: Option<Option<String>> = tenant_email::Entity::find_by_id(email_id.to_string())
        .select_only()
        .column(tenant_email::Column::ClientSecret)
        .into_tuple()
        .one(db)
        .await
        .map_err(|_| SecretError::Malformed)?;
    match sealed.flatten() {
        Some(s) => keys.open(&s, &binding(email_id)).map(Some),
        None => Ok(None),
    }
}

/// Start-up check: every stored secret opens with the configured key.
/// Fails with the first row that does not, so a wrong key file is caught
/// before anyone clicks anything.
pub async fn verify_sealed_secrets(
    db: &DatabaseConnection,
    keys: &KeyRing,
) -> Result<usize, String> {
    let rows: Vec<(String, Option<String>)> = tenant_email::Entity::find()
        .select_only()
        .column(tenant_email::Column::Id)
        .column(tenant_email::Column::ClientSecret)
        .into_tuple()
        .all(db)
        .await
        .map_err(|e| format!("cannot read stored secrets: {e}"))?;
    let mut checked = 0;
    for (id, sealed) in rows {
        if let Some(sealed) = sealed {
            keys.open(&sealed, &binding(&id)).map_err(|e| {
                format!("the encryption key (key id {}) cannot decrypt tenant_email {id}.client_secret: {e}", keys.key_id())
            })?;
            checked += 1;
        }
    }
    Ok(checked)
}
