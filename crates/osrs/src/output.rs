//! Output as openstackclient prints it: `-f table|json|yaml|value|csv|shell`, `-c COLUMN`.
//!
//! A "show" is one record of named fields; a "list" is rows under column headers. Values are
//! JSON values: the table, value, csv and shell forms print lists as `a, b` and maps as
//! `k='v', k2='v2'` (openstackclient's human-readable columns); JSON and YAML keep them as
//! they are.

use std::io::Write;

use clap::{Args, ValueEnum};
use serde_json::{Map, Value};

use crate::{CliError, Outcome};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// A table (the default).
    Table,
    /// JSON.
    Json,
    /// YAML.
    Yaml,
    /// Values only, space separated, one record per line.
    Value,
    /// Comma-separated values with a header row.
    Csv,
    /// `name="value"` lines, for `eval` in a shell.
    Shell,
}

/// The output options every command that prints takes.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Output formatters")]
pub(crate) struct OutputArgs {
    /// The output format.
    #[arg(short = 'f', long = "format", value_enum, default_value = "table")]
    pub format: Format,
    /// A column to include (repeatable); default: all.
    #[arg(short = 'c', long = "column", value_name = "COLUMN")]
    pub columns: Vec<String>,
    /// JSON without indentation.
    #[arg(long)]
    pub noindent: bool,
    /// Prefix for the variable names of the shell format.
    #[arg(long, default_value = "")]
    pub prefix: String,
    /// Sort a list by this column (repeatable; the first one given sorts first).
    #[arg(long = "sort-column", value_name = "SORT_COLUMN")]
    pub sort_columns: Vec<String>,
    /// Sort the --sort-column columns ascending (the default).
    #[arg(long, conflicts_with = "sort_descending")]
    pub sort_ascending: bool,
    /// Sort the --sort-column columns descending.
    #[arg(long)]
    pub sort_descending: bool,
    /// When to quote csv fields.
    #[arg(long, value_enum, default_value = "nonnumeric")]
    pub quote: Quote,
    /// Largest width of a table, in characters (0: no limit); long values wrap.
    #[arg(long, env = "CLIFF_MAX_TERM_WIDTH", default_value_t = 0)]
    pub max_width: u16,
    /// Fit the table to the display width ($COLUMNS); implied by --max-width.
    #[arg(long, env = "CLIFF_FIT_WIDTH")]
    pub fit_width: bool,
    /// Print an empty table when there is no data (default: print nothing).
    #[arg(long)]
    pub print_empty: bool,
}

/// csv quoting (openstackclient's `--quote`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Quote {
    /// Every field.
    All,
    /// Only fields that need it.
    Minimal,
    /// No field.
    None,
    /// Every field that is not a number.
    Nonnumeric,
}

impl Quote {
    fn style(self) -> csv::QuoteStyle {
        match self {
            Quote::All => csv::QuoteStyle::Always,
            Quote::Minimal => csv::QuoteStyle::Necessary,
            Quote::None => csv::QuoteStyle::Never,
            Quote::Nonnumeric => csv::QuoteStyle::NonNumeric,
        }
    }
}

/// Orders JSON values as a sort key: null first, then booleans, numbers (by value), text,
/// and anything else by its text.
fn order(a: &Value, b: &Value) -> std::cmp::Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            _ => 4,
        }
    }
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            x.total_cmp(&y)
        }
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)).then_with(|| a.to_string().cmp(&b.to_string())),
    }
}

/// Sorts rows by the `--sort-column` columns (unknown names are refused).
fn sort_rows(out: &OutputArgs, names: &[String], rows: &mut [Vec<Value>]) -> Outcome {
    let mut keys = Vec::new();
    for c in &out.sort_columns {
        match names.iter().position(|n| n == c) {
            Some(i) => keys.push(i),
            None => {
                return Err(CliError::Usage(format!(
                    "--sort-column {c:?}: no such column ({})",
                    names.join(", ")
                )));
            }
        }
    }
    if keys.is_empty() {
        return Ok(());
    }
    rows.sort_by(|a, b| {
        let o = keys
            .iter()
            .fold(std::cmp::Ordering::Equal, |o, &k| o.then_with(|| order(&a[k], &b[k])));
        if out.sort_descending { o.reverse() } else { o }
    });
    Ok(())
}

