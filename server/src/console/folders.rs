//! The Receiving tab's folder picker: the mailbox's folders, read from Graph
//! with the mailbox's own connection, so the admin picks a folder by name
//! and its id is what gets stored.
use super::Console;
use crate::identity::TokenError;
use crate::mail::graph::GraphError;
use app::model::fields::RECEIVE_FOLDER;
use app::model::inbox::{MailFolder, MailFolders};
use app::port::PortError;

fn refused(message: String) -> PortError {
    PortError::Rejected {
        field: RECEIVE_FOLDER.into(),
        message,
    }
}

impl Console {
    pub(super) async fn folders_of(
        &self,
        tenant_id: &str,
        email_id: &str,
    ) -> Result<MailFolders, PortError> {
        self.owned(tenant_id, email_id).await?;
        let token =
            match self.identity.access_token(email_id).await {
                Ok(t) => t,
                Err(TokenError::NotConnected) => return Err(refused(
                    "Connect the mailbox first (Click to Authenticate) to choose from its folders."
                        .into(),
                )),
                Err(TokenError::NeedsReauth(why) | TokenError::CredentialsInvalid(why)) => {
                    return Err(refused(format!(
                    "The mailbox needs re-authentication before its folders can be listed: {why}"
                )))
                }
                Err(e) => {
                    return Err(refused(format!(
                        "Could not get a token to list the folders: {e}"
                    )))
                }
            };
        match self.graph.mail_folders(&token).await {
            Ok((folders, truncated)) => Ok(MailFolders {
                folders: folders
                    .into_iter()
                    .map(|f| MailFolder {
                        id: f.id,
                        path: f.path,
                    })
                    .collect(),
                truncated,
            }),
            Err(e @ GraphError::Rejected { status: 403, .. }) => Err(refused(format!(
                "Microsoft refused to list the folders ({}): the connection needs Mail.Read or Mail.ReadWrite.",
                e.describe()
            ))),
            Err(e) => Err(refused(format!(
                "Microsoft Graph did not list the folders: {}",
                e.describe()
            ))),
        }
    }
}
