//! The partition into lanes: every path copied by exactly one task, every execution within its budget, the
//! lane count within max_parallel_tasks, and lanes balanced as the folders allow.

use fsx_migrate::cloud::model::{filter_matches, task_copies};
use fsx_migrate::plan::intent::{DEFAULT_ENTRIES_PER_EXECUTION, DEFAULT_MAX_PARALLEL_TASKS};
use fsx_migrate::plan::inventory::{Inventory, parse};
use fsx_migrate::plan::partition::{
    MAX_FILTER_CHARS, Partition, PartitionError, PartitionRequest, filter_len, partition,
};
use fsx_migrate::plan::planner::DEFAULT_EXCLUDES;
use proptest::prelude::*;

use crate::support::*;

fn excludes() -> Vec<String> {
    let mut out: Vec<String> = DEFAULT_EXCLUDES.iter().map(|s| s.to_string()).collect();
    out.push("*/tmp".into());
    out
}

fn split(inv: &Inventory, budget: u64, slots: u32, excludes: &[String]) -> Result<Partition, PartitionError> {
    partition(
        inv,
        &PartitionRequest {
            entries_per_execution: budget,
            max_parallel_tasks: slots,
            excludes,
        },
    )
}

/// The tasks the core makes for a partition: (lane, includes, excludes).
fn tasks(p: &Partition, excludes: &[String]) -> Vec<(String, Vec<String>, Vec<String>)> {
    if p.lanes.is_empty() {
        return vec![("all".into(), vec![], excludes.to_vec())];
    }
    let mut rest_excludes = excludes.to_vec();
    rest_excludes.extend(p.lanes.iter().flat_map(|l| l.includes.iter().cloned()));
    p.lanes
        .iter()
        .map(|l| (l.name.clone(), l.includes.clone(), excludes.to_vec()))
        .chain([("rest".into(), vec![], rest_excludes)])
        .collect()
}

/// Every folder of the inventory, a file directly in each, a folder created in each after planning, a file
/// at the root and a top-level folder created after planning: each is copied by exactly one task, unless the
/// plan's excludes skip it (then by none). What is new at the top is the rest lane's.
#[track_caller]
fn assert_exactly_once(inv: &Inventory, p: &Partition, excludes: &[String]) {
    assert_exactly_once_every(1, inv, p, excludes);
}

/// [`assert_exactly_once`] for every `stride`-th folder only: matching thousands of
/// paths against thousands of patterns takes minutes in a debug build.
#[track_caller]
fn assert_exactly_once_every(stride: usize, inv: &Inventory, p: &Partition, excludes: &[String]) {
    let tasks = tasks(p, excludes);
    let mut paths = vec![
        "/root file.txt".to_string(),
        "/New after planning".to_string(),
        "/New after planning/f.txt".to_string(),
    ];
    let rows = inv.rows().filter(|r| r.path != "/");
    for row in rows.step_by(stride) {
        paths.push(row.path.clone());
        paths.push(format!("{}/file.txt", row.path));
        paths.push(format!("{}/made later/f.txt", row.path));
    }
    for path in &paths {
        let copiers: Vec<&str> = tasks
            .iter()
            .filter(|(_, inc, exc)| task_copies(inc, exc, path))
            .map(|(name, _, _)| name.as_str())
            .collect();
        let expected = usize::from(!filter_matches(excludes, path));
        assert_eq!(copiers.len(), expected, "{path:?} is copied by {copiers:?}");
    }
    let new = tasks
        .iter()
        .find(|(_, inc, exc)| task_copies(inc, exc, "/New after planning/f.txt"))
        .unwrap();
    assert!(new.0 == "rest" || new.0 == "all");
}

