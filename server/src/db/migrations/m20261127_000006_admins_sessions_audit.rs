//! Admin accounts, their server-side sessions, the one-time setup token, the
//! append-only audit log, and the admin session an OAuth flow belongs to.
use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Admin {
    Table,
    Id,
    Username,
    PasswordHash,
    DisabledAt,
    CreatedAt,
    UpdatedAt,
    PasswordChangedAt,
    LastSignInAt,
}

#[derive(DeriveIden)]
enum AdminSession {
    Table,
    IdHash,
    AdminId,
    Data,
    ExpiresAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SetupToken {
    Table,
    TokenHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    Id,
    At,
    Actor,
    ActorAdminId,
    RequestId,
    Ip,
    Action,
    Outcome,
    TargetType,
    TargetId,
    TargetLabel,
    Detail,
}

#[derive(DeriveIden)]
enum OauthFlow {
    Table,
    SessionKey,
}

// The audit log is evidence: the database itself refuses to change or delete it.
const SQLITE_APPEND_ONLY: &[&str] = &[
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event \
     BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event \
     BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
];
const POSTGRES_APPEND_ONLY: &[&str] = &[
    "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS \
     $$ BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$",
    "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event \
     FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Admin::Table)
                    .col(
                        ColumnDef::new(Admin::Id)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    // Stored lower-cased so "Alice" and "alice" are one account.
                    .col(
                        ColumnDef::new(Admin::Username)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(Admin::PasswordHash)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Admin::DisabledAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Admin::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Admin::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Admin::PasswordChangedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Admin::LastSignInAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AdminSession::Table)
                    // SHA-256 of the cookie's session id: a database reader cannot sign in.
                    .col(
                        ColumnDef::new(AdminSession::IdHash)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AdminSession::AdminId).string_len(36).null())
                    .col(ColumnDef::new(AdminSession::Data).text().not_null())
                    .col(
                        ColumnDef::new(AdminSession::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AdminSession::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(AdminSession::Table, AdminSession::AdminId)
                            .to(Admin::Table, Admin::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("admin_session_admin_id")
                    .table(AdminSession::Table)
                    .col(AdminSession::AdminId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SetupToken::Table)
                    .col(
                        ColumnDef::new(SetupToken::TokenHash)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(SetupToken::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditEvent::Table)
                    .col(
                        ColumnDef::new(AuditEvent::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AuditEvent::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditEvent::Actor).string_len(64).not_null())
                    .col(
                        ColumnDef::new(AuditEvent::ActorAdminId)
                            .string_len(36)
                            .null(),
                    )
                    .col(ColumnDef::new(AuditEvent::RequestId).string_len(64).null())
                    .col(ColumnDef::new(AuditEvent::Ip).string_len(64).null())
                    .col(ColumnDef::new(AuditEvent::Action).string_len(64).not_null())
                    .col(
                        ColumnDef::new(AuditEvent::Outcome)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditEvent::TargetType).string_len(32).null())
                    .col(ColumnDef::new(AuditEvent::TargetId).string_len(36).null())
                    .col(
                        ColumnDef::new(AuditEvent::TargetLabel)
                            .string_len(320)
                            .null(),
                    )
                    .col(ColumnDef::new(AuditEvent::Detail).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_event_at")
                    .table(AuditEvent::Table)
                    .col(AuditEvent::At)
                    .to_owned(),
            )
            .await?;
        let triggers = match manager.get_database_backend() {
            DbBackend::Postgres => POSTGRES_APPEND_ONLY,
            _ => SQLITE_APPEND_ONLY,
        };
        for sql in triggers {
            manager.get_connection().execute_unprepared(sql).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(OauthFlow::Table)
                    .add_column(ColumnDef::new(OauthFlow::SessionKey).string_len(64).null())
                    .to_owned(),
            )
            .await
    }
}
