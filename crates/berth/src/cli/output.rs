//! Printing answers: one table printer for lists and single records, or the server's JSON.
//!
//! Tables are rendered from the JSON form of an answer, through columns that name a field by
//! its dotted path, so every resource is printed by the same code and a view is just a list
//! of columns.

use std::fmt::Display;

use berth_client::Page;
use serde::Serialize;
use serde_json::Value;

/// How answers are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// Aligned columns for people.
    Table,
    /// The server's JSON, pretty-printed; lists are every page joined.
    Json,
}

/// One column: a header, the dotted path of the field it shows (`health.status`), and how
/// its cells are written.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub header: &'static str,
    pub path: &'static str,
    pub kind: Kind,
}

/// How a column writes its cells. Only tables use it: `--output json` prints the server's
/// values unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The value as [`cell`] writes it.
    Plain,
    /// A count of bytes, in binary units as the console shows sizes ([`human_size`]).
    Bytes,
}

/// Shorthand for the views' column lists: a plain column.
pub const fn col(header: &'static str, path: &'static str) -> Column {
    Column {
        header,
        path,
        kind: Kind::Plain,
    }
}

/// A column of sizes in bytes, printed as `12.3 MiB`.
pub const fn bytes(header: &'static str, path: &'static str) -> Column {
    Column {
        header,
        path,
        kind: Kind::Bytes,
    }
}

impl Column {
    /// This column's cell of a row.
    fn cell(&self, row: &Value) -> String {
        let value = field(row, self.path);
        match (self.kind, value.and_then(Value::as_u64)) {
            (Kind::Bytes, Some(bytes)) => human_size(bytes),
            // A size that is missing, null or not a count prints as any other value would.
            _ => cell(value),
        }
    }
}

/// The binary units of [`human_size`], as the console's `humanSize` has them.
const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];

/// A size as the console's `humanSize` (`console/assets/ui.js`) writes it, so the CLI and the
/// console show one image the same: whole bytes below 1 KiB, then the largest binary unit that
/// keeps the number at least 1, with one decimal below 10 and none from 10 on (`512 B`,
/// `1.5 KiB`, `9.8 MiB`, `12 MiB`, `3.0 GiB`). It rounds as JavaScript does, halves upwards,
/// and counts in integers, so no float rounding can make the two differ.
pub fn human_size(bytes: u64) -> String {
    let mut unit = 0;
    let mut scale: u128 = 1;
    while u128::from(bytes) >= scale * 1024 && unit < UNITS.len() - 1 {
        scale *= 1024;
        unit += 1;
    }
    let bytes = u128::from(bytes);
    if unit == 0 {
        format!("{bytes} B")
    } else if bytes < 10 * scale {
        let tenths = (bytes * 10 + scale / 2) / scale;
        format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
    } else {
        format!("{} {}", (bytes + scale / 2) / scale, UNITS[unit])
    }
}

/// Separates columns; wide enough to tell columns apart when a cell has spaces.
const GAP: &str = "   ";

/// A field as one table cell: absent and null as `-`, booleans as yes/no, lists joined with
/// commas. Control characters become spaces, so text from the server can neither break the
/// layout nor send escape sequences to the terminal.
pub fn cell(value: Option<&Value>) -> String {
    let text = match value {
        None | Some(Value::Null) => "-".to_string(),
        Some(Value::Bool(true)) => "yes".to_string(),
        Some(Value::Bool(false)) => "no".to_string(),
        Some(Value::String(s)) if s.is_empty() => "-".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) if items.is_empty() => "-".to_string(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| cell(Some(item)))
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
    };
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The field at a dotted path.
fn field<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |value, key| value.get(key))
}

/// Lays out rows in aligned columns: the one table printer.
fn layout(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .filter_map(|row| row.get(i))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push_str(GAP);
            }
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', widths[i] - cell.chars().count()));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A list as a table with a header line and one line per item.
pub fn render_table(columns: &[Column], items: &[Value]) -> String {
    let header = columns.iter().map(|c| c.header.to_string()).collect();
    let rows = items
        .iter()
        .map(|item| columns.iter().map(|c| c.cell(item)).collect());
    layout(&std::iter::once(header).chain(rows).collect::<Vec<_>>())
}

/// One record as a header/value line per column.
pub fn render_record(columns: &[Column], record: &Value) -> String {
    let rows: Vec<Vec<String>> = columns
        .iter()
        .map(|c| vec![c.header.to_string(), c.cell(record)])
        .collect();
    layout(&rows)
}

impl Output {
    /// Prints a list: a table, or the joined pages as `{items, next_cursor, total}`.
    pub fn list<T: Serialize>(self, list: &Page<T>, columns: &[Column]) -> anyhow::Result<()> {
        match self {
            Output::Json => print_json(list),
            Output::Table => {
                let items: Vec<Value> = list
                    .items
                    .iter()
                    .map(serde_json::to_value)
                    .collect::<Result<_, _>>()?;
                print!("{}", render_table(columns, &items));
                if list.next_cursor.is_some() {
                    // On stderr, so a script reading the table never sees it as a row.
                    eprintln!(
                        "(showing {} of {}; raise --limit for more)",
                        items.len(),
                        list.total
                    );
                }
                Ok(())
            }
        }
    }

    /// Prints one record.
    pub fn one<T: Serialize>(self, item: &T, columns: &[Column]) -> anyhow::Result<()> {
        match self {
            Output::Json => print_json(item),
            Output::Table => {
                print!("{}", render_record(columns, &serde_json::to_value(item)?));
                Ok(())
            }
        }
    }

    /// Confirms a change the server answered without a body (204). JSON output stays empty,
    /// as the server's answer was.
    pub fn done(self, message: impl Display) {
        if self == Output::Table {
            println!("{message}");
        }
    }
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