/// Just the output options.
#[derive(Debug, Args)]
pub(crate) struct OutputOnly {
    /// Output.
    #[command(flatten)]
    pub out: OutputArgs,
}

/// One value as the human-readable formats print it.
pub(crate) fn human(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        // A list of names reads sorted, as openstackclient's list columns print it.
        Value::Array(items) => {
            let mut shown: Vec<String> = items.iter().map(human).collect();
            if items.iter().all(Value::is_string) {
                shown.sort();
            }
            shown.join(", ")
        }
        Value::Object(map) => {
            map.iter().map(|(k, v)| format!("{k}='{}'", human(v))).collect::<Vec<_>>().join(", ")
        }
        // Python's spelling, as openstackclient prints its values.
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        other => other.to_string(),
    }
}

/// One value as a table cell: as [`human`], but a missing value is `None`, as the tables of
/// openstackclient (cliff over prettytable) print it.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        other => human(other),
    }
}

/// Fields in their own order (openstackclient's column order), for the JSON and YAML
/// formats (a JSON map would sort them).
struct Ordered<'a>(&'a [(String, Value)]);

impl serde::Serialize for Ordered<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// The columns to print, in the record's own order (as openstackclient does: `-c` picks,
/// it does not reorder); an unknown name is ignored unless no name is known.
fn select(names: &[String], wanted: &[String]) -> Result<Vec<usize>, CliError> {
    if wanted.is_empty() {
        return Ok((0..names.len()).collect());
    }
    let keep: Vec<usize> = (0..names.len()).filter(|&i| wanted.contains(&names[i])).collect();
    if keep.is_empty() {
        return Err(CliError::Usage(format!(
            "no recognized column names in {wanted:?} (columns: {})",
            names.join(", ")
        )));
    }
    Ok(keep)
}

/// Prints one record (field, value pairs in order).
///
/// # Errors
/// An unknown `-c` column; a failed write.
pub(crate) fn show(out: &OutputArgs, fields: Vec<(String, Value)>) -> Outcome {
    let names: Vec<String> = fields.iter().map(|(k, _)| k.clone()).collect();
    let keep = select(&names, &out.columns)?;
    let fields: Vec<(String, Value)> = keep.iter().map(|&i| fields[i].clone()).collect();
    let mut text = String::new();
    match out.format {
        Format::Table => {
            let mut t = table(out, &["Field", "Value"]);
            for (k, v) in &fields {
                t.add_row(vec![k.clone(), cell(v)]);
            }
            text = format!("{t}\n");
        }
        Format::Json => text = json(&Ordered(&fields), out.noindent),
        // openstackclient's YAML sorts the keys (PyYAML's default); its JSON keeps the order.
        Format::Yaml => {
            let map: Map<String, Value> = fields.into_iter().collect();
            text = serde_yaml_ng::to_string(&map).map_err(|e| CliError::Output(e.to_string()))?;
        }
        Format::Value => {
            for (_, v) in &fields {
                text.push_str(&python_str(v));
                text.push('\n');
            }
        }
        Format::Csv => {
            let headers: Vec<String> = fields.iter().map(|(k, _)| k.clone()).collect();
            let row: Vec<Value> = fields.into_iter().map(|(_, v)| v).collect();
            text = csv_text(&headers, &[row], out.quote)?;
        }
        Format::Shell => {
            for (k, v) in &fields {
                let name: String =
                    k.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
                let value = human(v).replace('\\', "\\\\").replace('"', "\\\"");
                text.push_str(&format!("{}{name}=\"{value}\"\n", out.prefix));
            }
        }
    }
    write_out(&text)
}

