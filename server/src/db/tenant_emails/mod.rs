//! `tenant_email`: a mailbox's settings and its sealed client secret. The
//! connection status column is changed only through [`super::connections`],
//! which audits every change; saving settings that invalidate a connection
//! (another address, Application ID or authority) marks it here, in the same
//! statement and transaction as the save.
mod audited;
mod certificate;
mod next_secret;
mod save;
mod settings;

pub use settings::{parse_import_since, MailboxSettings, Receiving};

use super::entities::tenant_email;
use super::{Store, StoreError};
use crate::secrets::{Binding, KeyRing, SecretError};
use app::model::inbox::{AfterProcessing, Arrival};
use app::model::{AccountType, Cloud, ConnectionStatus, Direction};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

const TABLE: &str = "tenant_email";
const SECRET_COLUMN: &str = "client_secret";

pub(in crate::db) const NEXT_SECRET_COLUMN: &str = "next_client_secret";

pub(in crate::db) fn next_secret_binding(row_id: &str) -> Binding<'_> {
    Binding {
        table: TABLE,
        column: NEXT_SECRET_COLUMN,
        row_id,
    }
}

/// A stored next secret, as the editor and the token paths see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextSecret {
    pub set_at: DateTime<Utc>,
    pub expires_on: Option<NaiveDate>,
}

/// The next secret in plaintext, with the sealed value it was opened from
/// (what a promotion compares against). `Debug` shows neither.
pub struct OpenedNextSecret {
    pub plain: zeroize::Zeroizing<String>,
    pub sealed: String,
}

impl std::fmt::Debug for OpenedNextSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpenedNextSecret(<redacted>)")
    }
}

pub(in crate::db) fn secret_binding(row_id: &str) -> Binding<'_> {
    Binding {
        table: TABLE,
        column: SECRET_COLUMN,
        row_id,
    }
}

/// A stored tenant email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantEmail {
    pub id: String,
    pub tenant_id: String,
    /// Optimistic locking: a save names the version it edited.
    pub version: i32,
    pub settings: MailboxSettings,
    /// When the client secret was last set; `None` when none is stored.
    pub secret_set_at: Option<DateTime<Utc>>,
    pub status: ConnectionStatus,
    pub updated_at: DateTime<Utc>,
    /// The certificate whose key is sealed in place of a secret, if any.
    pub certificate: Option<StoredCertificate>,
    /// The secret to rotate to, when one is stored.
    pub next_secret: Option<NextSecret>,
}

/// A certificate credential's public half.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCertificate {
    pub pem: String,
    /// Upper-case hex SHA-1, as Entra's portal shows it.
    pub thumbprint: String,
    pub expires_at: DateTime<Utc>,
}

impl TenantEmail {
    pub fn address(&self) -> &str {
        &self.settings.address
    }
    pub fn sends(&self) -> bool {
        self.settings.direction.sends()
    }
    pub fn receives(&self) -> bool {
        self.settings.direction.receives()
    }
    pub fn has_secret(&self) -> bool {
        self.secret_set_at.is_some()
    }
}

/// Codes this version does not know read as the safe choice: an unknown
/// status as Error (shown, never used), an unknown direction as neither
/// sending nor receiving would be wrong, so as the default.
pub(in crate::db) fn from_row(m: tenant_email::Model) -> TenantEmail {
    let settings = MailboxSettings {
        account_type: AccountType::from_code(&m.account_type)
            .unwrap_or(AccountType::Microsoft365Graph),
        address: m.address,
        direction: Direction::from_code(&m.direction).unwrap_or(Direction::SendAndReceive),
        cloud: Cloud::from_code(&m.cloud).unwrap_or_default(),
        delegate: m.delegate,
        application_id: m.application_id,
        secret_expires_on: m.secret_expires_on,
        authority_url: m.authority_url,
        authorization_endpoint: m.authorization_endpoint,
        token_endpoint: m.token_endpoint,
        scopes: m.scopes,
        receiving: Receiving {
            folder: m.receive_folder,
            after: AfterProcessing::from_code(&m.after_processing)
                .unwrap_or(AfterProcessing::Leave),
            move_to_folder: m.move_to_folder,
            poll_interval_seconds: u32::try_from(m.poll_interval_seconds).unwrap_or(60),
            import_since: m.import_since,
            arrival: Arrival::from_code(&m.arrival).unwrap_or(Arrival::Poll),
        },
    };
    let certificate = match (
        m.credential.as_str(),
        m.certificate_pem,
        m.certificate_thumbprint,
        m.certificate_expires_at,
    ) {
        ("certificate", Some(pem), Some(thumbprint), Some(expires_at)) => Some(StoredCertificate {
            pem,
            thumbprint,
            expires_at,
        }),
        _ => None,
    };
    let next_secret = match (&m.next_client_secret, m.next_secret_set_at) {
        (Some(_), Some(set_at)) => Some(NextSecret {
            set_at,
            expires_on: m.next_secret_expires_on,
        }),
        _ => None,
    };
    TenantEmail {
        certificate,
        next_secret,
        // A row without a sealed secret has no "set at" worth showing.
        secret_set_at: m.client_secret.as_ref().and(m.client_secret_set_at),
        status: ConnectionStatus::from_code(&m.connection_status)
            .unwrap_or(ConnectionStatus::Error),
        id: m.id,
        tenant_id: m.tenant_id,
        version: m.version,
        settings,
        updated_at: m.updated_at,
    }
}

