//! The inventory CSV: what scripts/inventory.ps1 writes and `plan --inventory` reads, refused line by line.

use fsx_migrate::plan::inventory::{HEADER, parse, parse_bytes};

use crate::support::*;

const GOOD: &str = "path,depth,files,directories,bytes\n\
                    /,0,110,4,9000\n\
                    /Projects,1,100,2,8000\n\
                    /Projects/A,2,60,0,5000\n\
                    /Projects/B,2,30,0,2000\n\
                    /Home,1,0,0,0\n";

#[test]
fn a_consistent_inventory_parses_with_its_totals_and_tree() {
    let inv = parse(GOOD).expect("valid");
    assert_eq!(inv.root().files, 110);
    assert_eq!(inv.root().entries(), 115);
    assert_eq!(inv.depth(), 2);
    let top: Vec<&str> = inv.children("/").map(|r| r.path.as_str()).collect();
    assert_eq!(top, ["/Home", "/Projects"]);
    let under: Vec<&str> = inv.children("/Projects").map(|r| r.path.as_str()).collect();
    assert_eq!(under, ["/Projects/A", "/Projects/B"]);
    assert_eq!(inv.row("/Projects/A").unwrap().bytes, 5000);
    assert_eq!(inv.rows().count(), 5);
}

#[test]
fn a_bom_crlf_extra_columns_and_quoted_names_are_read() {
    let text = "\u{FEFF}path,depth,files,directories,bytes,errors\r\n\
                /,0,3,3,30,1\r\n\
                \"/a,b\",1,1,0,10,0\r\n\
                \"/say \"\"hi\"\"\",1,1,0,10,0\r\n\
                \"/two\nlines\",1,0,0,0,1\r\n";
    // A name with a line break cannot be in an include filter; the parser refuses control characters.
    let err = parse(text).unwrap_err();
    assert_eq!(err.line, 5, "{err}");
    assert!(err.message.contains("control character"), "{err}");
    let text = text.replace("\"/two\nlines\",1,0,0,0,1\r\n", "/Zed,1,0,0,0,1\r\n");
    let inv = parse_bytes(text.as_bytes()).expect("valid");
    assert!(inv.row("/a,b").is_some());
    assert!(inv.row("/say \"hi\"").is_some());
    assert_eq!(inv.children("/").count(), 3);
}

#[test]
fn what_the_test_helper_writes_is_what_the_parser_reads() {
    let share = Folder::new(
        "",
        5,
        vec![
            Folder::new("Pro,jects", 10, vec![Folder::new("A \"x\"", 3, vec![])]),
            Folder::new(
                "Ünïcode",
                2,
                vec![Folder::new("deep", 1, vec![Folder::new("deeper", 1, vec![])])],
            ),
        ],
    );
    for depth in 1..=3 {
        let inv = parse(&inventory_csv(&share, depth)).expect("valid");
        assert_eq!(inv.root().files, 22);
        assert_eq!(inv.root().directories, 5);
        assert_eq!(inv.depth(), depth);
    }
}

#[track_caller]
fn refused(text: &str, line: usize, needle: &str) {
    let err = parse(text).expect_err("refused");
    assert_eq!(err.line, line, "{err}");
    assert!(err.to_string().contains(needle), "{needle:?} not in {err}");
}

#[test]
fn every_inconsistency_is_refused_with_its_line() {
    refused("", 1, "empty");
    refused(
        "path,depth,files,dirs,bytes\n/,0,0,0,0\n",
        1,
        "expected the columns",
    );
    refused("depth,path,files,directories,bytes\n", 1, "expected the columns");
    refused(
        "path,depth,files,directories,bytes\n/A,1,0,0,0\n",
        1,
        "no row for the share root",
    );
    refused(&GOOD.replace("/Home,1", "/Projects,1"), 6, "already on line 3");
    refused(&GOOD.replace("/Home,1", "/Home,2"), 6, "depth 2 does not match");
    refused(&GOOD.replace("/Home,1", "Home,1"), 6, "does not start with /");
    refused(&GOOD.replace("/Home,1", "/Home/,1"), 6, "ends with /");
    refused(&GOOD.replace("/Home,1", "\\Home,1"), 6, "does not start with /");
    refused(&GOOD.replace("/Home,1,0", "/Home,1,-1"), 6, "not a whole number");
    refused(
        &GOOD.replace("/Home,1,0,0,0", "/Home,1,0,0,1e3"),
        6,
        "not a whole number",
    );
    refused(
        &GOOD.replace("/Home,1,0,0,0", "/Home,1,0,0,99999999999999999999999"),
        6,
        "too large",
    );
    refused(&GOOD.replace("/Home,1,0,0,0", "/Home,1,0,0"), 6, "4 fields");
    refused(
        &GOOD.replace("/Home,1,0,0,0", "/Home,1,18446744073709551615,0,0"),
        6,
        "implausible",
    );
    refused(
        &GOOD.replace("/Home,1,0,0,0", "/Home,1,0,0,18446744073709551615"),
        2,
        "more than its own 9000",
    );
    refused(
        &GOOD.replace("/Home,1,0,0,0", "\"/Home,1,0,0,0"),
        6,
        "never closed",
    );
    refused(
        &GOOD.replace("/Home,1,0,0,0", "/Ho\"me,1,0,0,0"),
        6,
        "quote inside an unquoted field",
    );
    refused(
        &GOOD.replace("/Projects/B,2", "/Other/B,2"),
        5,
        "no row for \"/Other\"",
    );
    // Children above their parent.
    refused(
        &GOOD.replace("/Projects/A,2,60", "/Projects/A,2,90"),
        3,
        "hold 120 files, more than its own 100",
    );
    refused(
        &GOOD.replace("/Projects/A,2,60,0,5000", "/Projects/A,2,60,0,7000"),
        3,
        "bytes",
    );
    refused(
        &GOOD.replace("/Projects/A,2,60,0", "/Projects/A,2,60,1"),
        3,
        "directories",
    );
    // A folder above the deepest rows must have all its subfolders' rows.
    refused(&GOOD.replace("/,0,110,4", "/,0,110,5"), 2, "rows are missing");
}