/// Prints rows under `headers`.
///
/// # Errors
/// An unknown `-c` column; a failed write.
pub(crate) fn list(out: &OutputArgs, headers: &[&str], mut rows: Vec<Vec<Value>>) -> Outcome {
    let names: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    sort_rows(out, &names, &mut rows)?;
    let keep = select(&names, &out.columns)?;
    let headers: Vec<String> = keep.iter().map(|&i| names[i].clone()).collect();
    let rows: Vec<Vec<Value>> =
        rows.into_iter().map(|r| keep.iter().map(|&i| r[i].clone()).collect()).collect();
    let text = match out.format {
        Format::Table => {
            let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
            let mut t = table(out, &refs);
            for r in &rows {
                t.add_row(r.iter().map(cell).collect::<Vec<_>>());
            }
            // An empty list without --print-empty is an empty line, as prettytable prints it.
            if rows.is_empty() && !out.print_empty { "\n".into() } else { format!("{t}\n") }
        }
        Format::Json | Format::Yaml => {
            let items: Vec<Vec<(String, Value)>> =
                rows.into_iter().map(|r| headers.iter().cloned().zip(r).collect()).collect();
            if out.format == Format::Json {
                let ordered: Vec<Ordered<'_>> = items.iter().map(|i| Ordered(i)).collect();
                json(&ordered, out.noindent)
            } else {
                // Sorted keys, as PyYAML writes them.
                let sorted: Vec<Map<String, Value>> =
                    items.into_iter().map(|i| i.into_iter().collect()).collect();
                serde_yaml_ng::to_string(&sorted).map_err(|e| CliError::Output(e.to_string()))?
            }
        }
        Format::Value => {
            // Python's str() of each cell, as cliff's value formatter: a missing value is None.
            rows.iter()
                .map(|r| r.iter().map(python_str).collect::<Vec<_>>().join(" ") + "\n")
                .collect()
        }
        Format::Csv => csv_text(&headers, &rows, out.quote)?,
        Format::Shell => {
            return Err(CliError::Usage("the shell format prints one record, not a list".into()));
        }
    };
    write_out(&text)
}

fn table(out: &OutputArgs, headers: &[&str]) -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    // openstackclient's (prettytable's) frame: `+---+---+` above, under the header and
    // below, `|` between cells, no lines between rows.
    t.load_preset("||--+-++|    ++++++");
    t.set_header(headers.to_vec());
    let columns = std::env::var("COLUMNS").ok().and_then(|c| c.parse::<u16>().ok());
    let width = match (out.max_width, out.fit_width) {
        (0, true) => columns,
        (0, false) => None,
        (max, _) => Some(columns.map_or(max, |c| c.min(max))),
    };
    if let Some(w) = width {
        t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
        t.set_width(w);
    }
    t
}

fn json(v: &impl serde::Serialize, noindent: bool) -> String {
    let mut s = if noindent {
        serde_json::to_string(v).unwrap_or_default()
    } else {
        serde_json::to_string_pretty(v).unwrap_or_default()
    };
    s.push('\n');
    s
}

fn csv_text(headers: &[String], rows: &[Vec<Value>], quote: Quote) -> Result<String, CliError> {
    if quote == Quote::Nonnumeric {
        // Python's QUOTE_NONNUMERIC (cliff's default) goes by type: numbers and booleans bare,
        // everything else quoted, whatever it looks like.
        let field = |v: &Value| match v {
            Value::Number(_) | Value::Bool(_) => python_str(v),
            Value::Null => "\"\"".into(),
            other => format!("\"{}\"", python_str(other).replace('"', "\"\"")),
        };
        let mut out = String::new();
        let header: Vec<Value> = headers.iter().map(|h| Value::String(h.clone())).collect();
        for r in std::iter::once(&header).chain(rows) {
            out.push_str(&r.iter().map(field).collect::<Vec<_>>().join(","));
            out.push('\n');
        }
        return Ok(out);
    }
    let mut w = csv::WriterBuilder::new().quote_style(quote.style()).from_writer(vec![]);
    w.write_record(headers).map_err(|e| CliError::Output(e.to_string()))?;
    for r in rows {
        let text = r.iter().map(|v| if v.is_null() { String::new() } else { python_str(v) });
        w.write_record(text).map_err(|e| CliError::Output(e.to_string()))?;
    }
    let bytes = w.into_inner().map_err(|e| CliError::Output(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| CliError::Output(e.to_string()))
}

/// Python's `str()` of a value, as cliff's machine-readable formats (value, csv) print it:
/// a list as `['a', 'b']` (in its own order), a map as `{'k': 'v'}`, null as `None`.
pub(crate) fn python_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => python_repr(other),
    }
}

