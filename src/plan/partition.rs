//! The partition of a share into lanes: one DataSync task each, over whole folders, run in parallel.
//!
//! Two facts drive it. DataSync (Basic mode, AWS storage to AWS storage) counts at most 25 million source
//! plus destination files and directories per task execution; and an execution first lists everything it
//! covers, so the lane that lists the most floors the final sync, which is the downtime. So each lane must
//! stay under the plan's budget (`transfer.entries_per_execution`, counted on both sides: twice the source
//! entries, since the target holds a copy), and the largest lane should be as small as the folders allow.
//!
//! A lane's Includes filter names its folders. The **rest lane** excludes every lane's folders and copies
//! everything else: the files at the share's root, the files directly in a folder that was split into its
//! subfolders, folders whose names cannot be written as an include filter (`|` separates patterns, `*` is a
//! wildcard), and folders created after the inventory. So every path is copied by exactly one task.
//!
//! The rules, in order:
//! 1. Start from the top-level folders. A folder matching `transfer.excludes` is in no lane; a folder whose
//!    path holds `|` or `*` stays in the rest lane (as an include, `/A*` would also copy `/AB`).
//! 2. A folder over one execution's budget is split into its subfolders (largest first); its own files stay
//!    in the rest lane. A folder over the budget without rows below it stops the partition: re-run the
//!    inventory with a larger `-Depth` (or, when its files sit directly in it, no folder split can help).
//! 3. A folder larger than the ideal lane (the share's entries shared evenly by `max_parallel_tasks`
//!    executions, but at least [`MIN_LANE_SHARE`] of one execution's budget) is split too, for balance, as
//!    long as its own files keep the rest lane within the ideal.
//! 4. Lanes: as many as fit `max_parallel_tasks` with the rest lane, and no more than would each hold
//!    [`MIN_LANE_SHARE`] of a budget. Folders are dealt largest first to the least loaded lane, the rest lane
//!    included (a folder dealt to the rest lane is simply in no include), which bounds the largest lane by
//!    the even share plus the largest folder. More lanes are tried when one would exceed the budget.
//! 5. No useless tiny lanes: a lane under [`MIN_LANE_SHARE`] of a budget is folded into the rest lane when
//!    that does not make the rest lane the largest.
//! 6. Every filter fits DataSync's 102,400-character Value: the rest lane's Excludes (the plan's excludes and
//!    every lane's folders) is the longest, so once it is full, further (smaller) folders go to the rest lane.
//!
//! Pure: the caller prints the notes.

use std::collections::BinaryHeap;

use super::intent::LaneSpec;
use super::inventory::{Inventory, Row};
use crate::cloud::model::filter_matches;

/// DataSync's largest filter Value, in characters (counted here in UTF-8 bytes, never fewer).
pub const MAX_FILTER_CHARS: usize = 102_400;

/// A lane holds at least 1/20 of one execution's source budget (500,000 entries with the default budget):
/// below that, the time a lane saves listing is smaller than what it costs (a task, network interfaces in
/// the subnet, one more execution to launch and watch).
pub const MIN_LANE_SHARE: u64 = 20;

/// What the partition needs from the plan.
#[derive(Debug, Clone)]
pub struct PartitionRequest<'a> {
    /// `transfer.entries_per_execution`: source plus destination entries one execution may count.
    pub entries_per_execution: u64,
    /// `transfer.max_parallel_tasks`: lanes, the rest lane included.
    pub max_parallel_tasks: u32,
    /// `transfer.excludes`.
    pub excludes: &'a [String],
}

/// The lanes, what the rest lane holds, and what the operator should know.
#[derive(Debug, Clone, PartialEq)]
pub struct Partition {
    /// Largest first, named `lane-01`, `lane-02`, …; empty when one task over the whole share is best.
    pub lanes: Vec<LaneSpec>,
    /// Source files plus directories the rest lane copied at inventory time.
    pub rest_entries: u64,
    pub rest_bytes: u64,
    pub notes: Vec<String>,
}

/// Why no partition fits, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionError {
    pub message: String,
    pub hint: String,
}

fn refuse(message: String, hint: &str) -> PartitionError {
    PartitionError {
        message,
        hint: hint.to_string(),
    }
}

/// Entries and bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Load {
    entries: u64,
    bytes: u64,
}