/// Budgets, lane count, names, filter lengths, and the totals adding up.
#[track_caller]
fn assert_within_limits(inv: &Inventory, p: &Partition, budget: u64, slots: u32, excludes: &[String]) {
    for (i, lane) in p.lanes.iter().enumerate() {
        assert_eq!(lane.name, format!("lane-{:02}", i + 1));
        let entries = lane.entries.unwrap();
        assert!(
            entries * 2 <= budget,
            "{} lists {entries}, budget {budget}",
            lane.name
        );
        let rows: u64 = lane.includes.iter().map(|i| inv.row(i).unwrap().entries()).sum();
        assert_eq!(rows, entries, "{}'s entries are its folders'", lane.name);
        assert!(lane.includes.iter().all(|i| !i.contains(['|', '*'])));
    }
    assert!(
        p.rest_entries * 2 <= budget,
        "the rest lane lists {}",
        p.rest_entries
    );
    if !p.lanes.is_empty() {
        assert!(
            p.lanes.len() < slots as usize,
            "{} lanes + rest > {slots}",
            p.lanes.len()
        );
    }
    for (_, inc, exc) in tasks(p, excludes) {
        assert!(filter_len(&inc) <= MAX_FILTER_CHARS && filter_len(&exc) <= MAX_FILTER_CHARS);
    }
    let lanes: u64 = p.lanes.iter().map(|l| l.entries.unwrap()).sum();
    assert!(lanes + p.rest_entries <= inv.root().entries());
    let bytes: u64 = p.lanes.iter().map(|l| l.bytes.unwrap()).sum();
    assert!(bytes + p.rest_bytes <= inv.root().bytes);
}

/// Largest first dealing: a lane is at most the even share plus the largest folder it holds.
#[track_caller]
fn assert_balanced(inv: &Inventory, p: &Partition) {
    let total: u64 = p.lanes.iter().map(|l| l.entries.unwrap()).sum::<u64>() + p.rest_entries;
    let even = total.div_ceil(p.lanes.len() as u64 + 1);
    for lane in &p.lanes {
        let largest = lane
            .includes
            .iter()
            .map(|i| inv.row(i).unwrap().entries())
            .max()
            .unwrap();
        assert!(
            lane.entries.unwrap() <= even + largest,
            "{} lists {}, more than the even share {even} plus its largest folder {largest}",
            lane.name,
            lane.entries.unwrap()
        );
    }
}

// ---- the reference share: 15 TiB, 30 M files, 1.5 M directories -----------------------------------------------

/// A subfolder at depth 2: (name, files, directories).
type Sub = (String, u64, u64);

/// Rows of a made-up share, two levels deep: (top folder, files directly in it, its subfolders).
fn two_level_csv(root_files: u64, tops: &[(&str, u64, Vec<Sub>)], file_bytes: u64) -> String {
    let mut rows = Vec::new();
    let (mut files, mut dirs) = (root_files, 0);
    for (name, own, subs) in tops {
        let f: u64 = own + subs.iter().map(|s| s.1).sum::<u64>();
        let d: u64 = subs.iter().map(|s| s.2 + 1).sum();
        rows.push(format!("/{name},1,{f},{d},{}", f * file_bytes));
        for (sub, sf, sd) in subs {
            rows.push(format!("/{name}/{sub},2,{sf},{sd},{}", sf * file_bytes));
        }
        files += f;
        dirs += d + 1;
    }
    format!(
        "path,depth,files,directories,bytes\n/,0,{files},{dirs},{}\n{}\n",
        files * file_bytes,
        rows.join("\n")
    )
}

fn subs(prefix: &str, count: u64, files: u64, dirs: u64) -> Vec<Sub> {
    (1..=count)
        .map(|i| (format!("{prefix}{i:04}"), files, dirs))
        .collect()
}

fn reference() -> Inventory {
    let tops = vec![
        ("Projects", 100, subs("P", 60, 200_000, 10_000)),
        ("Home", 0, subs("user", 1_000, 8_000, 399)),
        ("Finance", 0, subs("FY", 12, 400_000, 20_000)),
        ("Archive", 0, subs("Y", 4, 750_000, 37_499)),
        ("Shared", 0, subs("S", 10, 200_000, 10_999)),
        ("Scans", 194_900, vec![]),
        ("$RECYCLE.BIN", 50, vec![]),
        ("System Volume Information", 10, vec![]),
    ];
    let inv = parse(&two_level_csv(4_940, &tops, 549_755)).expect("the reference inventory is valid");
    assert_eq!(inv.root().files, 30_000_000);
    assert!((1_490_000..1_510_000).contains(&inv.root().directories));
    let tib = inv.root().bytes as f64 / (1u64 << 40) as f64;
    assert!((tib - 15.0).abs() < 0.01, "{tib} TiB");
    inv
}