/// Python's `repr()` of a value (strings in single quotes, as Python prints most of them).
fn python_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.contains('\'') && !s.contains('"') => format!("\"{s}\""),
        Value::String(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        Value::Array(items) => {
            format!("[{}]", items.iter().map(python_repr).collect::<Vec<_>>().join(", "))
        }
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!(
                    "{}: {}",
                    python_repr(&Value::String(k.clone())),
                    python_repr(v)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn write_out(text: &str) -> Outcome {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        // `osrs image list | head`: a closed pipe is not an error worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::Output(format!("writing to stdout: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn human_forms_match_openstackclient() {
        assert_eq!(human(&json!(["b", "a"])), "a, b", "sorted, as a ListColumn reads");
        assert_eq!(human(&json!({"k": "v", "n": 1})), "k='v', n='1'");
        assert_eq!(human(&json!(null)), "");
        assert_eq!(human(&json!(12)), "12");
        assert_eq!(human(&json!(true)), "True");
        assert_eq!(human(&json!({"os_hidden": false})), "os_hidden='False'");
        assert_eq!(cell(&json!(null)), "None");
        // The machine-readable forms (value, csv): Python's str().
        assert_eq!(python_str(&json!(["b", "a"])), "['b', 'a']");
        assert_eq!(
            python_str(&json!({"k": "v", "n": 1, "t": true})),
            "{'k': 'v', 'n': 1, 't': True}"
        );
        assert_eq!(python_str(&json!(null)), "None");
        assert_eq!(python_str(&json!("it's")), "it's");
        assert_eq!(python_str(&json!(["it's"])), "[\"it's\"]");
    }

    #[test]
    fn columns_are_checked() {
        let names = vec!["ID".to_string(), "Name".to_string()];
        assert_eq!(select(&names, &["Name".into()]).unwrap(), [1]);
        assert_eq!(select(&names, &["Name".into(), "ID".into()]).unwrap(), [0, 1], "own order");
        assert_eq!(select(&names, &["Name".into(), "Nope".into()]).unwrap(), [1]);
        assert!(select(&names, &["Nope".into()]).unwrap_err().to_string().contains("ID, Name"));
    }

    #[test]
    fn csv_quotes_text_not_numbers() {
        let rows = [vec![json!("a,b"), json!(5)], vec![json!("c"), json!(6)]];
        let csv = |q| csv_text(&["ID".into(), "Size".into()], &rows, q).unwrap();
        assert_eq!(csv(Quote::Nonnumeric), "\"ID\",\"Size\"\n\"a,b\",5\n\"c\",6\n");
        assert_eq!(csv(Quote::Minimal), "ID,Size\n\"a,b\",5\nc,6\n");
        assert_eq!(csv(Quote::All), "\"ID\",\"Size\"\n\"a,b\",\"5\"\n\"c\",\"6\"\n");
        assert_eq!(csv(Quote::None), "ID,Size\na,b,5\nc,6\n");
    }

    #[test]
    fn rows_sort_by_columns_with_numbers_as_numbers() {
        let parse = |args: &[&str]| {
            #[derive(clap::Parser)]
            struct T {
                #[command(flatten)]
                out: OutputArgs,
            }
            <T as clap::Parser>::parse_from(std::iter::once("t").chain(args.iter().copied())).out
        };
        let names = vec!["Name".to_string(), "Size".to_string()];
        let mut rows = vec![
            vec![json!("b"), json!(10)],
            vec![json!("a"), json!(9)],
            vec![json!("a"), json!(null)],
        ];
        sort_rows(&parse(&["--sort-column", "Size"]), &names, &mut rows).unwrap();
        assert_eq!(rows[0][1], json!(null));
        assert_eq!(rows[2][1], json!(10), "numbers compare as numbers, not text");
        let by_both =
            parse(&["--sort-column", "Name", "--sort-column", "Size", "--sort-descending"]);
        sort_rows(&by_both, &names, &mut rows).unwrap();
        assert_eq!(
            rows,
            [
                vec![json!("b"), json!(10)],
                vec![json!("a"), json!(9)],
                vec![json!("a"), json!(null)]
            ]
        );
        assert!(sort_rows(&parse(&["--sort-column", "Nope"]), &names, &mut rows).is_err());
    }
}
