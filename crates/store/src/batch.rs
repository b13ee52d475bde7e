//! Multi-row statements and `IN (…)` lists within the parameter limit both databases share.

use sqlx::{Any, Transaction};

use crate::StoreError;

/// Rows go in with multi-row statements of at most this many parameters: a sync writes
/// thousands of tags per call, and one statement per row made a large catalog take minutes on
/// PostgreSQL. Not many more, though: SQLite looks `$n` parameters up by a linear scan, so
/// binding one statement costs the square of its parameters (8,000 per statement made syncs 5
/// times slower than 500; PostgreSQL hardly notices either way).
pub(crate) const MAX_PARAMETERS: usize = 500;

/// Runs the statement `sql` makes of an `IN (…)` list once per batch of at most
/// [`MAX_PARAMETERS`] of `ids`, with the batch bound in order.
pub(crate) async fn execute_for_ids(
    tx: &mut Transaction<'_, Any>,
    ids: &[i64],
    sql: impl Fn(&str) -> String,
) -> Result<(), StoreError> {
    for chunk in ids.chunks(MAX_PARAMETERS) {
        let sql = sql(&placeholders(chunk.len()));
        let query = chunk.iter().fold(sqlx::query(&sql), |q, id| q.bind(*id));
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// `rows` groups of `per_row` consecutive placeholders from `$first`, each group written by
/// `row`.
pub(crate) fn values(
    first: usize,
    rows: usize,
    per_row: usize,
    row: impl Fn(&[String]) -> String,
) -> String {
    (0..rows)
        .map(|r| {
            let placeholders: Vec<String> = (0..per_row)
                .map(|c| format!("${}", first + r * per_row + c))
                .collect();
            row(&placeholders)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A row's placeholders as a parenthesised group, the usual `row` of [`values`].
pub(crate) fn group(placeholders: &[String]) -> String {
    format!("({})", placeholders.join(", "))
}

/// `$1, $2, …, $count`, the placeholders of an `IN (…)` list.
pub(crate) fn placeholders(count: usize) -> String {
    placeholders_from(1, count)
}

/// `$first, …`, `count` placeholders of an `IN (…)` list after `first - 1` others.
pub(crate) fn placeholders_from(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
