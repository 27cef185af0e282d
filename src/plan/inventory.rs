//! The share inventory: how many files, directories and bytes each folder holds, down to a depth.
//!
//! FSx reports no file counts, yet DataSync counts at most 25 million source plus destination files and
//! directories per execution, and listing them is what floors the final sync. `scripts/inventory.ps1` (or
//! `fsx-migrate sim inventory`) walks the share and writes this CSV; [`parse`] reads it strictly, because the
//! partition into lanes ([`super::partition`]) is only as right as these numbers:
//!
//! ```text
//! path,depth,files,directories,bytes
//! /,0,30000000,1500000,16492674416640
//! /Projects,1,1200000,34000,5368709120
//! /Projects/A,2,400000,9000,1073741824
//! ```
//!
//! The header's first five columns are exactly these (later columns, e.g. `errors`, are ignored). `path` is
//! relative to the share root (the DataSync location's subdirectory), `/`-separated, starting with `/`; the
//! `/` row (depth 0) holds the totals of the whole share; every other row the totals of its subtree (files,
//! directories under it not counting itself, bytes of files). There is a row for every folder down to the
//! inventory's depth. Fields are quoted as RFC 4180 says; the text is UTF-8, with or without a BOM.

use std::collections::{BTreeMap, HashMap};

/// The columns every inventory starts with, in this order.
pub const HEADER: [&str; 5] = ["path", "depth", "files", "directories", "bytes"];

/// One folder's subtree totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// `/` for the share root, otherwise `/A/B`.
    pub path: String,
    pub depth: u32,
    /// Files anywhere under the folder.
    pub files: u64,
    /// Directories anywhere under the folder, not counting the folder itself.
    pub directories: u64,
    /// Bytes of the files under the folder.
    pub bytes: u64,
}

impl Row {
    /// What one DataSync listing of this folder counts on one side: its files, its directories and itself.
    pub fn entries(&self) -> u64 {
        self.files + self.directories + 1
    }
}

/// A parsed, consistent inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    /// Rows by path (so children follow their parent, in byte order).
    rows: BTreeMap<String, Row>,
    /// The paths of each folder's rows one level down.
    children: HashMap<String, Vec<String>>,
    depth: u32,
}

impl Inventory {
    /// The share root's row.
    pub fn root(&self) -> &Row {
        &self.rows["/"]
    }

    /// The deepest row's depth: folders at this depth have no rows below them.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    pub fn row(&self, path: &str) -> Option<&Row> {
        self.rows.get(path)
    }

    /// The rows one level below `path`, in byte order of their paths.
    pub fn children(&self, path: &str) -> impl Iterator<Item = &Row> {
        self.children
            .get(path)
            .into_iter()
            .flatten()
            .map(|child| &self.rows[child])
    }

    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.rows.values()
    }
}

/// What is wrong with an inventory, and on which line of the file (1 = the header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for InventoryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

fn error(line: usize, message: String) -> InventoryError {
    InventoryError { line, message }
}

/// Reads an inventory file's bytes: UTF-8 with or without a BOM. UTF-16 (what PowerShell's `Out-File` writes
/// by default) is refused with a way out.
pub fn parse_bytes(bytes: &[u8]) -> Result<Inventory, InventoryError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(error(
            1,
            "the file is UTF-16; save it as UTF-8 (scripts/inventory.ps1 writes UTF-8)".into(),
        ));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count();
        error(line, "not UTF-8 text; save the inventory as UTF-8".into())
    })?;
    parse(text)
}

/// Parses and checks an inventory: the header, every row's fields, unique paths, depths matching the paths,
/// the root row, a row for every parent, and children that add up to no more than their parent.
pub fn parse(text: &str) -> Result<Inventory, InventoryError> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut records = records(text);
    let header = match records.next() {
        None => {
            return Err(error(
                1,
                "the file is empty; expected the header path,depth,files,directories,bytes".into(),
            ));
        }
        Some(record) => record?,
    };
    if header.fields.len() < HEADER.len() || header.fields[..HEADER.len()] != HEADER {
        return Err(error(
            1,
            format!(
                "the header starts {:?}; expected the columns {} first",
                header.fields.join(","),
                HEADER.join(",")
            ),
        ));
    }
    let columns = header.fields.len();
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let mut lines: HashMap<String, usize> = HashMap::new();
    for record in records {
        let Record { line, fields } = record?;
        if fields.len() != columns {
            return Err(error(
                line,
                format!("{} fields; the header has {columns}", fields.len()),
            ));
        }
        let row = row(line, &fields)?;
        if let Some(first) = lines.insert(row.path.clone(), line) {
            return Err(error(line, format!("{:?} is already on line {first}", row.path)));
        }
        rows.insert(row.path.clone(), row);
    }
    if !rows.contains_key("/") {
        return Err(error(
            1,
            "no row for the share root \"/\" (depth 0, the totals of the whole share)".into(),
        ));
    }
    let depth = rows.values().map(|r| r.depth).max().unwrap_or(0);
    let mut children: HashMap<String, Vec<String>> = HashMap::new();
    for row in rows.values().filter(|r| r.path != "/") {
        let parent = parent(&row.path);
        if !rows.contains_key(parent) {
            return Err(error(
                lines[&row.path],
                format!("no row for {parent:?}, the folder holding {:?}", row.path),
            ));
        }
        children
            .entry(parent.to_string())
            .or_default()
            .push(row.path.clone());
    }
    for parent in rows.values() {
        let kids: Vec<&Row> = children
            .get(&parent.path)
            .into_iter()
            .flatten()
            .map(|p| &rows[p])
            .collect();
        check_children(
            parent,
            &kids,
            depth,
            lines.get(&parent.path).copied().unwrap_or(1),
        )?;
    }
    Ok(Inventory {
        rows,
        children,
        depth,
    })
}

