//! The commands besides running the server (`tenant-mail <command>`).

/// Without a command the server runs.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Manage admin accounts from the server's shell (e.g. the first admin).
    Admin {
        #[command(subcommand)]
        action: AdminCommand,
    },
    /// The key that seals stored secrets.
    Key {
        #[command(subcommand)]
        action: KeyCommand,
    },
    /// Check every mailbox's configuration against Microsoft (discovery,
    /// redirect URI, app credentials, scopes, token, mailbox, clock). Exits
    /// non-zero when any check fails.
    Doctor,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum KeyCommand {
    /// Re-seal every stored secret under a new key, which then replaces the key
    /// file; the old key is kept beside it for older backups. Stop every
    /// instance first. Run it again to finish an interrupted rotation.
    Rotate,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum AdminCommand {
    /// Create an admin. The password is read from standard input (one line), never from an argument.
    Create {
        #[arg(long)]
        username: String,
    },
    /// Set a new password for an admin (read from standard input) and end their sessions.
    SetPassword {
        #[arg(long)]
        username: String,
    },
    /// List admins.
    List,
}
