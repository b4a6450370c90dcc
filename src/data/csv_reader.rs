//! Reading a user's CSV file into a [`Table`], with errors that name the line, column and value.
//!
//! Reading never fails on content that a click can fix: text values, missing values and infinities
//! become [`Problem`]s with a [`Fix`], and [`Table::to_dataset`] applies the user's [`Prep`].
//! Only files that are not a table at all (binary, ragged, one column, too short) are errors.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{ColumnSummary, DataError, Dataset, FiniteStats};

/// Larger files would take seconds to parse and hundreds of MB of browser memory.
pub const MAX_FILE_BYTES: u64 = 50 * 1024 * 1024;
/// Below this, no independence test or score is meaningful.
pub const MIN_ROWS: usize = 10;

const PREVIEW_ROWS: usize = 10;
const MAX_LEVELS: usize = 20;
/// How many non-blank records the delimiter sniffer looks at.
const SNIFF_RECORDS: usize = 50;
/// Delimiter candidates, in order of preference on ties.
const DELIMITERS: [u8; 3] = [b',', b';', b'\t'];
const DELIMITERS_TRIED: &str = "comma, semicolon and tab";

/// Refuses files over [`MAX_FILE_BYTES`]; called before the bytes are read.
pub fn check_size(n_bytes: u64) -> Result<(), CsvError> {
    if n_bytes > MAX_FILE_BYTES {
        return Err(CsvError::TooLarge { bytes: n_bytes });
    }
    Ok(())
}

/// A parsed CSV file: one column per field, values as f64 (NaN where missing or text).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: Vec<TableColumn>,
    pub n_rows: usize,
    pub had_header: bool,
    pub delimiter: u8,
    /// 1-based physical line of each data row.
    pub row_lines: Vec<usize>,
    /// The first data rows as text, for the preview.
    pub preview_rows: Vec<Vec<String>>,
}

/// One column of a [`Table`].
#[derive(Debug, Clone, PartialEq)]
pub struct TableColumn {
    pub name: String,
    pub kind: ColumnKind,
    /// NaN where missing or text; ±inf kept.
    pub values: Vec<f64>,
    pub n_missing: usize,
    pub n_non_finite: usize,
    pub n_text: usize,
    /// Line and value of the first text value.
    pub first_text: Option<(usize, String)>,
    pub first_missing_line: Option<usize>,
    pub first_non_finite_line: Option<usize>,
    /// Distinct text values in order of appearance, at most 20 kept.
    pub levels: Vec<String>,
    /// How many distinct text values the column holds (all of them, not capped).
    pub n_levels: usize,
    /// What each cell was, so problems can be re-evaluated on a subset of rows.
    cells: Vec<Cell>,
    /// Every distinct text value; `Cell::Text` indexes it.
    pool: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Cell {
    Number,
    Missing,
    NonFinite,
    Text(u32),
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ColumnKind {
    Numeric,
    /// Every non-missing value is text.
    Categorical,
    /// Numbers with some text.
    Mixed,
}

/// Something in the data the user should know about before learning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Problem {
    NonNumeric {
        column: String,
        line: usize,
        value: String,
        n_text: usize,
    },
    Categorical {
        column: String,
        example: String,
        n_levels: usize,
    },
    Missing {
        column: String,
        count: usize,
        first_line: usize,
    },
    NonFinite {
        column: String,
        count: usize,
        first_line: usize,
    },
    Constant {
        column: String,
        value: f64,
    },
    /// Every value of the column is missing: dropping rows would leave none.
    AllMissing {
        column: String,
    },
}

/// A one-click remedy for a [`Problem`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Fix {
    DropColumn(String),
    DropIncompleteRows,
}

/// The user's preparation choices, applied by [`Table::to_dataset`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Prep {
    pub drop_columns: Vec<String>,
    pub drop_incomplete_rows: bool,
    pub standardize: bool,
    /// A column naming the intervened variable(s) of each row (interventional data); it is
    /// read as labels, not as a variable.
    #[serde(default)]
    pub intervention_column: Option<String>,
}

impl Problem {
    /// A sentence for the preview, naming the column, line and value.
    pub fn message(&self) -> String {
        match self {
            Problem::NonNumeric {
                column,
                line,
                value,
                n_text,
            } => {
                let more = if *n_text > 1 {
                    format!(" ({n_text} text values in this column)")
                } else {
                    String::new()
                };
                let decimal = if looks_like_decimal_comma(value) {
                    " It looks like a decimal comma: save the file with '.' as the decimal mark."
                } else {
                    ""
                };
                format!(
                    "column \"{column}\", line {line}: expected a number, found \"{value}\"{more}.{decimal}"
                )
            }
            Problem::Categorical {
                column,
                example,
                n_levels,
            } => format!(
                "column \"{column}\" holds text, not numbers (e.g. \"{example}\"; {n_levels} \
                 different value{s}). Causeway learns from numeric columns only.",
                s = if *n_levels == 1 { "" } else { "s" }
            ),
            Problem::Missing {
                column,
                count,
                first_line,
            } => format!(
                "column \"{column}\" has {count} missing value{s} (first on line {first_line}).",
                s = if *count == 1 { "" } else { "s" }
            ),
            Problem::NonFinite {
                column,
                count,
                first_line,
            } => format!(
                "column \"{column}\" has {count} infinite value{s} (first on line {first_line}).",
                s = if *count == 1 { "" } else { "s" }
            ),
            Problem::Constant { column, value } => format!(
                "column \"{column}\" has the same value ({value}) in every row, so it carries no \
                 information about causes or effects."
            ),
            Problem::AllMissing { column } => {
                format!("column \"{column}\" has no values at all: every entry is missing.")
            }
        }
    }

    /// The one-click fix the preview offers, if any.
    /// The column the problem is about.
    pub fn column(&self) -> &str {
        match self {
            Problem::NonNumeric { column, .. }
            | Problem::Categorical { column, .. }
            | Problem::Missing { column, .. }
            | Problem::NonFinite { column, .. }
            | Problem::Constant { column, .. }
            | Problem::AllMissing { column } => column,
        }
    }

    pub fn fix(&self) -> Option<Fix> {
        match self {
            Problem::NonNumeric { column, .. }
            | Problem::Categorical { column, .. }
            | Problem::Constant { column, .. }
            | Problem::AllMissing { column } => Some(Fix::DropColumn(column.clone())),
            Problem::Missing { .. } | Problem::NonFinite { .. } => Some(Fix::DropIncompleteRows),
        }
    }