/// A folder's children add up to no more than the folder; above the inventory's depth every subfolder has its
/// row, so their directories (plus themselves) add up to exactly the folder's.
fn check_children(parent: &Row, kids: &[&Row], depth: u32, line: usize) -> Result<(), InventoryError> {
    let sum = |of: fn(&Row) -> u64| kids.iter().fold(0u64, |total, k| total.saturating_add(of(k)));
    let files = sum(|k| k.files);
    let directories = sum(|k| k.directories + 1);
    let bytes = sum(|k| k.bytes);
    let name = &parent.path;
    let over = |what: &str, sum: u64, own: u64| {
        error(
            line,
            format!("the folders under {name:?} hold {sum} {what}, more than its own {own}"),
        )
    };
    if files > parent.files {
        return Err(over("files", files, parent.files));
    }
    if directories > parent.directories {
        return Err(over(
            "directories (counting themselves)",
            directories,
            parent.directories,
        ));
    }
    if bytes > parent.bytes {
        return Err(over("bytes", bytes, parent.bytes));
    }
    if parent.depth < depth && directories != parent.directories {
        return Err(error(
            line,
            format!(
                "{name:?} holds {} directories but the rows below it account for {directories}: rows are \
                 missing (a truncated file?)",
                parent.directories
            ),
        ));
    }
    Ok(())
}

/// `/A` for `/A/B`, `/` for `/A`.
fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

fn row(line: usize, fields: &[String]) -> Result<Row, InventoryError> {
    let path = fields[0].clone();
    let depth = number(line, "depth", &fields[1])?;
    let expected = check_path(&path).map_err(|e| error(line, e))?;
    let depth = u32::try_from(depth)
        .ok()
        .filter(|d| *d == expected)
        .ok_or_else(|| {
            error(
                line,
                format!("depth {depth} does not match {path:?}, which is at depth {expected}"),
            )
        })?;
    let count = |column: &str, text: &str| {
        let n = number(line, column, text)?;
        if n > MAX_COUNT {
            return Err(error(
                line,
                format!("{column} {n} is implausible: more than {MAX_COUNT}"),
            ));
        }
        Ok(n)
    };
    Ok(Row {
        path,
        depth,
        files: count("files", &fields[2])?,
        directories: count("directories", &fields[3])?,
        bytes: number(line, "bytes", &fields[4])?,
    })
}

/// More files or directories than any share holds (FSx for Windows tops out at 64 TiB): a garbled row.
const MAX_COUNT: u64 = 1_000_000_000_000;

/// The depth of a well-formed path: `/` or `/`-separated names, none empty.
fn check_path(path: &str) -> Result<u32, String> {
    if path == "/" {
        return Ok(0);
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err(format!("path {path:?} does not start with /"));
    };
    if path.contains('\\') {
        return Err(format!("path {path:?} contains \\: separate folders with /"));
    }
    if let Some(c) = path.chars().find(|c| c.is_control()) {
        return Err(format!("path {path:?} contains the control character {c:?}"));
    }
    let names: Vec<&str> = rest.split('/').collect();
    if names.iter().any(|n| n.is_empty() || *n == "." || *n == "..") {
        return Err(format!(
            "path {path:?} has an empty, \".\" or \"..\" folder name (or ends with /)"
        ));
    }
    Ok(names.len() as u32)
}

fn number(line: usize, column: &str, text: &str) -> Result<u64, InventoryError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(error(line, format!("{column} is {text:?}, not a whole number")));
    }
    text.parse()
        .map_err(|_| error(line, format!("{column} {text} is too large")))
}

/// One CSV record and the line it starts on.
struct Record {
    line: usize,
    fields: Vec<String>,
}

/// The records of an RFC 4180 text: `,` between fields, CRLF or LF between records, `"` around fields that
/// hold commas, quotes (doubled) or line breaks. Blank lines are skipped.
fn records(text: &str) -> impl Iterator<Item = Result<Record, InventoryError>> + '_ {
    let mut chars = text.chars().peekable();
    let mut line = 1;
    std::iter::from_fn(move || {
        // Skip blank lines between records.
        while let Some(&c) = chars.peek() {
            match c {
                '\n' => line += 1,
                '\r' => {}
                _ => break,
            }
            chars.next();
        }
        chars.peek()?;
        let start = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut was_quoted = false;
        loop {
            let Some(c) = chars.next() else {
                if quoted {
                    return Some(Err(error(start, "a quoted field is never closed".into())));
                }
                fields.push(field);
                return Some(Ok(Record { line: start, fields }));
            };
            if c == '\n' {
                line += 1;
            }
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                (true, '"') => quoted = false,
                (true, c) => field.push(c),
                (false, '"') if field.is_empty() && !was_quoted => {
                    quoted = true;
                    was_quoted = true;
                }
                (false, '"') => {
                    return Some(Err(error(
                        line,
                        "a quote inside an unquoted field (quote the whole field and double the quote)"
                            .into(),
                    )));
                }
                (false, ',') => {
                    fields.push(std::mem::take(&mut field));
                    was_quoted = false;
                }
                (false, '\r') if chars.peek() == Some(&'\n') => {}
                (false, '\n') => {
                    fields.push(field);
                    return Some(Ok(Record { line: start, fields }));
                }
                (false, c) if was_quoted => {
                    return Some(Err(error(
                        line,
                        format!("{c:?} after the closing quote of a field"),
                    )));
                }
                (false, c) => field.push(c),
            }
        }
    })
}