#[test]
fn utf16_and_invalid_utf8_are_refused_with_a_way_out() {
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(GOOD.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let err = parse_bytes(&utf16).unwrap_err();
    assert!(err.message.contains("UTF-16"), "{err}");
    let mut bad = GOOD.as_bytes().to_vec();
    bad.extend_from_slice(b"/\xFF,1,0,0,0\n");
    let err = parse_bytes(&bad).unwrap_err();
    assert_eq!(err.line, 7, "{err}");
    assert!(err.message.contains("UTF-8"), "{err}");
}

// ---- scripts/inventory.ps1 (no PowerShell here: its text is checked against the parser's expectations) ----

fn script() -> String {
    std::fs::read_to_string("scripts/inventory.ps1").expect("scripts/inventory.ps1")
}

#[test]
fn the_script_writes_the_header_the_parser_expects() {
    let script = script();
    let header = script
        .lines()
        .find_map(|l| l.trim().strip_prefix("$Header = '"))
        .and_then(|rest| rest.strip_suffix('\''))
        .expect("$Header = '…' in the script");
    let columns: Vec<&str> = header.split(',').collect();
    assert_eq!(columns[..HEADER.len()], HEADER);
    // Its help shows the same header over an example.
    let example: String = script
        .lines()
        .skip_while(|l| l.trim() != header)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| format!("{}\n", l.trim()))
        .collect();
    assert!(example.lines().count() == 4, "{example}");
    assert!(example.starts_with(header));
    // UTF-8 without a BOM, one row per line.
    assert!(script.contains("New-Object System.Text.UTF8Encoding($false)"));
    assert!(script.contains("$writer.WriteLine($Header)"));
}

#[test]
fn the_script_takes_the_parameters_its_help_and_the_runbook_use() {
    let script = script();
    let param = &script[script.find("param(").expect("a param block")..];
    let param = &param[..param.find("\n)").expect("the param block ends")];
    for name in ["Path", "Depth", "OutFile"] {
        assert!(param.contains(&format!("${name}")), "param {name}");
        assert!(script.contains(&format!(".PARAMETER {name}")), "help for {name}");
    }
    assert!(param.contains("[int] $Depth = 2"), "-Depth defaults to 2");
    let example = script
        .lines()
        .skip_while(|l| !l.starts_with(".EXAMPLE"))
        .nth(1)
        .expect("an example");
    let runbook = std::fs::read_to_string("docs/runbook.md").unwrap();
    for text in [example, &runbook] {
        assert!(
            text.contains(r"inventory.ps1 -Path \\") && text.contains(" -Depth 2 -OutFile "),
            "{text}"
        );
    }
}

#[test]
fn the_script_has_balanced_brackets_outside_strings_and_comments() {
    let script = script();
    let mut stack = Vec::new();
    let mut chars = script.chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            '#' => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            '<' if chars.peek() == Some(&'#') => {
                let mut last = ' ';
                for c in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                    }
                    if last == '#' && c == '>' {
                        break;
                    }
                    last = c;
                }
            }
            '\'' => {
                // '' inside a single-quoted string is a quote; no other escapes.
                loop {
                    match chars.next() {
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                        }
                        Some('\'') => break,
                        Some('\n') => line += 1,
                        Some(_) => {}
                        None => panic!("unclosed ' string"),
                    }
                }
            }
            '"' => loop {
                match chars.next() {
                    Some('`') => {
                        chars.next();
                    }
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                    }
                    Some('"') => break,
                    Some('\n') => line += 1,
                    Some(_) => {}
                    None => panic!("unclosed \" string"),
                }
            },
            '`' => {
                chars.next();
            }
            '(' | '{' | '[' => stack.push((c, line)),
            ')' | '}' | ']' => {
                let open = stack
                    .pop()
                    .unwrap_or_else(|| panic!("line {line}: {c} closes nothing"));
                let expected = match open.0 {
                    '(' => ')',
                    '{' => '}',
                    _ => ']',
                };
                assert_eq!(c, expected, "line {line} closes what line {} opened", open.1);
            }
            _ => {}
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
}