    /// Whether learning must wait until this is fixed (a constant column is only a warning).
    pub fn blocks(&self) -> bool {
        !matches!(self, Problem::Constant { .. })
    }

    /// The error [`Table::to_dataset`] reports when this blocking problem is still there.
    fn to_error(&self) -> Option<DataError> {
        Some(match self {
            Problem::NonNumeric {
                column,
                line,
                value,
                ..
            } => DataError::NotANumber {
                column: column.clone(),
                line: *line,
                value: value.clone(),
            },
            Problem::Categorical {
                column,
                example,
                n_levels,
            } => DataError::TextColumn {
                column: column.clone(),
                example: example.clone(),
                n_levels: *n_levels,
            },
            Problem::Missing {
                column,
                count,
                first_line,
            } => DataError::Missing {
                column: column.clone(),
                count: *count,
                line: *first_line,
            },
            Problem::NonFinite {
                column,
                count,
                first_line,
            } => DataError::NonFinite {
                column: column.clone(),
                count: *count,
                line: *first_line,
            },
            Problem::AllMissing { column } => DataError::EmptyColumn {
                column: column.clone(),
            },
            Problem::Constant { .. } => return None,
        })
    }
}

/// What kind of non-text file was dropped, recognised by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Zip,
    Xls,
    Pdf,
    Png,
    Jpeg,
    Gif,
    Utf16,
    Binary,
}

impl FileKind {
    fn describe(self) -> &'static str {
        match self {
            FileKind::Zip => "an Excel workbook (.xlsx) or another zip archive",
            FileKind::Xls => "an old Excel workbook (.xls)",
            FileKind::Pdf => "a PDF document",
            FileKind::Png => "a PNG image",
            FileKind::Jpeg => "a JPEG image",
            FileKind::Gif => "a GIF image",
            FileKind::Utf16 => "UTF-16 text",
            FileKind::Binary => "a binary file (it contains NUL bytes)",
        }
    }

    fn hint(self) -> &'static str {
        match self {
            FileKind::Zip | FileKind::Xls => {
                "In Excel: File → Save As → CSV UTF-8, then load the .csv file."
            }
            FileKind::Utf16 => "Save the file as CSV UTF-8 (in Excel: File → Save As → CSV UTF-8).",
            _ => "Causeway reads tables saved as CSV text: export your table as CSV and load that.",
        }
    }
}

/// Why a file could not be read as a table.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CsvError {
    #[error("the file is {mb:.1} MB; Causeway reads files up to 50 MB.", mb = *bytes as f64 / 1048576.0)]
    TooLarge { bytes: u64 },
    #[error("the file is empty: it has no bytes, or only blank lines.")]
    Empty,
    #[error("this is {}, not a CSV text file.", kind.describe())]
    NotText { kind: FileKind },
    #[error("line {line} is not valid UTF-8 text.")]
    InvalidUtf8 { line: usize },
    #[error(
        "only one column found: tried {tried} as separators, and none splits the lines into \
         several columns."
    )]
    SingleColumn { tried: String },
    #[error("line {line} has {found} fields, but line {first_line} has {expected}.")]
    Ragged {
        line: usize,
        expected: usize,
        found: usize,
        first_line: usize,
    },
    #[error("the column name \"{name}\" appears twice: column {first} and column {second}.")]
    DuplicateName {
        name: String,
        first: usize,
        second: usize,
    },
    #[error("the file has a header row (line {line}, {columns} columns) but no data rows.")]
    HeaderOnly { line: usize, columns: usize },
    #[error("the file has only {n} data row{s}; at least {min} are needed.", s = if *n == 1 { "" } else { "s" }, min = MIN_ROWS)]
    TooFewRows { n: usize },
    #[error("line {line}: the CSV could not be parsed ({detail}).")]
    Malformed { line: usize, detail: String },
}

impl CsvError {
    /// A short title for the error box.
    pub fn title(&self) -> &'static str {
        match self {
            CsvError::TooLarge { .. } => "File too large",
            CsvError::Empty => "Empty file",
            CsvError::NotText { .. } => "Not a CSV file",
            CsvError::InvalidUtf8 { .. } => "Not UTF-8 text",
            CsvError::SingleColumn { .. } => "Only one column",
            CsvError::Ragged { .. } => "Wrong number of fields",
            CsvError::DuplicateName { .. } => "Duplicate column name",
            CsvError::HeaderOnly { .. } => "No data rows",
            CsvError::TooFewRows { .. } => "Too few rows",
            CsvError::Malformed { .. } => "Unreadable CSV",
        }
    }

    /// One sentence saying what to do.
    pub fn hint(&self) -> String {
        match self {
            CsvError::TooLarge { .. } => "Sample rows (e.g. every 10th) or keep fewer columns, \
                 and save the result as a smaller CSV."
                .to_string(),
            CsvError::Empty | CsvError::HeaderOnly { .. } => {
                format!("Choose a file with a header row and at least {MIN_ROWS} rows of numbers.")
            }
            CsvError::NotText { kind } => kind.hint().to_string(),
            CsvError::InvalidUtf8 { .. } => {
                "Save the file as CSV UTF-8 (in Excel: File → Save As → CSV UTF-8).".to_string()
            }
            CsvError::SingleColumn { .. } => "Separate the columns with commas, semicolons or \
                 tabs; causal discovery needs at least two columns."
                .to_string(),
            CsvError::Ragged { line, .. } => format!(
                "Check line {line}: a value containing the separator must be in double quotes, \
                 and every row needs one value per column (leave it empty if missing)."
            ),
            CsvError::DuplicateName { .. } => {
                "Rename one of the two columns so every name is unique.".to_string()
            }
            CsvError::TooFewRows { .. } => {
                format!("Use a file with at least {MIN_ROWS} rows of data.")
            }
            CsvError::Malformed { .. } => {
                "Open the file in a spreadsheet and save it again as CSV UTF-8.".to_string()
            }
        }
    }
}

/// One parsed cell.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Value {
    Number(f64),
    Missing,
    NonFinite(f64),
    Text,
}

/// Tokens that mean "no value" in common exports (R, pandas, SQL, SPSS, Weka).
fn is_missing_token(t: &str) -> bool {
    t.is_empty()
        || t == "?"
        || t == "."
        || ["NA", "N/A", "NaN", "null"]
            .iter()
            .any(|m| t.eq_ignore_ascii_case(m))
}

