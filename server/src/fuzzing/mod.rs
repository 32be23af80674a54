//! What the fuzz targets in `server/fuzz/` run. Each entry takes arbitrary
//! bytes, feeds them to one parser or validator that reads outside input
//! (a browser, Microsoft, Graph, a mail sender, an admin's typing) and
//! asserts what must hold for every input; a panic is a find. The same
//! entries replay the committed corpora in `tests/fuzz_corpus.rs`, so a
//! fixed crash stays fixed on machines without the fuzzing build.
mod bodies;
mod graph;
mod inputs;
mod validators;

pub use bodies::html_body;
pub use graph::{delta_page, graph_error, retry_after};
pub use inputs::{callback_query, csv_cells};
pub use validators::validators;

/// A target's checks over one input.
pub type Target = fn(&[u8]);

/// Every target by the name of its binary and corpus directory.
pub const TARGETS: &[(&str, Target)] = &[
    ("callback_query", callback_query),
    ("validators", validators),
    ("graph_error", graph_error),
    ("retry_after", retry_after),
    ("delta_page", delta_page),
    ("html_body", html_body),
    ("csv_cells", csv_cells),
];