#[test]
fn the_reference_share_fits_24_parallel_tasks_each_well_under_the_quota() {
    let inv = reference();
    let excludes = excludes();
    let p = split(
        &inv,
        DEFAULT_ENTRIES_PER_EXECUTION,
        DEFAULT_MAX_PARALLEL_TASKS,
        &excludes,
    )
    .expect("partitions");
    assert!(p.lanes.len() < 24, "{} lanes and the rest lane", p.lanes.len());
    assert!(
        p.lanes.len() >= 20,
        "{} lanes: the share is large enough for ~24",
        p.lanes.len()
    );
    for lane in &p.lanes {
        assert!(lane.entries.unwrap() <= 10_000_000);
    }
    assert_within_limits(&inv, &p, DEFAULT_ENTRIES_PER_EXECUTION, 24, &excludes);
    assert_exactly_once_every(10, &inv, &p, &excludes);
    assert_balanced(&inv, &p);
    assert_valid_in_a_plan(&p, DEFAULT_ENTRIES_PER_EXECUTION, 24, &excludes);
    // The folders are small next to an even share, so the lanes come close to it: within 10 %.
    let total: u64 = p.lanes.iter().map(|l| l.entries.unwrap()).sum::<u64>() + p.rest_entries;
    let even = total.div_ceil(p.lanes.len() as u64 + 1);
    let largest = p.lanes.iter().map(|l| l.entries.unwrap()).max().unwrap();
    assert!(largest <= even + even / 10, "largest {largest}, even {even}");
    assert!(p.rest_entries <= even + even / 10, "rest {}", p.rest_entries);
    // Projects is over one execution's budget: split, with a note; Home is split for balance.
    assert!(
        p.notes.iter().any(|n| n.starts_with("/Projects holds")),
        "{:#?}",
        p.notes
    );
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("for balance") && n.contains("/Home"))
    );
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("transfer.excludes") && n.contains("/$RECYCLE.BIN"))
    );
    assert!(
        p.lanes
            .iter()
            .all(|l| l.includes.iter().all(|i| i != "/Projects"))
    );
}

#[test]
fn a_small_share_is_one_lane() {
    let share = Folder::new(
        "",
        10,
        vec![Folder::new("A", 1_000, vec![]), Folder::new("B", 2_000, vec![])],
    );
    let inv = parse(&inventory_csv(&share, 2)).unwrap();
    let p = split(&inv, DEFAULT_ENTRIES_PER_EXECUTION, 24, &excludes()).unwrap();
    assert!(p.lanes.is_empty(), "{:?}", p.lanes);
    assert_eq!(p.rest_entries, inv.root().entries());
    assert!(p.notes[0].contains("one lane"), "{:?}", p.notes);
    assert_exactly_once(&inv, &p, &excludes());
}

#[test]
fn a_tiny_lane_is_folded_into_the_rest_lane() {
    // Two big folders and a small one: the small one is not worth a task of its own.
    let share = Folder::new(
        "",
        0,
        vec![
            Folder::new("Big1", 900, vec![]),
            Folder::new("Big2", 900, vec![]),
            Folder::new("Small", 20, vec![]),
        ],
    );
    let inv = parse(&inventory_csv(&share, 1)).unwrap();
    // Budget 2,000 entries: 1,000 per side; a lane holds at least 1,000 / 20 = 50.
    let p = split(&inv, 2_000, 10, &[]).unwrap();
    let includes: Vec<&[String]> = p.lanes.iter().map(|l| l.includes.as_slice()).collect();
    assert_eq!(includes, [["/Big1"], ["/Big2"]]);
    assert_eq!(p.rest_entries, 1 + 21);
    assert_exactly_once(&inv, &p, &[]);
}

#[test]
fn names_no_include_can_hold_stay_in_the_rest_lane() {
    let share = Folder::new(
        "",
        0,
        vec![
            Folder::new("a|b", 300, vec![]),
            Folder::new("x*", 300, vec![]),
            Folder::new("xy", 300, vec![]),
            Folder::new("x", 300, vec![Folder::new("y*z", 10, vec![])]),
            Folder::new("tmp", 300, vec![]),
        ],
    );
    let inv = parse(&inventory_csv(&share, 2)).unwrap();
    let p = split(&inv, 4_000, 10, &excludes()).unwrap();
    let includes: Vec<&String> = p.lanes.iter().flat_map(|l| &l.includes).collect();
    assert!(!includes.is_empty());
    assert!(
        includes.iter().all(|i| !i.contains(['|', '*']) && *i != "/tmp"),
        "{includes:?}"
    );
    assert!(
        p.notes.iter().any(|n| n.contains("/a|b") && n.contains("/x*")),
        "{:?}",
        p.notes
    );
    assert_exactly_once(&inv, &p, &excludes());
}

