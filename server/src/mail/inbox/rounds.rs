//! Paging through a folder's delta until a round completes: each page is
//! committed (with the link after it) while the next one is fetched.
use super::sync::{Inbox, Link, SyncOutcome};
use super::text;
use crate::db::inbox::{Continue, NewAttachment, NewMessage, PageCommit};
use crate::db::tenant_emails::TenantEmail;
use crate::identity::AccessToken;
use crate::mail::graph::{Address, DeltaMessage, DeltaPage, GraphError, ThreadHeaders};
use app::model::inbox::{AfterProcessing, MailAddress};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// A page ready to commit: what is left of it after the parts committed
/// on the way (`stored` new messages).
struct Prepared {
    messages: Vec<Fetched>,
    next: Continue,
    removed: Vec<String>,
    stored: usize,
}

/// A message of a page with the attachments fetched for it.
struct Fetched {
    message: DeltaMessage,
    attachments: Vec<NewAttachment>,
    thread: ThreadHeaders,
}

fn address(a: Address) -> MailAddress {
    MailAddress {
        name: a.name,
        address: a.address,
    }
}

/// What is stored of a message: the text of an HTML body is made here, once.
fn to_store(f: Fetched) -> NewMessage {
    let m = f.message;
    NewMessage {
        body_text: text::plain_text(&m.body_type, &m.body),
        body_html: (m.body_type == "html").then_some(m.body),
        graph_id: m.id,
        internet_message_id: m.internet_message_id,
        from: m.from.map(address),
        to: m.to.into_iter().map(address).collect(),
        cc: m.cc.into_iter().map(address).collect(),
        reply_to: m.reply_to.into_iter().map(address).collect(),
        subject: m.subject,
        received_at: m.received_at,
        conversation_id: m.conversation_id,
        importance: m.importance,
        in_reply_to: f.thread.in_reply_to,
        references: (!f.thread.references.is_empty()).then(|| f.thread.references.join(" ")),
        attachments: f.attachments,
    }
}

/// The body names an attached part (`cid:`), as an inline image does.
fn refers_to_parts(body: &str) -> bool {
    body.as_bytes()
        .windows(4)
        .any(|w| w.eq_ignore_ascii_case(b"cid:"))
}

impl Inbox {
    /// Pages until a round completes (or something stops it).
    pub(super) async fn rounds(
        &self,
        email: &TenantEmail,
        owner: &str,
        mut link: Link,
        since: DateTime<Utc>,
        after: AfterProcessing,
    ) -> SyncOutcome {
        let id = email.id.as_str();
        let folder = email.settings.receiving.folder.as_str();
        let (mut pages, mut new, mut resyncs) = (0usize, 0usize, 0u32);
        // The next page, fetched while the previous one was being committed.
        let mut prefetched: Option<Result<DeltaPage, GraphError>> = None;
        loop {
            let token = match self.token(id).await {
                Ok(t) => t,
                Err(outcome) => return outcome,
            };
            if let Link::Delta(ref d) | Link::Next(ref d) = link {
                // Kept from before the mailbox moved to another cloud: that
                // Graph's state means nothing here, and the token must not go there.
                let elsewhere = url::Url::parse(d).map_or(true, |u| !token.graph.owns(&u));
                if elsewhere {
                    tracing::info!(
                        tenant_email_id = id,
                        "inbox: the mailbox's Graph changed; full resync"
                    );
                    if let Err(e) = self
                        .store
                        .inbox()
                        .start_over(id, owner, folder, since)
                        .await
                    {
                        return e.into();
                    }
                    link = Link::Start;
                }
            }
            let url = match link {
                Link::Start => match self.graph.delta_start(&token, folder, since) {
                    Ok(u) => u,
                    Err(e) => return SyncOutcome::Failed(e.describe()),
                },
                Link::Delta(ref d) => d.clone(),
                Link::Next(ref n) => n.clone(),
            };
            if !matches!(link, Link::Next(_)) {
                if let Err(e) = self.store.inbox().round_started(id, owner).await {
                    return e.into();
                }
            }
            let fetched = match prefetched.take() {
                Some(page) => page,
                None => self.call(id, |g| g.delta_page(&token, &url)).await,
            };
            let page = match fetched {
                Ok(p) => p,
                Err(e) if e.is_sync_state_lost() && resyncs < self.config.max_resyncs => {
                    resyncs += 1;
                    tracing::info!(
                        tenant_email_id = id,
                        "inbox: Graph lost the delta state; full resync"
                    );
                    let reset = self
                        .store
                        .inbox()
                        .start_over(id, owner, folder, since)
                        .await;
                    if let Err(e) = reset {
                        return e.into();
                    }
                    link = Link::Start;
                    continue;
                }
                Err(e) => return self.graph_problem(id, e).await,
            };
            let prepared = self.prepare(id, owner, after, &token, page, since).await;
            let Prepared {
                messages,
                next,
                removed,
                stored,
            } = match prepared {
                Ok(p) => p,
                Err(outcome) => return outcome,
            };
            new += stored;
            let next_link = match &next {
                Continue::Next(n) => Some(n.clone()),
                Continue::Delta(_) | Continue::Stay => None,
            };
            // Commit this page while the next one travels: Graph's latency
            // hides the text conversion and the durable commit, which run on
            // another worker. What is stored is the same either way; a
            // prefetched page whose commit failed is simply dropped.
            let commit = {
                let (store, lease) = (self.store.clone(), self.config.lease);
                let (id, owner) = (id.to_string(), owner.to_string());
                tokio::spawn(async move {
                    let messages = messages.into_iter().map(to_store).collect();
                    store
                        .inbox()
                        .commit_page(PageCommit {
                            tenant_email_id: &id,
                            owner: &owner,
                            after,
                            messages,
                            removed: &removed,
                            next,
                            lease,
                        })
                        .await
                })
            };
            let fetch_next = async {
                match &next_link {
                    Some(n) => Some(self.call(id, |g| g.delta_page(&token, n)).await),
                    None => None,
                }
            };
            let (committed, next_page) = tokio::join!(commit, fetch_next);
            match committed {
                Ok(Ok(Some(n))) => {
                    new += n;
                    crate::telemetry::inbox_stored(n as u64);
                }
                Ok(Ok(None)) => return SyncOutcome::LostLease,
                Ok(Err(e)) => return e.into(),
                Err(e) => return SyncOutcome::Failed(format!("the page commit stopped: {e}")),
            }
            prefetched = next_page;
            pages += 1;
            match next_link {
                Some(n) => link = Link::Next(n),
                None => return SyncOutcome::Synced { new, pages },
            }
        }
    }