/// The row of `id`, when it belongs to `tenant_id`.
pub(super) async fn find_owned<C: ConnectionTrait>(
    conn: &C,
    tenant_id: &str,
    id: &str,
) -> Result<Option<tenant_email::Model>, DbErr> {
    tenant_email::Entity::find_by_id(id.to_string())
        .filter(tenant_email::Column::TenantId.eq(tenant_id))
        .one(conn)
        .await
}

/// The tenant emails through the store.
pub struct TenantEmails<'a>(&'a Store);

impl Store {
    pub fn tenant_emails(&self) -> TenantEmails<'_> {
        TenantEmails(self)
    }
}

impl TenantEmails<'_> {
    /// The tenant email `id` if it belongs to `tenant_id` (else `None`, whether
    /// or not it exists: callers answer "not found" either way).
    pub async fn owned(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> Result<Option<TenantEmail>, StoreError> {
        Ok(find_owned(&self.0.conn, tenant_id, id).await?.map(from_row))
    }

    /// The tenant email `id`, whoever owns it (background work).
    pub async fn get(&self, id: &str) -> Result<Option<TenantEmail>, StoreError> {
        Ok(tenant_email::Entity::find_by_id(id.to_string())
            .one(&self.0.conn)
            .await?
            .map(from_row))
    }

    /// A tenant's mailboxes, by address.
    pub async fn of_tenant(&self, tenant_id: &str) -> Result<Vec<TenantEmail>, StoreError> {
        Ok(tenant_email::Entity::find()
            .filter(tenant_email::Column::TenantId.eq(tenant_id))
            .order_by_asc(tenant_email::Column::AddressNormalized)
            .all(&self.0.conn)
            .await?
            .into_iter()
            .map(from_row)
            .collect())
    }

    /// The client secret in plaintext, for a request to the token endpoint.
    /// `None` when none is stored; a database failure stays a database error.
    pub async fn client_secret(&self, id: &str) -> Result<Option<String>, StoreError> {
        let sealed: Option<Option<String>> = tenant_email::Entity::find_by_id(id.to_string())
            .select_only()
            .column(tenant_email::Column::ClientSecret)
            .into_tuple()
            .one(&self.0.conn)
            .await?;
        match sealed.flatten() {
            Some(s) => Ok(Some(self.0.keys.open(&s, &secret_binding(id))?)),
            None => Ok(None),
        }
    }

    /// Start-up check: every stored secret opens with the configured key.
    /// Fails with the first row that does not, so a wrong key file is caught
    /// before anyone clicks anything. Returns how many were checked.
    pub async fn verify_sealed_secrets(&self) -> Result<usize, SealedSecretsError> {
        let rows: Vec<(String, Option<String>, Option<String>)> = tenant_email::Entity::find()
            .select_only()
            .column(tenant_email::Column::Id)
            .column(tenant_email::Column::ClientSecret)
            .column(tenant_email::Column::NextClientSecret)
            .into_tuple()
            .all(&self.0.conn)
            .await
            .map_err(SealedSecretsError::Read)?;
        let mut checked = 0;
        for (id, sealed, next) in rows {
            if let Some(sealed) = sealed {
                open_or_name(&self.0.keys, &sealed, &id, SECRET_COLUMN)?;
                checked += 1;
            }
            if let Some(next) = next {
                open_or_name(&self.0.keys, &next, &id, NEXT_SECRET_COLUMN)?;
                checked += 1;
            }
        }
        Ok(checked)
    }

    /// Receiving mailboxes that are connected, with their poll interval.
    pub(super) async fn connected_receivers(&self) -> Result<Vec<(String, i32)>, DbErr> {
        let receiving = [Direction::Receive.code(), Direction::SendAndReceive.code()];
        tenant_email::Entity::find()
            .select_only()
            .column(tenant_email::Column::Id)
            .column(tenant_email::Column::PollIntervalSeconds)
            .filter(tenant_email::Column::Direction.is_in(receiving))
            .filter(tenant_email::Column::ConnectionStatus.eq(ConnectionStatus::Connected.code()))
            .into_tuple()
            .all(&self.0.conn)
            .await
    }
}

fn open_or_name(
    keys: &KeyRing,
    sealed: &str,
    id: &str,
    column: &'static str,
) -> Result<(), SealedSecretsError> {
    let at = Binding {
        table: TABLE,
        column,
        row_id: id,
    };
    keys.open(sealed, &at)
        .map(drop)
        .map_err(|source| SealedSecretsError::Open {
            key_id: keys.key_id().to_string(),
            row: id.to_string(),
            column,
            source,
        })
}

#[derive(Debug, thiserror::Error)]
pub enum SealedSecretsError {
    #[error("cannot read stored secrets: {0}")]
    Read(DbErr),
    #[error(
        "the encryption key (key id {key_id}) cannot decrypt tenant_email {row}.{column}: {source}"
    )]
    Open {
        key_id: String,
        row: String,
        column: &'static str,
        source: SecretError,
    },
}

/// Days from `today` until the secret expires (negative once expired).
pub fn days_until(expires_on: Option<NaiveDate>, today: NaiveDate) -> Option<i64> {
    expires_on.map(|d| (d - today).num_days())
}