impl Load {
    fn of(row: &Row) -> Load {
        Load {
            entries: row.entries(),
            bytes: row.bytes,
        }
    }
    fn add(&mut self, other: Load) {
        self.entries += other.entries;
        self.bytes += other.bytes;
    }
    fn sub(&mut self, other: Load) {
        self.entries -= other.entries;
        self.bytes -= other.bytes;
    }
}

/// Whether `path` can be an include filter that names that folder and nothing else.
fn includable(path: &str) -> bool {
    !path.contains(['|', '*'])
}

/// The length of patterns joined with `|`, as DataSync counts a filter Value.
pub fn filter_len(patterns: &[String]) -> usize {
    patterns
        .iter()
        .map(|p| p.len() + 1)
        .sum::<usize>()
        .saturating_sub(1)
}

/// Splits the share into lanes. See the module documentation for the rules.
pub fn partition(inventory: &Inventory, request: &PartitionRequest) -> Result<Partition, PartitionError> {
    let cap = request.entries_per_execution / 2;
    let slots = u64::from(request.max_parallel_tasks);
    if cap == 0 || slots == 0 {
        return Err(refuse(
            format!(
                "entries_per_execution {} and max_parallel_tasks {} leave no room for a lane",
                request.entries_per_execution, request.max_parallel_tasks
            ),
            "use at least 2 entries per execution and 1 parallel task",
        ));
    }
    let excludes_len = filter_len(request.excludes);
    if excludes_len > MAX_FILTER_CHARS {
        return Err(refuse(
            format!(
                "transfer.excludes joined with | is {excludes_len} characters; DataSync takes {MAX_FILTER_CHARS}"
            ),
            "shorten transfer.excludes",
        ));
    }
    let root = inventory.root();
    if root.entries() > cap && inventory.children("/").next().is_none() {
        return Err(too_deep(root, inventory.depth(), cap));
    }
    let min_lane = (cap / MIN_LANE_SHARE).max(1);
    let ideal = root.entries().div_ceil(slots).max(min_lane);

    let mut split = Splitter {
        inventory,
        excludes: request.excludes,
        rest: Load::of(root),
        rest_parts: Vec::new(),
        units: BinaryHeap::new(),
        excluded: Vec::new(),
        unnamable: Vec::new(),
    };
    split.split(root);
    let mut units: Vec<&Row> = Vec::new();
    let mut notes = Vec::new();
    let mut balanced: Vec<&str> = Vec::new();
    while let Some(Unit(row)) = split.units.pop() {
        let entries = row.entries();
        let has_rows_below = inventory.children(&row.path).next().is_some();
        if entries > cap {
            if !has_rows_below {
                return Err(too_deep(row, inventory.depth(), cap));
            }
            notes.push(format!(
                "{} holds {entries} entries, more than one execution's {cap}: it is split into its \
                 subfolders, and its own files stay in the rest lane",
                row.path
            ));
            split.split(row);
        } else if entries > ideal && has_rows_below && split.rest.entries + split.gain(row) <= ideal {
            balanced.push(&row.path);
            split.split(row);
        } else {
            units.push(row);
        }
    }
    if !balanced.is_empty() {
        notes.push(format!(
            "split into subfolders for balance (their own files stay in the rest lane): {}",
            shortlist(&balanced)
        ));
    }
    if !split.excluded.is_empty() {
        notes.push(format!(
            "in no lane, as they match transfer.excludes: {}",
            shortlist(&split.excluded)
        ));
    }
    if !split.unnamable.is_empty() {
        notes.push(format!(
            "copied by the rest lane, as | or * in their paths cannot be written in an include filter: {}",
            shortlist(&split.unnamable)
        ));
    }
    if split.rest.entries > cap {
        return Err(rest_too_large(&split, cap));
    }

    let total: u64 = split.rest.entries + units.iter().map(|u| u.entries()).sum::<u64>();
    // Executions: the rest lane and the lanes. As few as give each lane `min_lane`, more if one is over.
    let mut executions = (total / min_lane).clamp(1, slots);
    let mut dealt = deal(&units, split.rest, executions - 1, excludes_len);
    while dealt.largest() > cap && executions < slots {
        executions += 1;
        dealt = deal(&units, split.rest, executions - 1, excludes_len);
    }
    if dealt.largest() > cap {
        return Err(refuse(
            format!(
                "the share's {total} entries do not fit max_parallel_tasks = {slots} executions of at most \
                 {cap} entries each (one execution's budget on each side): the largest would list {}",
                dealt.largest()
            ),
            "raise transfer.max_parallel_tasks (--max-parallel-tasks, at most 100), or take the inventory \
             deeper (-Depth) so large folders can be split",
        ));
    }
    dealt.fold_tiny_lanes(min_lane);
    if dealt.full_filter {
        notes.push(format!(
            "the rest lane's Excludes filter reached DataSync's {MAX_FILTER_CHARS} characters: smaller \
             folders were left to the rest lane"
        ));
    }
    let lanes = dealt.lanes();
    let summary = if slots == 1 {
        "one lane: max_parallel_tasks is 1".to_string()
    } else if lanes.is_empty() {
        format!(
            "one lane: the share's {total} source entries (files and directories) are too few to be worth \
             splitting (a lane holds at least {min_lane})"
        )
    } else {
        format!(
            "{} lanes plus the rest lane over {total} source entries (files and directories); the largest \
             lists {}, an even share would be {}",
            lanes.len(),
            dealt.largest(),
            total.div_ceil(lanes.len() as u64 + 1)
        )
    };
    notes.insert(0, summary);
    Ok(Partition {
        lanes,
        rest_entries: dealt.rest.entries,
        rest_bytes: dealt.rest.bytes,
        notes,
    })
}

