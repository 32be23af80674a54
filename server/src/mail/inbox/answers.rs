//! Which received messages are worth one more Graph request for their
//! `In-Reply-To` / `References`: Graph gives a message's headers only one
//! message at a time, so asking for every message would double the requests a
//! sync makes (and Graph throttles a mailbox past 10,000 requests in ten
//! minutes). A message that answers another says so in its subject (`RE:`,
//! `AW:`, `SV:`…) or in Exchange's `conversationIndex` (longer than the 22
//! bytes of a thread's first message); only those are asked about.

/// `conversationIndex` of a message that starts a thread.
const FIRST_IN_THREAD: usize = 22;

/// Reply prefixes as mail clients write them in the languages they ship in.
const REPLY_PREFIXES: &[&str] = &[
    "re",
    "aw",
    "sv",
    "vs",
    "antw",
    "odp",
    "rif",
    "r",
    "res",
    "ref",
    "réf",
    "ynt",
    "atb",
    "vá",
    "απ",
    "ответ",
    "回复",
    "答复",
    "回覆",
    "返信",
];

/// Whether the message may answer another (and its headers are worth reading).
pub fn may_answer(subject: &str, conversation_index_len: usize) -> bool {
    conversation_index_len > FIRST_IN_THREAD || has_reply_prefix(subject)
}

/// `RE: …`, `Re[2]: …`, `[EXT] AW: …`, `回复：…`.
fn has_reply_prefix(subject: &str) -> bool {
    let mut rest = subject.trim_start();
    // Tags a gateway puts first: "[EXT] ", "[SPAM] ".
    while let Some(tagged) = rest.strip_prefix('[') {
        match tagged.split_once(']') {
            Some((_, after)) => rest = after.trim_start(),
            None => break,
        }
    }
    let Some(colon) = rest.find([':', '：']) else {
        return false;
    };
    let word = rest[..colon].trim_end();
    // "Re[2]" and "Re(2)" count replies.
    let word = word
        .split(['[', '('])
        .next()
        .unwrap_or_default()
        .to_lowercase();
    REPLY_PREFIXES.contains(&word.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_known_by_subject_or_conversation_index() {
        for subject in [
            "RE: Order 17",
            "Re[2]: Order 17",
            "[EXT] AW: Rechnung",
            "SV: Faktura",
            "回复：订单",
            "  re : spaced",
        ] {
            assert!(may_answer(subject, 22), "{subject}");
        }
        for subject in [
            "Order 17",
            "Regarding: your order",
            "Fwd: Order 17",
            "Meeting at 10:30",
            "",
        ] {
            assert!(!may_answer(subject, 22), "{subject}");
        }
        // An answer whose subject was changed still extends the index.
        assert!(may_answer("New subject", 27));
        assert!(!may_answer("New subject", 0));
    }
}