#[test]
fn a_folder_too_large_for_the_inventory_depth_asks_for_a_deeper_inventory() {
    let share = Folder::new(
        "",
        0,
        vec![Folder::new(
            "Big",
            10,
            vec![Folder::new("A", 600, vec![]), Folder::new("B", 600, vec![])],
        )],
    );
    let inv = parse(&inventory_csv(&share, 1)).unwrap();
    let err = split(&inv, 2_000, 10, &[]).unwrap_err();
    assert!(
        err.message.contains("/Big holds 1213 entries") && err.message.contains("depth 1"),
        "{err:?}"
    );
    assert!(err.hint.contains("-Depth 2"), "{err:?}");
    // One level deeper, it splits.
    let inv = parse(&inventory_csv(&share, 2)).unwrap();
    let p = split(&inv, 2_000, 10, &[]).unwrap();
    assert_exactly_once(&inv, &p, &[]);
    assert_within_limits(&inv, &p, 2_000, 10, &[]);
}

#[test]
fn files_directly_in_a_folder_cannot_be_split() {
    let share = Folder::new("", 0, vec![Folder::new("Flat", 5_000, vec![])]);
    let inv = parse(&inventory_csv(&share, 3)).unwrap();
    let err = split(&inv, 2_000, 10, &[]).unwrap_err();
    assert!(err.message.contains("/Flat holds 5000 files directly"), "{err:?}");
    // At the root, they overflow the rest lane.
    let share = Folder::new("", 5_000, vec![Folder::new("A", 10, vec![])]);
    let inv = parse(&inventory_csv(&share, 1)).unwrap();
    let err = split(&inv, 2_000, 10, &[]).unwrap_err();
    assert!(err.message.contains("the rest lane would list 5001"), "{err:?}");
    assert!(err.message.contains("/ 5001 (its own files)"), "{err:?}");
    let inv = parse(&inventory_csv(&Folder::new("", 5_000, vec![]), 1)).unwrap();
    let err = split(&inv, 2_000, 10, &[]).unwrap_err();
    assert!(err.message.contains("/ holds 5000 files directly"), "{err:?}");
}

#[test]
fn an_inventory_of_the_root_only_asks_for_depth() {
    let share = Folder::new("", 10, vec![Folder::new("A", 3_000, vec![])]);
    let inv = parse(&inventory_csv(&share, 0)).unwrap();
    assert_eq!(inv.depth(), 0);
    let err = split(&inv, 2_000, 10, &[]).unwrap_err();
    assert!(err.hint.contains("-Depth 1"), "{err:?}");
    // Small enough, it is one lane.
    let p = split(&inv, 20_000, 10, &[]).unwrap();
    assert!(p.lanes.is_empty());
}

#[test]
fn a_share_larger_than_the_parallel_budget_is_refused() {
    let tops = (0..10)
        .map(|i| Folder::new(&format!("F{i}"), 900, vec![]))
        .collect();
    let inv = parse(&inventory_csv(&Folder::new("", 0, tops), 1)).unwrap();
    let err = split(&inv, 2_000, 5, &[]).unwrap_err();
    assert!(
        err.message
            .contains("do not fit max_parallel_tasks = 5 executions"),
        "{err:?}"
    );
    assert!(err.hint.contains("max_parallel_tasks"), "{err:?}");
    let p = split(&inv, 2_000, 11, &[]).unwrap();
    assert_eq!(p.lanes.len(), 10);
    assert_eq!(p.rest_entries, 1, "the root folder itself");
    assert_within_limits(&inv, &p, 2_000, 11, &[]);
}

#[test]
fn filters_stay_within_datasync_limit_by_leaving_small_folders_to_the_rest_lane() {
    // 800 folders with 200-character names: 160,800 characters if each were named in a filter.
    let tops: Vec<Folder> = (0..800)
        .map(|i| Folder::new(&format!("{i:04}-{}", "n".repeat(195)), 60 + (i % 7), vec![]))
        .collect();
    let inv = parse(&inventory_csv(&Folder::new("", 0, tops), 1)).unwrap();
    let p = split(&inv, 100_000, 24, &excludes()).unwrap();
    assert!(p.notes.iter().any(|n| n.contains("102400")), "{:?}", p.notes);
    assert_within_limits(&inv, &p, 100_000, 24, &excludes());
    assert_exactly_once_every(10, &inv, &p, &excludes());
    assert_valid_in_a_plan(&p, 100_000, 24, &excludes());
}

