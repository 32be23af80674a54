//! What a received message answers: its `In-Reply-To` and `References`
//! headers, which Graph gives only one message at a time (never in delta).
use super::{read_json, GraphClient, GraphError};
use crate::identity::AccessToken;
use reqwest::Method;

impl GraphClient {
    /// `In-Reply-To` and `References` of one message:
    /// `GET /me/messages/{id}?$select=internetMessageHeaders` (Graph gives a
    /// message's headers only this way, never in delta).
    pub async fn thread_headers(
        &self,
        token: &AccessToken,
        message_id: &str,
    ) -> Result<ThreadHeaders, GraphError> {
        let mut url = self.url(token, &["me", "messages", message_id])?;
        url.set_query(Some("$select=internetMessageHeaders"));
        let body = read_json(
            self.execute(self.authorized(Method::GET, url, token))
                .await?,
        )
        .await?;
        let mut out = ThreadHeaders::default();
        for header in body["internetMessageHeaders"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let name = header["name"].as_str().unwrap_or_default();
            let ids = message_ids(header["value"].as_str().unwrap_or_default());
            if name.eq_ignore_ascii_case("in-reply-to") {
                out.in_reply_to = ids.last().cloned();
            } else if name.eq_ignore_ascii_case("references") {
                out.references = ids;
            }
        }
        Ok(out)
    }
}

/// What a received message answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThreadHeaders {
    pub in_reply_to: Option<String>,
    /// Oldest first; at most [`MAX_REFERENCES`].
    pub references: Vec<String>,
}

/// A long thread's `References` keeps its first and latest ids (RFC 5322 §3.6.4
/// allows trimming the middle).
pub const MAX_REFERENCES: usize = 50;

/// The `<…>` message ids of a header value (folded lines and comments between
/// them ignored); a value without brackets is taken word by word.
fn message_ids(value: &str) -> Vec<String> {
    let mut ids: Vec<String> = value
        .split('<')
        .skip(1)
        .filter_map(|part| part.split_once('>'))
        .map(|(id, _)| id.split_whitespace().collect::<String>())
        .filter(|id| !id.is_empty() && id.len() <= 250)
        .map(|id| format!("<{id}>"))
        .collect();
    if ids.is_empty() {
        ids = value
            .split_whitespace()
            .filter(|w| w.len() <= 250)
            .map(str::to_owned)
            .collect();
    }
    if ids.len() > MAX_REFERENCES {
        let tail = ids.split_off(ids.len() - (MAX_REFERENCES - 1));
        ids.truncate(1);
        ids.extend(tail);
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_read_from_folded_values_and_long_lists_keep_both_ends() {
        assert_eq!(
            message_ids("<a@x.example>\r\n <b@x.example>"),
            vec!["<a@x.example>", "<b@x.example>"]
        );
        assert_eq!(
            message_ids(" <a@x.example> (comment)"),
            vec!["<a@x.example>"]
        );
        assert_eq!(message_ids("bare-id@x.example"), vec!["bare-id@x.example"]);
        assert!(message_ids("").is_empty());
        let long: String = (0..80).map(|i| format!("<{i}@x.example> ")).collect();
        let ids = message_ids(&long);
        assert_eq!(ids.len(), MAX_REFERENCES);
        assert_eq!(ids[0], "<0@x.example>");
        assert_eq!(ids[1], "<31@x.example>");
        assert_eq!(ids[MAX_REFERENCES - 1], "<79@x.example>");
    }
}