/// A folder still to place, ordered by size (then path) so the largest is split or dealt first.
#[derive(PartialEq, Eq)]
struct Unit<'a>(&'a Row);

impl Ord for Unit<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.0.entries(), &other.0.path).cmp(&(other.0.entries(), &self.0.path))
    }
}

impl PartialOrd for Unit<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Turns folders into units: the rest lane starts as the whole share and gives up each folder made a unit
/// or excluded.
struct Splitter<'a> {
    inventory: &'a Inventory,
    excludes: &'a [String],
    rest: Load,
    /// What the rest lane holds besides new folders: (folder, entries, why).
    rest_parts: Vec<(String, u64, &'static str)>,
    units: BinaryHeap<Unit<'a>>,
    /// Folders matching `transfer.excludes`.
    excluded: Vec<&'a str>,
    /// Folders the rest lane copies because their paths hold `|` or `*`.
    unnamable: Vec<&'a str>,
}

impl<'a> Splitter<'a> {
    /// Replaces `row` (the root, or a unit) by its subfolders.
    fn split(&mut self, row: &'a Row) {
        if row.path != "/" {
            self.rest.add(Load::of(row));
        }
        let mut own = Load::of(row);
        for child in self.inventory.children(&row.path) {
            own.sub(Load::of(child));
            if filter_matches(self.excludes, &child.path) {
                self.rest.sub(Load::of(child));
                self.excluded.push(&child.path);
            } else if includable(&child.path) {
                self.rest.sub(Load::of(child));
                self.units.push(Unit(child));
            } else {
                self.rest_parts
                    .push((child.path.clone(), child.entries(), "its path holds | or *"));
                self.unnamable.push(&child.path);
            }
        }
        self.rest_parts
            .push((row.path.clone(), own.entries, "its own files"));
    }

    /// How much the rest lane would grow if `row` were split: its own files and unnamable subfolders.
    fn gain(&self, row: &Row) -> u64 {
        let placed: u64 = self
            .inventory
            .children(&row.path)
            .filter(|c| includable(&c.path) || filter_matches(self.excludes, &c.path))
            .map(Row::entries)
            .sum();
        row.entries() - placed
    }
}

fn too_deep(row: &Row, depth: u32, cap: u64) -> PartitionError {
    if row.directories == 0 {
        refuse(
            format!(
                "{} holds {} files directly in it, more than one execution's {cap} entries; lanes split the \
                 share by folder and cannot split it",
                row.path, row.files
            ),
            "move part of its files into subfolders before the migration",
        )
    } else {
        refuse(
            format!(
                "{} holds {} entries, more than one execution's {cap}, and the inventory stops at depth \
                 {depth}",
                row.path,
                row.entries()
            ),
            &format!(
                "re-run scripts/inventory.ps1 with a larger -Depth (e.g. -Depth {}) and plan again",
                depth + 1
            ),
        )
    }
}