/// The small world's plan, to check partitions against the plan's own validation.
fn base_intent() -> &'static fsx_migrate::plan::Intent {
    static INTENT: std::sync::OnceLock<fsx_migrate::plan::Intent> = std::sync::OnceLock::new();
    INTENT.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async { intent_for(&mut sim(world("small")), &plan_request()).await })
    })
}

/// A plan holding this partition passes `Intent::problems` (names, overlaps, budgets, filter lengths).
#[track_caller]
fn assert_valid_in_a_plan(p: &Partition, budget: u64, slots: u32, excludes: &[String]) {
    let mut intent = base_intent().clone();
    let transfer = &mut intent.transfer;
    transfer.excludes = excludes.to_vec();
    transfer.lanes = p.lanes.clone();
    transfer.max_parallel_tasks = Some(slots);
    transfer.entries_per_execution = Some(budget);
    transfer.inventory = Some(fsx_migrate::plan::intent::InventorySummary {
        file: "share.csv".into(),
        sha256: "0".repeat(64),
        modified_at: None,
        entries: 0,
        bytes: 0,
        rest_entries: p.rest_entries,
        rest_bytes: p.rest_bytes,
    });
    assert_eq!(intent.problems(), []);
}

// ---- generated shares ---------------------------------------------------------------------------------------

const NAMES: [&str; 9] = [
    "Proj",
    "a|b",
    "x*",
    "Home",
    "System Volume Information",
    "tmp",
    "Q,\"uoted\"",
    "Ünï",
    "sp ace",
];

/// A name from the pool, made unique among its siblings by its position (`Proj`, `Proj1`, `Proj12`…, so
/// some names are prefixes of others).
fn name(k: usize, i: usize) -> String {
    if i == 0 {
        NAMES[k].to_string()
    } else {
        format!("{}{i}", NAMES[k])
    }
}

fn files() -> impl Strategy<Value = u64> {
    prop_oneof![4 => 0u64..50, 3 => 0u64..2_000, 1 => 0u64..60_000]
}

type Level3 = Vec<(usize, u64)>;
type Level2 = Vec<(usize, u64, Level3)>;
type Level1 = Vec<(usize, u64, Level2)>;

fn share() -> impl Strategy<Value = Folder> {
    let level3 = prop::collection::vec((0..NAMES.len(), files()), 0..4);
    let level2 = prop::collection::vec((0..NAMES.len(), files(), level3), 0..6);
    let level1 = prop::collection::vec((0..NAMES.len(), files(), level2), 0..14);
    (files(), level1).prop_map(|(root_files, tops): (u64, Level1)| {
        let folder = |k, i, files, children| Folder::new(&name(k, i), files, children);
        let tops = tops
            .into_iter()
            .enumerate()
            .map(|(i, (k, f, subs))| {
                let subs = subs
                    .into_iter()
                    .enumerate()
                    .map(|(j, (k, f, leaves))| {
                        let leaves = leaves
                            .into_iter()
                            .enumerate()
                            .map(|(l, (k, f))| folder(k, l, f, vec![]))
                            .collect();
                        folder(k, j, f, leaves)
                    })
                    .collect();
                folder(k, i, f, subs)
            })
            .collect();
        Folder::new("", root_files, tops)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn every_path_is_copied_by_exactly_one_lane_within_every_limit(
        share in share(),
        depth in 1u32..=3,
        budget_percent in 5u64..=100,
        slots in 1u32..=30,
    ) {
        let inv = parse(&inventory_csv(&share, depth)).expect("generated inventories are valid");
        let total = inv.root().entries();
        let budget = (2 * total * budget_percent / 100).max(2);
        let excludes = excludes();
        match split(&inv, budget, slots, &excludes) {
            Ok(p) => {
                assert_within_limits(&inv, &p, budget, slots, &excludes);
                assert_exactly_once(&inv, &p, &excludes);
                assert_balanced(&inv, &p);
                assert_valid_in_a_plan(&p, budget, slots, &excludes);
            }
            Err(e) => {
                let known = ["-Depth", "directly in it", "the rest lane would list", "do not fit"];
                prop_assert!(known.iter().any(|k| e.message.contains(k) || e.hint.contains(k)), "{e:?}");
            }
        }
    }
}