    /// The page's messages worth storing (received since the start, not yet
    /// stored), with their attachments; where to continue; what left. Once
    /// what it gathered passes the byte budget, that part is committed
    /// before the next message is fetched (the link stays for the last part).
    async fn prepare(
        &self,
        id: &str,
        owner: &str,
        after: AfterProcessing,
        token: &AccessToken,
        page: DeltaPage,
        since: DateTime<Utc>,
    ) -> Result<Prepared, SyncOutcome> {
        let next = match (page.next_link, page.delta_link) {
            (Some(n), _) => Continue::Next(n),
            (None, Some(d)) => Continue::Delta(d),
            (None, None) => {
                return Err(SyncOutcome::Failed(
                    "Graph's delta page had no link to continue from.".into(),
                ))
            }
        };
        let wanted: Vec<DeltaMessage> = page
            .messages
            .into_iter()
            .filter(|m| m.received_at >= since)
            .collect();
        let ids: Vec<String> = wanted.iter().map(|m| m.id.clone()).collect();
        let known = self.store.inbox().known_ids(id, &ids).await?;
        let wanted: Vec<DeltaMessage> = wanted
            .into_iter()
            .filter(|m| !known.contains(&m.id))
            .collect();
        let mut threads = self.thread_headers(id, token, &wanted).await?;
        let (mut out, mut held, mut stored) = (Vec::new(), 0usize, 0usize);
        for m in wanted {
            if held >= self.config.page_bytes && !out.is_empty() {
                stored += self
                    .commit_part(id, owner, after, std::mem::take(&mut out))
                    .await?;
                held = 0;
            }
            // Graph's `hasAttachments` ignores inline parts: a pasted
            // screenshot is found only through the body's `cid:` reference.
            let attachments = if m.has_attachments || refers_to_parts(&m.body) {
                let received = self.fetch_attachments(id, token, &m.id).await?;
                // Files kept in memory count; those already in blobs do not.
                held += received.held;
                received.attachments
            } else {
                Vec::new()
            };
            let thread = threads.remove(&m.id).unwrap_or_default();
            held += m.body.len();
            out.push(Fetched {
                message: m,
                attachments,
                thread,
            });
        }
        Ok(Prepared {
            messages: out,
            next,
            removed: page.removed,
            stored,
        })
    }

    /// `In-Reply-To` / `References` of the page's messages that may answer
    /// another (see [`super::answers`]), asked for all at once: the
    /// mailbox's request slots bound how many are in flight.
    async fn thread_headers(
        &self,
        id: &str,
        token: &AccessToken,
        messages: &[DeltaMessage],
    ) -> Result<HashMap<String, ThreadHeaders>, SyncOutcome> {
        let asked: Vec<&DeltaMessage> = messages
            .iter()
            .filter(|m| super::answers::may_answer(&m.subject, m.conversation_index_len))
            .collect();
        let answers = futures_util::future::join_all(
            asked
                .iter()
                .map(|m| self.call(id, |g| g.thread_headers(token, &m.id))),
        )
        .await;
        let mut out = HashMap::with_capacity(asked.len());
        for (m, answer) in asked.into_iter().zip(answers) {
            match answer {
                Ok(thread) => {
                    out.insert(m.id.clone(), thread);
                }
                // Gone meanwhile, or refused for this one message: the headers
                // are extras, so it is stored without them rather than
                // holding up the mailbox's mail.
                Err(e @ GraphError::Rejected { .. }) => {
                    tracing::warn!(tenant_email_id = id, error = %e.describe(), "inbox: a message's thread headers could not be read; stored without them");
                }
                Err(e) => return Err(self.graph_problem(id, e).await),
            }
        }
        Ok(out)
    }

    /// Stores part of a page without moving its link.
    async fn commit_part(
        &self,
        id: &str,
        owner: &str,
        after: AfterProcessing,
        part: Vec<Fetched>,
    ) -> Result<usize, SyncOutcome> {
        let committed = self
            .store
            .inbox()
            .commit_page(PageCommit {
                tenant_email_id: id,
                owner,
                after,
                messages: part.into_iter().map(to_store).collect(),
                removed: &[],
                next: Continue::Stay,
                lease: self.config.lease,
            })
            .await;
        match committed {
            Ok(Some(n)) => Ok(n),
            Ok(None) => Err(SyncOutcome::LostLease),
            Err(e) => Err(e.into()),
        }
    }
}