fn rest_too_large(split: &Splitter, cap: u64) -> PartitionError {
    let mut parts = split.rest_parts.clone();
    parts.sort_by_key(|p| std::cmp::Reverse(p.1));
    let largest: Vec<String> = parts
        .iter()
        .filter(|p| p.1 > 1)
        .take(5)
        .map(|(path, entries, why)| format!("{path} {entries} ({why})"))
        .collect();
    refuse(
        format!(
            "the rest lane would list {} entries, more than one execution's {cap}; it holds {}",
            split.rest.entries,
            largest.join(", ")
        ),
        "move files from the share's root or from these folders into subfolders, or rename folders with | or *",
    )
}

/// At most five items, then how many more.
fn shortlist(items: &[&str]) -> String {
    let mut out = items.iter().take(5).copied().collect::<Vec<_>>().join(", ");
    if items.len() > 5 {
        out.push_str(&format!(" and {} more", items.len() - 5));
    }
    out
}

/// Units dealt to lanes and the rest lane.
struct Dealt<'a> {
    lanes: Vec<(Load, Vec<&'a Row>)>,
    rest: Load,
    full_filter: bool,
}

/// Deals `units` (largest first) to `lanes` lanes and the rest lane, each to the least loaded (the rest lane
/// on a tie), keeping the rest lane's Excludes within [`MAX_FILTER_CHARS`].
fn deal<'a>(units: &[&'a Row], rest: Load, lanes: u64, excludes_len: usize) -> Dealt<'a> {
    let mut dealt = Dealt {
        lanes: (0..lanes).map(|_| (Load::default(), Vec::new())).collect(),
        rest,
        full_filter: false,
    };
    let mut sorted = units.to_vec();
    sorted.sort_by(|a, b| b.entries().cmp(&a.entries()).then(a.path.cmp(&b.path)));
    let mut filter = excludes_len;
    for unit in sorted {
        let least = dealt
            .lanes
            .iter()
            .enumerate()
            .min_by_key(|(i, (load, _))| (load.entries, *i))
            .filter(|(_, (load, _))| load.entries < dealt.rest.entries)
            .map(|(i, _)| i);
        // `|` plus the path, or the path alone as the first pattern.
        let cost = unit.path.len() + usize::from(filter > 0);
        match least {
            Some(i) if filter + cost <= MAX_FILTER_CHARS => {
                filter += cost;
                dealt.lanes[i].0.add(Load::of(unit));
                dealt.lanes[i].1.push(unit);
            }
            Some(_) => {
                dealt.full_filter = true;
                dealt.rest.add(Load::of(unit));
            }
            None => dealt.rest.add(Load::of(unit)),
        }
    }
    dealt
}

impl Dealt<'_> {
    fn largest(&self) -> u64 {
        self.lanes
            .iter()
            .map(|(load, _)| load.entries)
            .chain([self.rest.entries])
            .max()
            .unwrap_or(0)
    }

    /// Folds lanes under `min_lane` entries into the rest lane, smallest first, while the rest lane stays no
    /// larger than the largest lane.
    fn fold_tiny_lanes(&mut self, min_lane: u64) {
        self.lanes.retain(|(_, units)| !units.is_empty());
        self.lanes.sort_by_key(|(load, _)| load.entries);
        let largest = self.largest();
        while let Some((load, _)) = self.lanes.first() {
            if load.entries >= min_lane || self.rest.entries + load.entries > largest {
                break;
            }
            let (load, _) = self.lanes.remove(0);
            self.rest.add(load);
        }
    }

    /// The lanes as the plan records them: largest first, folders in byte order.
    fn lanes(&self) -> Vec<LaneSpec> {
        let mut lanes: Vec<&(Load, Vec<&Row>)> = self.lanes.iter().collect();
        lanes.sort_by_key(|(load, _)| std::cmp::Reverse(load.entries));
        lanes
            .into_iter()
            .enumerate()
            .map(|(i, (load, units))| {
                let mut includes: Vec<String> = units.iter().map(|u| u.path.clone()).collect();
                includes.sort();
                LaneSpec {
                    name: format!("lane-{:02}", i + 1),
                    includes,
                    entries: Some(load.entries),
                    bytes: Some(load.bytes),
                }
            })
            .collect()
    }
}