fn parse_value(field: &str, decimal_comma: bool) -> Value {
    let t = field.trim();
    if is_missing_token(t) {
        return Value::Missing;
    }
    // Rust's parser also accepts "inf", "-Infinity" and "NaN" in any case, and overflows such
    // as "1e999" to inf: all of them land in the right bucket below.
    let parsed = t.parse::<f64>().ok().or_else(|| {
        if decimal_comma && looks_like_decimal_comma(t) {
            t.replacen(',', ".", 1).parse::<f64>().ok()
        } else {
            None
        }
    });
    match parsed {
        Some(x) if x.is_nan() => Value::Missing,
        Some(x) if x.is_finite() => Value::Number(x),
        Some(x) => Value::NonFinite(x),
        None => Value::Text,
    }
}

/// "3,14" or "-0,5": a number written with a decimal comma (European spreadsheets).
fn looks_like_decimal_comma(t: &str) -> bool {
    let t = t.trim();
    let unsigned = t.strip_prefix(['-', '+']).unwrap_or(t);
    match unsigned.split_once(',') {
        Some((int, frac)) => {
            !int.is_empty()
                && !frac.is_empty()
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

fn sniff_binary(bytes: &[u8]) -> Option<FileKind> {
    const MAGIC: [(&[u8], FileKind); 9] = [
        (b"PK\x03\x04", FileKind::Zip),
        (b"\xD0\xCF\x11\xE0", FileKind::Xls),
        (b"%PDF", FileKind::Pdf),
        (b"\x89PNG", FileKind::Png),
        (b"\xFF\xD8\xFF", FileKind::Jpeg),
        (b"GIF87a", FileKind::Gif),
        (b"GIF89a", FileKind::Gif),
        (b"\xFF\xFE", FileKind::Utf16),
        (b"\xFE\xFF", FileKind::Utf16),
    ];
    if let Some(&(_, kind)) = MAGIC.iter().find(|(magic, _)| bytes.starts_with(magic)) {
        return Some(kind);
    }
    bytes.contains(&0).then_some(FileKind::Binary)
}

fn reader(text: &str, delimiter: u8) -> csv::Reader<&[u8]> {
    // Flexible, so ragged rows reach us and are reported with their line, not csv's wording.
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes())
}

/// A whitespace-only line: csv skips truly empty lines but not "   ".
fn is_blank(record: &csv::StringRecord) -> bool {
    record.len() <= 1 && record.iter().all(|f| f.trim().is_empty())
}

/// Turns byte offsets into 1-based physical line numbers. csv's own `Position::line` is not
/// used: it is taken before blank lines and the `\n` of a CRLF are skipped, so it lags behind.
struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter {
            text: text.as_bytes(),
            offset: 0,
            line: 1,
        }
    }

    /// The line on which the record starting at (or just before, over line breaks) `byte` begins.
    /// Offsets must not decrease between calls, which holds for records read in order.
    fn line_of_record(&mut self, byte: usize) -> usize {
        let mut start = byte.min(self.text.len());
        while matches!(self.text.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        while self.offset < start {
            // "\n", "\r\n" and a lone "\r" each end one line.
            match self.text[self.offset] {
                b'\n' => self.line += 1,
                b'\r' if self.text.get(self.offset + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
            self.offset += 1;
        }
        self.line
    }
}

/// Picks the delimiter giving a consistent field count > 1 over the first non-blank records;
/// without one, the delimiter that splits most records (the full read then names a ragged line).
fn sniff_delimiter(text: &str) -> Result<u8, CsvError> {
    let mut best: Option<(usize, u8)> = None;
    for &delimiter in &DELIMITERS {
        let mut rdr = reader(text, delimiter);
        let mut record = csv::StringRecord::new();
        let mut counts = Vec::new();
        while counts.len() < SNIFF_RECORDS {
            match rdr.read_record(&mut record) {
                Ok(true) if is_blank(&record) => {}
                Ok(true) => counts.push(record.len()),
                _ => break,
            }
        }
        let first = counts.first().copied().unwrap_or(0);
        if first > 1 && counts.iter().all(|&c| c == first) {
            return Ok(delimiter);
        }
        let split = counts.iter().filter(|&&c| c > 1).count();
        if split > 0 && best.is_none_or(|(n, _)| split > n) {
            best = Some((split, delimiter));
        }
    }
    best.map(|(_, d)| d).ok_or_else(|| CsvError::SingleColumn {
        tried: DELIMITERS_TRIED.into(),
    })
}

fn line_of_offset(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Reads CSV bytes into a [`Table`]; see the module docs for what is an error and what a problem.
pub fn read_csv(bytes: &[u8]) -> Result<Table, CsvError> {
    check_size(bytes.len() as u64)?;
    if let Some(kind) = sniff_binary(bytes) {
        return Err(CsvError::NotText { kind });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| CsvError::InvalidUtf8 {
        line: line_of_offset(bytes, e.valid_up_to()),
    })?;
    if text.trim().is_empty() {
        return Err(CsvError::Empty);
    }
    let delimiter = sniff_delimiter(text)?;

    // Each record with its 1-based physical line.
    let mut records: Vec<(usize, csv::StringRecord)> = Vec::new();
    let mut lines = LineCounter::new(text);
    for result in reader(text, delimiter).records() {
        let record = result.map_err(|e| CsvError::Malformed {
            line: e
                .position()
                .map_or(0, |p| line_of_offset(bytes, p.byte() as usize)),
            detail: e.to_string(),
        })?;
        if !is_blank(&record) {
            let line = lines.line_of_record(record.position().map_or(0, |p| p.byte() as usize));
            records.push((line, record));
        }
    }
    let Some((first_line, first)) = records.first() else {
        return Err(CsvError::Empty);
    };

    // A delimiter at the end of every line makes an empty last field everywhere: not a column.
    let last_empty = |r: &csv::StringRecord| {
        r.len() > 1 && r.iter().next_back().is_some_and(|f| f.trim().is_empty())
    };
    let trailing = records.iter().all(|(_, r)| last_empty(r));
    let width = first.len() - usize::from(trailing);
    if width < 2 {
        return Err(CsvError::SingleColumn {
            tried: DELIMITERS_TRIED.into(),
        });
    }
    let first_line = *first_line;

    let decimal_comma = delimiter == b';';
    let had_header = !first.iter().take(width).any(|f| {
        matches!(
            parse_value(f, decimal_comma),
            Value::Number(_) | Value::NonFinite(_)
        )
    });
    let names: Vec<String> = if had_header {
        first
            .iter()
            .take(width)
            .enumerate()
            .map(|(j, f)| {
                let name = f.trim();
                if name.is_empty() {
                    format!("X{}", j + 1)
                } else {
                    name.to_string()
                }
            })
            .collect()
    } else {
        (1..=width).map(|j| format!("X{j}")).collect()
    };
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (j, name) in names.iter().enumerate() {
        if let Some(&i) = seen.get(name.as_str()) {
            return Err(CsvError::DuplicateName {
                name: name.clone(),
                first: i + 1,
                second: j + 1,
            });
        }
        seen.insert(name, j);
    }

    let data = &records[usize::from(had_header)..];
    if data.is_empty() {
        return Err(CsvError::HeaderOnly {
            line: first_line,
            columns: width,
        });
    }

    let mut builders: Vec<ColumnBuilder> = (0..width)
        .map(|_| ColumnBuilder::with_capacity(data.len()))
        .collect();
    let mut row_lines = Vec::with_capacity(data.len());
    let mut preview_rows = Vec::new();
    for (line, record) in data {
        let line = *line;
        // Also accept a lone trailing delimiter on some lines only (the header may lack it).
        let found = record.len();
        let tolerated = found == width + 1 && last_empty(record);
        if found != width && !tolerated {
            let found = found - usize::from(trailing && last_empty(record));
            return Err(CsvError::Ragged {
                line,
                expected: width,
                found,
                first_line,
            });
        }
        for (builder, field) in builders.iter_mut().zip(record.iter()) {
            builder.push(field, parse_value(field, decimal_comma), line);
        }
        if preview_rows.len() < PREVIEW_ROWS {
            preview_rows.push(
                record
                    .iter()
                    .take(width)
                    .map(|f| f.trim().to_string())
                    .collect(),
            );
        }
        row_lines.push(line);
    }
    if data.len() < MIN_ROWS {
        return Err(CsvError::TooFewRows { n: data.len() });
    }

    let columns = names
        .into_iter()
        .zip(builders)
        .map(|(name, b)| b.finish(name))
        .collect();
    Ok(Table {
        columns,
        n_rows: data.len(),
        had_header,
        delimiter,
        row_lines,
        preview_rows,
    })
}

struct ColumnBuilder {
    values: Vec<f64>,
    cells: Vec<Cell>,
    pool: Vec<String>,
    pool_index: HashMap<String, u32>,
    n_missing: usize,
    n_non_finite: usize,
    n_text: usize,
    n_numbers: usize,
    first_text: Option<(usize, String)>,
    first_missing_line: Option<usize>,
    first_non_finite_line: Option<usize>,
}

impl ColumnBuilder {
    fn with_capacity(n: usize) -> Self {
        ColumnBuilder {
            values: Vec::with_capacity(n),
            cells: Vec::with_capacity(n),
            pool: Vec::new(),
            pool_index: HashMap::new(),
            n_missing: 0,
            n_non_finite: 0,
            n_text: 0,
            n_numbers: 0,
            first_text: None,
            first_missing_line: None,
            first_non_finite_line: None,
        }
    }

    fn push(&mut self, field: &str, value: Value, line: usize) {
        let (x, cell) = match value {
            Value::Number(x) => {
                self.n_numbers += 1;
                (x, Cell::Number)
            }
            Value::Missing => {
                self.n_missing += 1;
                self.first_missing_line.get_or_insert(line);
                (f64::NAN, Cell::Missing)
            }
            Value::NonFinite(x) => {
                self.n_numbers += 1;
                self.n_non_finite += 1;
                self.first_non_finite_line.get_or_insert(line);
                (x, Cell::NonFinite)
            }
            Value::Text => {
                let text = field.trim();
                self.n_text += 1;
                if self.first_text.is_none() {
                    self.first_text = Some((line, text.to_string()));
                }
                let id = match self.pool_index.get(text) {
                    Some(&id) => id,
                    None => {
                        // A file under 50 MB cannot hold 2^32 distinct values; saturate anyway.
                        let id = u32::try_from(self.pool.len()).unwrap_or(u32::MAX);
                        self.pool.push(text.to_string());
                        self.pool_index.insert(text.to_string(), id);
                        id
                    }
                };
                (f64::NAN, Cell::Text(id))
            }
        };
        self.values.push(x);
        self.cells.push(cell);
    }

    fn finish(self, name: String) -> TableColumn {
        let kind = match (self.n_text, self.n_numbers) {
            (0, _) => ColumnKind::Numeric,
            (_, 0) => ColumnKind::Categorical,
            _ => ColumnKind::Mixed,
        };
        TableColumn {
            name,
            kind,
            values: self.values,
            n_missing: self.n_missing,
            n_non_finite: self.n_non_finite,
            n_text: self.n_text,
            first_text: self.first_text,
            first_missing_line: self.first_missing_line,
            first_non_finite_line: self.first_non_finite_line,
            levels: self.pool.iter().take(MAX_LEVELS).cloned().collect(),
            n_levels: self.pool.len(),
            cells: self.cells,
            pool: self.pool,
        }
    }
}

impl TableColumn {
    /// The problems of this column restricted to the given rows (indices into the table).
    fn problems_on(&self, rows: &[usize], row_lines: &[usize]) -> Vec<Problem> {
        let line = |r: usize| row_lines.get(r).copied().unwrap_or(0);
        let column = || self.name.clone();
        let mut n_text = 0;
        let mut first_text: Option<(usize, u32)> = None;
        let mut level_seen = vec![false; self.pool.len()];
        let mut n_levels = 0;
        let (mut n_numbers, mut n_missing, mut n_non_finite) = (0, 0, 0);
        let (mut first_missing, mut first_non_finite) = (None, None);
        for &r in rows {
            match self.cells.get(r) {
                Some(Cell::Text(id)) => {
                    n_text += 1;
                    first_text.get_or_insert((r, *id));
                    if let Some(seen) = level_seen.get_mut(*id as usize) {
                        if !*seen {
                            *seen = true;
                            n_levels += 1;
                        }
                    }
                }
                Some(Cell::Number) => n_numbers += 1,
                Some(Cell::Missing) => {
                    n_missing += 1;
                    first_missing.get_or_insert(r);
                }
                Some(Cell::NonFinite) => {
                    n_numbers += 1;
                    n_non_finite += 1;
                    first_non_finite.get_or_insert(r);
                }
                None => {}
            }
        }
        // A text column's only fix is dropping it, which also settles its missing values.
        if let Some((r, id)) = first_text {
            let value = self.pool.get(id as usize).cloned().unwrap_or_default();
            return vec![if n_numbers == 0 {
                Problem::Categorical {
                    column: column(),
                    example: value,
                    n_levels,
                }
            } else {
                Problem::NonNumeric {
                    column: column(),
                    line: line(r),
                    value,
                    n_text,
                }
            }];
        }
        if !rows.is_empty() && n_missing == rows.len() {
            return vec![Problem::AllMissing { column: column() }];
        }
        let mut problems = Vec::new();
        if let Some(r) = first_missing {
            problems.push(Problem::Missing {
                column: column(),
                count: n_missing,
                first_line: line(r),
            });
        }
        if let Some(r) = first_non_finite {
            problems.push(Problem::NonFinite {
                column: column(),
                count: n_non_finite,
                first_line: line(r),
            });
        }
        let stats = FiniteStats::of(rows.iter().filter_map(|&r| self.values.get(r).copied()));
        if rows.len() >= 2 && stats.n > 0 && stats.min == stats.max {
            problems.push(Problem::Constant {
                column: column(),
                value: stats.min,
            });
        }
        problems
    }

    fn is_complete(&self, row: usize) -> bool {
        !matches!(self.cells.get(row), Some(Cell::Missing | Cell::NonFinite))
    }

    fn summary(&self) -> ColumnSummary {
        let stats = FiniteStats::of(self.values.iter().copied());
        let kind = match self.kind {
            ColumnKind::Numeric => "number",
            ColumnKind::Categorical => "text",
            ColumnKind::Mixed => "mixed",
        };
        ColumnSummary {
            name: self.name.clone(),
            kind: kind.to_string(),
            mean: stats.mean,
            sd: stats.sd,
            min: stats.min,
            max: stats.max,
            n_missing: self.n_missing,
        }
    }
}

impl Table {
    pub fn names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name.clone()).collect()
    }

    /// Problems of the raw table, column by column.
    pub fn problems(&self) -> Vec<Problem> {
        self.problems_after(&Prep::default())
    }

    /// The problems that remain once `prep` is applied.
    pub fn problems_after(&self, prep: &Prep) -> Vec<Problem> {
        let kept = self.kept_columns(prep);
        let rows = self.kept_rows(&kept, prep);
        kept.iter()
            .flat_map(|c| c.problems_on(&rows, &self.row_lines))
            .collect()
    }

    /// Applies `prep` and checks the result can be learned from.
    pub fn to_dataset(&self, prep: &Prep) -> Result<Dataset, DataError> {
        let kept = self.kept_columns(prep);
        if kept.len() < 2 {
            return Err(DataError::TooFewColumns { n: kept.len() });
        }
        let rows = self.kept_rows(&kept, prep);
        if rows.len() < MIN_ROWS {
            return Err(DataError::TooFewRows {
                n: rows.len(),
                min: MIN_ROWS,
                dropped: self.n_rows - rows.len(),
            });
        }
        let problems = kept
            .iter()
            .flat_map(|c| c.problems_on(&rows, &self.row_lines));
        if let Some(error) = problems.filter(Problem::blocks).find_map(|p| p.to_error()) {
            return Err(error);
        }
        let names = kept.iter().map(|c| c.name.clone()).collect();
        let columns = kept
            .iter()
            .map(|c| {
                rows.iter()
                    .map(|&r| c.values.get(r).copied().unwrap_or(f64::NAN))
                    .collect()
            })
            .collect();
        let dataset = Dataset::new(names, columns)?;
        if let Some((j, i, value, large)) = dataset.extreme_scale() {
            return Err(DataError::ExtremeScale {
                column: dataset.names[j].clone(),
                line: self.row_lines.get(rows[i]).copied().unwrap_or(0),
                value,
                large,
            });
        }
        Ok(if prep.standardize {
            dataset.standardized()
        } else {
            dataset
        })
    }

    pub fn summaries(&self) -> Vec<ColumnSummary> {
        self.columns.iter().map(TableColumn::summary).collect()
    }

    /// Columns not dropped and not the intervention column; names in `prep` that match no
    /// column are ignored.
    fn kept_columns(&self, prep: &Prep) -> Vec<&TableColumn> {
        self.columns
            .iter()
            .filter(|c| {
                !prep.drop_columns.contains(&c.name)
                    && prep.intervention_column.as_ref() != Some(&c.name)
            })
            .collect()
    }

    /// The intervention labels of the rows [`Table::to_dataset`] keeps, as written in the
    /// file ("" for an empty cell), or `None` when no intervention column is chosen.
    pub fn intervention_labels(&self, prep: &Prep) -> Result<Option<Vec<String>>, DataError> {
        let Some(name) = &prep.intervention_column else {
            return Ok(None);
        };
        let Some(column) = self.columns.iter().find(|c| &c.name == name) else {
            return Err(DataError::UnknownColumn { name: name.clone() });
        };
        let rows = self.kept_rows(&self.kept_columns(prep), prep);
        Ok(Some(
            rows.iter()
                .map(|&r| match column.cells.get(r) {
                    Some(Cell::Text(id)) => column.pool[*id as usize].clone(),
                    Some(Cell::Number) => format!("{}", column.values[r]),
                    _ => String::new(),
                })
                .collect(),
        ))
    }

    /// Rows kept: all, or (when asked) those without missing or infinite values in kept columns.
    fn kept_rows(&self, kept: &[&TableColumn], prep: &Prep) -> Vec<usize> {
        (0..self.n_rows)
            .filter(|&r| !prep.drop_incomplete_rows || kept.iter().all(|c| c.is_complete(r)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CSV with a header `a,b,c` and `n` rows of distinct numbers.
    fn numeric_csv(n: usize) -> String {
        let mut s = String::from("a,b,c\n");
        for i in 0..n {
            s += &format!("{},{},{}\n", i, i * i, 2 * i + 1);
        }
        s
    }

    fn read(s: &str) -> Result<Table, CsvError> {
        read_csv(s.as_bytes())
    }

    fn col<'a>(t: &'a Table, name: &str) -> &'a TableColumn {
        t.columns.iter().find(|c| c.name == name).unwrap()
    }

    // ---- bad inputs ----

    #[test]
    fn empty_file() {
        let err = read_csv(b"").unwrap_err();
        assert_eq!(err, CsvError::Empty);
        assert!(!err.hint().is_empty() && !err.title().is_empty());
    }

    #[test]
    fn whitespace_only() {
        assert_eq!(read("  \n\r\n\t\n   \n").unwrap_err(), CsvError::Empty);
    }

    #[test]
    fn header_only() {
        let err = read("a,b\n").unwrap_err();
        assert_eq!(
            err,
            CsvError::HeaderOnly {
                line: 1,
                columns: 2
            }
        );
        assert!(err.to_string().contains("no data rows"));
    }

    #[test]
    fn xlsx_magic() {
        let err = read_csv(b"PK\x03\x04\x14\x00\x06\x00rest").unwrap_err();
        assert_eq!(
            err,
            CsvError::NotText {
                kind: FileKind::Zip
            }
        );
        assert!(err.to_string().contains("Excel workbook (.xlsx)"));
        assert!(err.hint().contains("File → Save As → CSV UTF-8"));
    }

    #[test]
    fn xls_and_pdf_magic() {
        let xls = read_csv(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1").unwrap_err();
        assert!(xls.to_string().contains(".xls"));
        let pdf = read_csv(b"%PDF-1.7\n").unwrap_err();
        assert!(pdf.to_string().contains("PDF"));
    }

    #[test]
    fn png_magic() {
        let err = read_csv(b"\x89PNG\r\n\x1a\n\x00\x00").unwrap_err();
        assert_eq!(
            err,
            CsvError::NotText {
                kind: FileKind::Png
            }
        );
        assert!(err.to_string().contains("PNG image"));
    }

    #[test]
    fn nul_byte_is_binary() {
        let err = read_csv(b"a,b\n1,2\x00\n").unwrap_err();
        assert_eq!(
            err,
            CsvError::NotText {
                kind: FileKind::Binary
            }
        );
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let mut bytes = numeric_csv(12).into_bytes();
        bytes.extend_from_slice(b"M\xfcller,1,2\n");
        let err = read_csv(&bytes).unwrap_err();
        assert_eq!(err, CsvError::InvalidUtf8 { line: 14 });
        assert!(err.to_string().contains("line 14"));
        assert!(err.hint().contains("CSV UTF-8"));
    }

    #[test]
    fn single_column() {
        let s: String = std::iter::once("x\n".to_string())
            .chain((0..20).map(|i| format!("{i}\n")))
            .collect();
        let err = read(&s).unwrap_err();
        assert!(matches!(err, CsvError::SingleColumn { .. }));
        assert!(
            err.to_string().contains("comma, semicolon and tab"),
            "{err}"
        );
    }

    #[test]
    fn ragged_row_names_its_line() {
        let mut s = numeric_csv(12);
        s.insert_str(s.find("3,9,7\n").unwrap(), "4,5\n");
        let err = read(&s).unwrap_err();
        assert_eq!(
            err,
            CsvError::Ragged {
                line: 5,
                expected: 3,
                found: 2,
                first_line: 1
            }
        );
        assert!(err.to_string().contains("line 5 has 2 fields"), "{err}");
        assert!(err.hint().contains("line 5"));
    }

    #[test]
    fn ragged_row_after_multiline_quoted_field() {
        let s = "name,b,c\n\"two\nlines\",1,2\n3,4,5\n6,7\n".to_string() + &"1,2,3\n".repeat(10);
        let err = read(&s).unwrap_err();
        assert_eq!(
            err,
            CsvError::Ragged {
                line: 5,
                expected: 3,
                found: 2,
                first_line: 1
            }
        );
    }

    #[test]
    fn ragged_row_line_counts_crlf_and_blank_lines() {
        let mut s = numeric_csv(12);
        s.insert_str(s.find("3,9,7\n").unwrap(), "\n\n4,5\n");
        let err = read(&s.replace('\n', "\r\n")).unwrap_err();
        assert!(matches!(err, CsvError::Ragged { line: 7, .. }), "{err:?}");
        // Old Mac line ends (a lone CR) count as line breaks too.
        let err = read(&s.replace('\n', "\r")).unwrap_err();
        assert!(matches!(err, CsvError::Ragged { line: 7, .. }), "{err:?}");
    }

    #[test]
    fn duplicate_names() {
        let s = numeric_csv(12).replacen("a,b,c", "a,b,a", 1);
        let err = read(&s).unwrap_err();
        assert_eq!(
            err,
            CsvError::DuplicateName {
                name: "a".into(),
                first: 1,
                second: 3
            }
        );
        assert!(err.to_string().contains("column 1 and column 3"));
    }

    #[test]
    fn too_few_rows() {
        let err = read(&numeric_csv(9)).unwrap_err();
        assert_eq!(err, CsvError::TooFewRows { n: 9 });
        assert!(err.to_string().contains("only 9 data rows"));
        assert!(read(&numeric_csv(MIN_ROWS)).is_ok());
    }

    #[test]
    fn too_large() {
        assert!(check_size(MAX_FILE_BYTES).is_ok());
        let err = check_size(60 * 1024 * 1024).unwrap_err();
        assert!(err.to_string().contains("60.0 MB"), "{err}");
        assert!(err.hint().contains("Sample rows"));
    }

    // ---- good inputs ----

    #[test]
    fn header_detected() {
        let t = read(&numeric_csv(12)).unwrap();
        assert!(t.had_header);
        assert_eq!(t.names(), vec!["a", "b", "c"]);
        assert_eq!(t.n_rows, 12);
        assert_eq!(t.row_lines[0], 2);
        assert_eq!(t.preview_rows.len(), 10);
        assert_eq!(t.preview_rows[1], vec!["1", "1", "3"]);
        assert_eq!(col(&t, "b").values[3], 9.0);
        assert!(t.problems().is_empty());
    }

    #[test]
    fn no_header_names_x1_to_xd() {
        let s = numeric_csv(12).replacen("a,b,c\n", "", 1);
        let t = read(&s).unwrap();
        assert!(!t.had_header);
        assert_eq!(t.names(), vec!["X1", "X2", "X3"]);
        assert_eq!(t.n_rows, 12);
        assert_eq!(t.row_lines[0], 1);
    }

    #[test]
    fn each_delimiter() {
        for (delimiter, sep) in [(b',', ","), (b';', ";"), (b'\t', "\t")] {
            let t = read(&numeric_csv(12).replace(',', sep)).unwrap();
            assert_eq!(t.delimiter, delimiter);
            assert_eq!(t.columns.len(), 3);
            assert!(t.problems().is_empty());
        }
    }

    #[test]
    fn semicolon_file_with_decimal_commas() {
        let mut s = String::from("x;y\n");
        for i in 0..12 {
            s += &format!("{i},5;{i}\n");
        }
        let t = read(&s).unwrap();
        assert_eq!(t.delimiter, b';');
        assert_eq!(col(&t, "x").values[2], 2.5);
        assert!(t.problems().is_empty());
    }

    #[test]
    fn quoted_field_with_embedded_delimiter() {
        let s = "\"a,1\",b\n".to_string() + &"\"1,5\",2\n".replace("\"1,5\"", "\"3\"").repeat(12);
        let t = read(&s).unwrap();
        assert_eq!(t.names(), vec!["a,1", "b"]);
        assert_eq!(col(&t, "a,1").values[0], 3.0);
    }

    #[test]
    fn bom_crlf_and_blank_lines() {
        let s = numeric_csv(12)
            .replace('\n', "\r\n")
            .replacen("3,9,7", "\r\n   \r\n3,9,7", 1);
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(s.as_bytes());
        let t = read_csv(&bytes).unwrap();
        assert_eq!(t.names(), vec!["a", "b", "c"]);
        assert_eq!(t.n_rows, 12);
        // Rows 0..=2 are on lines 2..=4; two blank lines push row 3 to line 7.
        assert_eq!(&t.row_lines[..5], &[2, 3, 4, 7, 8]);
        assert_eq!(col(&t, "c").values[11], 23.0);
    }

    #[test]
    fn trailing_delimiter_is_not_a_column() {
        let t = read(&numeric_csv(12).replace('\n', ",\n")).unwrap();
        assert_eq!(t.names(), vec!["a", "b", "c"]);
        assert!(t.problems().is_empty());
        // Also when only the data lines end with one.
        let s = numeric_csv(12)
            .replace('\n', ",\n")
            .replacen("a,b,c,", "a,b,c", 1);
        assert_eq!(read(&s).unwrap().columns.len(), 3);
    }

    #[test]
    fn missing_tokens_are_counted_with_first_line() {
        let mut s = numeric_csv(15);
        for (i, token) in ["NA", "", "N/A", "NaN", "nan", "null", "NULL", "?", "."]
            .iter()
            .enumerate()
        {
            let row = format!("{},{},{}\n", i + 3, (i + 3) * (i + 3), 2 * (i + 3) + 1);
            s = s.replacen(
                &row,
                &format!("{},{}, {token} \n", i + 3, (i + 3) * (i + 3)),
                1,
            );
        }
        let t = read(&s).unwrap();
        let c = col(&t, "c");
        assert_eq!(c.n_missing, 9);
        assert_eq!(c.first_missing_line, Some(5));
        assert_eq!(c.kind, ColumnKind::Numeric);
        assert_eq!(
            t.problems(),
            vec![Problem::Missing {
                column: "c".into(),
                count: 9,
                first_line: 5
            }]
        );
        assert_eq!(t.problems()[0].fix(), Some(Fix::DropIncompleteRows));
        assert!(t.problems()[0].blocks());
        assert_eq!(t.summaries()[2].n_missing, 9);
    }

    #[test]
    fn infinities_are_counted_separately() {
        let s = numeric_csv(12).replacen("4,16,9", "4,inf,9", 1).replacen(
            "6,36,13",
            "6,-Infinity,13",
            1,
        );
        let t = read(&s).unwrap();
        let b = col(&t, "b");
        assert_eq!((b.n_non_finite, b.n_missing), (2, 0));
        assert_eq!(b.first_non_finite_line, Some(6));
        assert_eq!(b.values[4], f64::INFINITY);
        assert_eq!(
            t.problems(),
            vec![Problem::NonFinite {
                column: "b".into(),
                count: 2,
                first_line: 6
            }]
        );
        assert!(t.summaries()[1].max.is_finite());
    }

    #[test]
    fn mixed_column_names_first_bad_line_and_value() {
        let s = numeric_csv(20)
            .replacen("7,49,15", "7,n/a-ish,15", 1)
            .replacen("9,81,19", "9,x,19", 1);
        let t = read(&s).unwrap();
        let b = col(&t, "b");
        assert_eq!(b.kind, ColumnKind::Mixed);
        assert_eq!(b.first_text, Some((9, "n/a-ish".to_string())));
        let p = t.problems();
        assert_eq!(
            p,
            vec![Problem::NonNumeric {
                column: "b".into(),
                line: 9,
                value: "n/a-ish".into(),
                n_text: 2
            }]
        );
        assert_eq!(p[0].fix(), Some(Fix::DropColumn("b".into())));
        assert!(p[0].message().contains("line 9"));
        let err = t.to_dataset(&Prep::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "column \"b\", line 9: expected a number, found \"n/a-ish\". \
             Drop the column, or fix the value and drop the file again."
        );
        assert_eq!(err.title(), "Not a number");
        assert_eq!(t.summaries()[1].kind, "mixed");
    }

    #[test]
    fn categorical_column() {
        let mut s = String::from("sex,height,weight\n");
        for i in 0..12 {
            s += &format!("{},{},{}\n", ["m", "f", "x"][i % 3], 150 + i, 50 + 2 * i);
        }
        let t = read(&s).unwrap();
        let sex = col(&t, "sex");
        assert_eq!(sex.kind, ColumnKind::Categorical);
        assert_eq!(sex.levels, vec!["m", "f", "x"]);
        assert_eq!(
            t.problems(),
            vec![Problem::Categorical {
                column: "sex".into(),
                example: "m".into(),
                n_levels: 3
            }]
        );
        assert_eq!(t.summaries()[0].kind, "text");
        let prep = Prep {
            drop_columns: vec!["sex".into()],
            ..Prep::default()
        };
        assert!(t.problems_after(&prep).is_empty());
        assert_eq!(t.to_dataset(&prep).unwrap().names, vec!["height", "weight"]);
    }

    #[test]
    fn drop_column_and_incomplete_rows_give_the_right_dataset() {
        let mut s = String::from("a,b,c,label\n");
        for i in 0..14 {
            let b = if i == 2 || i == 5 {
                "NA".to_string()
            } else {
                format!("{}", 10 * i)
            };
            let c = if i == 7 {
                "inf".to_string()
            } else {
                format!("{}", i % 4)
            };
            s += &format!("{i},{b},{c},t{i}\n");
        }
        let t = read(&s).unwrap();
        assert_eq!(t.problems().iter().filter(|p| p.blocks()).count(), 3);
        let prep = Prep {
            drop_columns: vec!["label".into()],
            drop_incomplete_rows: true,
            standardize: false,
            intervention_column: None,
        };
        assert!(t.problems_after(&prep).is_empty());
        let d = t.to_dataset(&prep).unwrap();
        assert_eq!(d.names, vec!["a", "b", "c"]);
        assert_eq!(d.n_rows(), 11);
        let kept: Vec<f64> = (0..14)
            .filter(|i| ![2, 5, 7].contains(i))
            .map(|i| i as f64)
            .collect();
        assert_eq!(d.columns[0], kept);
        assert_eq!(
            d.columns[1],
            kept.iter().map(|x| 10.0 * x).collect::<Vec<_>>()
        );
        // Without dropping rows the missing values block learning.
        let only_drop = Prep {
            drop_columns: vec!["label".into()],
            ..Prep::default()
        };
        assert!(matches!(
            t.to_dataset(&only_drop),
            Err(DataError::Missing {
                line: 4,
                count: 2,
                ..
            })
        ));
    }

    #[test]
    fn too_few_rows_after_dropping_names_the_counts() {
        let mut s = String::from("a,b\n");
        for i in 0..12 {
            s += &format!(
                "{i},{}\n",
                if i % 2 == 0 {
                    "NA".to_string()
                } else {
                    i.to_string()
                }
            );
        }
        let t = read(&s).unwrap();
        let err = t
            .to_dataset(&Prep {
                drop_incomplete_rows: true,
                ..Prep::default()
            })
            .unwrap_err();
        assert_eq!(
            err,
            DataError::TooFewRows {
                n: 6,
                min: MIN_ROWS,
                dropped: 6
            }
        );
        let one = Prep {
            drop_columns: vec!["a".into()],
            ..Prep::default()
        };
        assert_eq!(t.to_dataset(&one), Err(DataError::TooFewColumns { n: 1 }));
    }

    #[test]
    fn standardize_gives_mean_zero_sd_one() {
        let t = read(&numeric_csv(30)).unwrap();
        let d = t
            .to_dataset(&Prep {
                standardize: true,
                ..Prep::default()
            })
            .unwrap();
        for s in d.column_summaries() {
            assert!(s.mean.abs() < 1e-12, "{s:?}");
            assert!((s.sd - 1.0).abs() < 1e-12, "{s:?}");
        }
    }

    #[test]
    fn values_too_large_to_square_are_named_by_column_and_line() {
        // Data row 5 is line 6 (after the header); "b" holds i², here replaced by 1e200.
        let s = numeric_csv(30).replacen("4,16,9", "4,1e200,9", 1);
        let t = read(&s).unwrap();
        for standardize in [false, true] {
            let err = t
                .to_dataset(&Prep {
                    standardize,
                    ..Prep::default()
                })
                .unwrap_err();
            assert_eq!(
                err,
                DataError::ExtremeScale {
                    column: "b".into(),
                    line: 6,
                    value: 1e200,
                    large: true
                }
            );
            assert!(err
                .to_string()
                .starts_with("column \"b\" holds 1.000e200 (line 6)"));
            assert!(err.hint().contains("Rescale the column \"b\""));
        }
    }

    #[test]
    fn constant_column_is_a_warning() {
        let s = numeric_csv(12)
            .replace("\n", ",7\n")
            .replacen("a,b,c,7", "a,b,c,k", 1);
        let t = read(&s).unwrap();
        let p = t.problems();
        assert_eq!(
            p,
            vec![Problem::Constant {
                column: "k".into(),
                value: 7.0
            }]
        );
        assert!(!p[0].blocks());
        assert!(t.to_dataset(&Prep::default()).is_ok());
    }

    #[test]
    fn all_missing_column_offers_dropping_it() {
        let s = numeric_csv(12)
            .replace("\n", ",NA\n")
            .replacen("a,b,c,NA", "a,b,c,empty", 1);
        let t = read(&s).unwrap();
        let p = t.problems();
        assert_eq!(
            p,
            vec![Problem::AllMissing {
                column: "empty".into()
            }]
        );
        assert_eq!(p[0].fix(), Some(Fix::DropColumn("empty".into())));
    }

    mod no_panic {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(300))]

            #[test]
            fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
                let _ = read_csv(&bytes);
            }

            /// CSV-like text from a small alphabet reaches the deeper code paths.
            #[test]
            fn csv_like_text_never_panics(
                text in "[a-c0-9.,;\t\"\r\n NA?-]{0,300}",
                drop_rows: bool,
                standardize: bool,
            ) {
                if let Ok(table) = read_csv(text.as_bytes()) {
                    let prep = Prep {
                        drop_columns: table.names().into_iter().take(1).collect(),
                        drop_incomplete_rows: drop_rows,
                        standardize,
                        intervention_column: table.names().into_iter().nth(1),
                    };
                    let _ = table.intervention_labels(&prep);
                    let _ = (table.problems(), table.problems_after(&prep), table.summaries());
                    let _ = table.to_dataset(&prep);
                    let _ = table.to_dataset(&Prep::default());
                }
            }
        }
    }

    #[test]
    fn the_intervention_column_is_read_as_labels_not_data() {
        let csv =
            b"a,b,target\n1,2,\n2,3,a\n3,5,obs\n4,1,a+b\n5,2,\n6,7,b\n7,1,\n8,2,\n9,4,\n10,3,\n";
        let table = read_csv(csv).unwrap();
        let prep = Prep {
            intervention_column: Some("target".into()),
            ..Prep::default()
        };
        assert!(table.problems_after(&prep).is_empty());
        let dataset = table.to_dataset(&prep).unwrap();
        assert_eq!(dataset.names, vec!["a", "b"]);
        let labels = table.intervention_labels(&prep).unwrap().unwrap();
        assert_eq!(labels[..4], ["", "a", "obs", "a+b"]);
        assert_eq!(labels.len(), 10);
        let missing = Prep {
            intervention_column: Some("nope".into()),
            ..Prep::default()
        };
        assert!(matches!(
            table.intervention_labels(&missing),
            Err(DataError::UnknownColumn { .. })
        ));
        assert_eq!(table.intervention_labels(&Prep::default()).unwrap(), None);
    }
}
