//! Field names used in `FieldErrors`, shared by forms and server functions.
pub const TENANT_NAME: &str = "name";
pub const ACCOUNT_TYPE: &str = "account_type";
pub const ADDRESS: &str = "address";
pub const DIRECTION: &str = "direction";
pub const APPLICATION_ID: &str = "application_id";
pub const CLIENT_SECRET: &str = "client_secret";
pub const SECRET_EXPIRES_ON: &str = "secret_expires_on";
pub const AUTHORITY_URL: &str = "authority_url";
pub const AUTHORIZATION_ENDPOINT: &str = "authorization_endpoint";
pub const TOKEN_ENDPOINT: &str = "token_endpoint";
pub const SCOPES: &str = "scopes";
pub const TENANT_ID_HELPER: &str = "tenant_id_helper";
pub const RECEIVE_FOLDER: &str = "receive_folder";
pub const AFTER_PROCESSING: &str = "after_processing";
pub const MOVE_TO_FOLDER: &str = "move_to_folder";
pub const POLL_INTERVAL: &str = "poll_interval_seconds";
pub const IMPORT_SINCE: &str = "import_since";
