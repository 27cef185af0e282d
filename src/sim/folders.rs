//! The simulated share's folder tree, to depth 2: top-level (department) folders, their subfolders, and
//! the files at the root. Lanes are DataSync tasks over folders, so the simulator needs folders to know what
//! each task copies, lists and leaves out.
//!
//! The tree is generated once by `sim init` from the scenario's seed: a skewed size distribution (Zipf-like
//! with jitter: a few big department folders, many small ones), directories about 5 % of the files, and
//! writes spread over the folders by size times a random activity factor. The model keeps one [`Folder`]
//! per part it tracks on its own: each depth-2 folder with everything under it, the files directly in each
//! top-level folder, and the files at the root. Totals equal the scenario's files and bytes exactly.

use serde::{Deserialize, Serialize};

use crate::cloud::model::task_copies;

/// Directories per file: an assumption (documented in docs/simulator.md).
pub const DIRECTORY_SHARE: f64 = 0.05;
/// Share of the files that sit at the root of the share (not in any folder): an assumption.
const ROOT_FILE_SHARE: f64 = 0.002;
/// Share of a top-level folder's files that sit directly in it (not in a subfolder): an assumption.
const LOOSE_FILE_SHARE: f64 = 0.03;
/// At most this many top-level folders; one per 5,000 files below that.
const MAX_TOP_FOLDERS: u64 = 40;
const FILES_PER_TOP_FOLDER: u64 = 5_000;
/// At most this many subfolders per top-level folder.
const MAX_SUBFOLDERS: u64 = 48;

/// The name that stands for "the files directly in a folder" in filter matching: `<` and `>` are not allowed
/// in Windows file names, so no real folder or pattern without `*` can equal it.
const LOOSE_FILES: &str = "<files>";

const TOP_NAMES: [&str; 24] = [
    "Projects",
    "Engineering",
    "Finance",
    "Users",
    "Marketing",
    "Sales",
    "Legal",
    "HR",
    "Operations",
    "Research",
    "Archive",
    "Shared",
    "Design",
    "IT",
    "Support",
    "Facilities",
    "Procurement",
    "Training",
    "Quality",
    "Executive",
    "Logistics",
    "Compliance",
    "Media",
    "Scans",
];

/// One part of the share the model tracks on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Folder {
    /// The folder, `/`-separated from the share root: `/` for the root, `/Projects`, `/Projects/A`.
    pub path: String,
    /// Only the files directly in `path` (the root, or a top-level folder); otherwise `path` and everything
    /// under it (a depth-2 folder).
    pub loose: bool,
    pub files: u64,
    /// Directory entries counted with this part: a depth-2 folder itself and every directory under it; a
    /// top-level folder itself (with its loose files); none for the root.
    pub directories: u64,
    pub bytes: u64,
    /// Share of the source's writes that land here (the shares sum to 1 when the share has files).
    pub write_share: f64,
}

impl Folder {
    /// The path a filter is matched against for this part: the folder, or a stand-in for a file in it.
    pub fn filter_path(&self) -> String {
        match (self.loose, self.path.as_str()) {
            (false, path) => path.to_string(),
            (true, "/") => format!("/{LOOSE_FILES}"),
            (true, path) => format!("{path}/{LOOSE_FILES}"),
        }
    }

    /// Files and directories DataSync lists for this part on one side.
    pub fn entries(&self) -> u64 {
        self.files + self.directories
    }

    /// Distinct files touched when the share as a whole took `writes` writes (each write touches one random
    /// file of its folder): f·(1 − e^(−share·w/f)).
    pub fn distinct_files(&self, writes: f64) -> f64 {
        let f = self.files as f64;
        let w = writes * self.write_share;
        if f == 0.0 || w <= 0.0 {
            0.0
        } else {
            f * (1.0 - (-w / f).exp())
        }
    }

    pub fn average_file_bytes(&self) -> f64 {
        if self.files == 0 {
            0.0
        } else {
            self.bytes as f64 / self.files as f64
        }
    }

    fn depth(&self) -> usize {
        self.path.matches('/').count() - usize::from(self.path == "/")
    }
}

/// The indices of `folders` a task with these Includes and Excludes copies (DataSync SIMPLE_PATTERN filters
/// matched against each part's [`Folder::filter_path`]). A wildcard filter is matched against the part as a
/// whole: a part is copied entirely or not at all.
pub fn covered(folders: &[Folder], includes: &[String], excludes: &[String]) -> Vec<u32> {
    (0..folders.len() as u32)
        .filter(|&i| task_copies(includes, excludes, &folders[i as usize].filter_path()))
        .collect()
}

/// A deterministic generator (splitmix64), so `sim init` with the same seed builds the same tree.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next() >> 11) as f64 / (1u64 << 53) as f64)
    }
}

/// Splits `total` into integers proportional to `weights` (largest remainder). With `at_least_one`, every
/// part gets 1 first while `total` allows; without, all goes to the first part when no part has weight.
fn apportion(total: u64, weights: &[f64], at_least_one: bool) -> Vec<u64> {
    let n = weights.len() as u64;
    if n == 0 {
        return Vec::new();
    }
    let floor = u64::from(at_least_one && total >= n);
    let rest = total - floor * n;
    let sum: f64 = weights.iter().map(|w| w.max(0.0)).sum();
    let exact: Vec<f64> = weights
        .iter()
        .map(|w| {
            if sum > 0.0 {
                rest as f64 * w.max(0.0) / sum
            } else {
                0.0
            }
        })
        .collect();
    let mut parts: Vec<u64> = exact.iter().map(|e| e.floor() as u64).collect();
    if sum <= 0.0 {
        parts[0] = rest;
    }
    let mut left = rest.saturating_sub(parts.iter().sum::<u64>());
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())));
    for i in order.into_iter().cycle() {
        if left == 0 {
            break;
        }
        parts[i] += 1;
        left -= 1;
    }
    parts.iter().map(|p| p + floor).collect()
}

/// Zipf-like weights with jitter: the k-th of `n` gets 1/k^1.1 × [0.6, 1.4).
fn skewed(n: u64, rng: &mut Rng) -> Vec<f64> {
    (1..=n)
        .map(|k| (k as f64).powf(-1.1) * rng.between(0.6, 1.4))
        .collect()
}

/// The folder tree of a share with `files` files and `bytes` bytes, from `seed`.
pub fn generate(files: u64, bytes: u64, seed: u64) -> Vec<Folder> {
    let mut rng = Rng(seed ^ 0x5EED_F01D_E125);
    let root_files = (files as f64 * ROOT_FILE_SHARE).round() as u64;
    let tops = (files / FILES_PER_TOP_FOLDER).clamp(1, MAX_TOP_FOLDERS);
    let top_files = apportion(files - root_files, &skewed(tops, &mut rng), true);
    // Parts: (path, loose, files); bytes, directories and writes are spread over them below.
    let mut parts: Vec<(String, bool, u64)> = vec![("/".into(), true, root_files)];
    for (i, &in_top) in top_files.iter().enumerate() {
        let name = match TOP_NAMES.get(i) {
            Some(name) => (*name).to_string(),
            None => format!("Dept{:02}", i + 1),
        };
        let path = format!("/{name}");
        let loose = (in_top as f64 * LOOSE_FILE_SHARE).round() as u64;
        parts.push((path.clone(), true, loose));
        let subs = ((in_top as f64 / 2_000.0).sqrt().round() as u64).clamp(1, MAX_SUBFOLDERS);
        let sub_files = apportion(in_top - loose, &skewed(subs, &mut rng), true);
        for (k, n) in sub_files.into_iter().enumerate() {
            parts.push((format!("{path}/{name}-{:03}", k + 1), false, n));
        }
    }
    // Bytes: by files, times a size factor (media folders hold big files, source trees small ones).
    let size: Vec<f64> = parts
        .iter()
        .map(|(_, _, f)| *f as f64 * rng.between(0.3, 3.0))
        .collect();
    let part_bytes = apportion(bytes, &size, false);
    // Directories: each folder is one; the rest of ~5 % of the files spread over depth-2 folders by files.
    let folder_entries = parts.iter().filter(|(p, _, _)| p != "/").count() as u64;
    let extra = ((files as f64 * DIRECTORY_SHARE).round() as u64).saturating_sub(folder_entries);
    let subtree_files: Vec<f64> = parts
        .iter()
        .map(|(_, loose, f)| if *loose { 0.0 } else { *f as f64 })
        .collect();
    let extra_dirs = apportion(extra, &subtree_files, false);
    // Writes: by files, times an activity factor between a quarter and four times the average.
    let activity: Vec<f64> = parts
        .iter()
        .map(|(_, _, f)| *f as f64 * 4f64.powf(rng.between(-1.0, 1.0)))
        .collect();
    let total_activity: f64 = activity.iter().sum();
    parts
        .into_iter()
        .enumerate()
        .map(|(i, (path, loose, files))| Folder {
            directories: u64::from(path != "/") + extra_dirs[i],
            path,
            loose,
            files,
            bytes: part_bytes[i],
            write_share: if total_activity > 0.0 {
                activity[i] / total_activity
            } else {
                0.0
            },
        })
        .collect()
}

/// One row of `sim inventory`: a folder's subtree totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryRow {
    pub path: String,
    pub depth: usize,
    pub files: u64,
    /// Directories under the folder, not counting itself.
    pub directories: u64,
    pub bytes: u64,
}

/// The inventory of `folders`: `/` (the whole share), then each top-level folder followed by its subfolders,
/// each with its subtree totals.
pub fn inventory(folders: &[Folder]) -> Vec<InventoryRow> {
    let mut rows = vec![InventoryRow {
        path: "/".into(),
        depth: 0,
        files: folders.iter().map(|f| f.files).sum(),
        directories: folders.iter().map(|f| f.directories).sum(),
        bytes: folders.iter().map(|f| f.bytes).sum(),
    }];
    for top in folders.iter().filter(|f| f.depth() == 1) {
        let prefix = format!("{}/", top.path);
        let children: Vec<&Folder> = folders.iter().filter(|f| f.path.starts_with(&prefix)).collect();
        rows.push(InventoryRow {
            path: top.path.clone(),
            depth: 1,
            files: top.files + children.iter().map(|c| c.files).sum::<u64>(),
            // The top-level folder's own entry is not counted; its subfolders' are.
            directories: top.directories - 1 + children.iter().map(|c| c.directories).sum::<u64>(),
            bytes: top.bytes + children.iter().map(|c| c.bytes).sum::<u64>(),
        });
        rows.extend(children.into_iter().map(|c| InventoryRow {
            path: c.path.clone(),
            depth: 2,
            files: c.files,
            directories: c.directories - 1,
            bytes: c.bytes,
        }));
    }
    rows
}

/// A CSV field with RFC 4180 quoting (only when needed).
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The inventory as CSV: `path,depth,files,directories,bytes`, one row per folder (the planner parses it).
pub fn inventory_csv(folders: &[Folder]) -> String {
    let mut out = String::from("path,depth,files,directories,bytes\n");
    for row in inventory(folders) {
        out.push_str(&format!(
            "{},{},{},{},{}\n",
            csv_field(&row.path),
            row.depth,
            row.files,
            row.directories,
            row.bytes
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIB: u64 = 1 << 40;

    #[test]
    fn the_tree_keeps_the_scenario_totals_and_is_skewed() {
        let folders = generate(30_000_000, 15 * TIB, 42);
        assert_eq!(folders.iter().map(|f| f.files).sum::<u64>(), 30_000_000);
        assert_eq!(folders.iter().map(|f| f.bytes).sum::<u64>(), 15 * TIB);
        let dirs: u64 = folders.iter().map(|f| f.directories).sum();
        assert_eq!(dirs, 1_500_000, "5 % directories");
        let shares: f64 = folders.iter().map(|f| f.write_share).sum();
        assert!((shares - 1.0).abs() < 1e-9);
        for f in folders.iter().filter(|f| f.path != "/") {
            assert!(f.files > 0 && f.bytes > 0 && f.directories > 0, "{f:?}");
        }
        let rows = inventory(&folders);
        let tops: Vec<&InventoryRow> = rows.iter().filter(|r| r.depth == 1).collect();
        assert_eq!(tops.len(), 40);
        let biggest = tops.iter().map(|r| r.files).max().unwrap();
        let smallest = tops.iter().map(|r| r.files).min().unwrap();
        assert!(biggest > 20 * smallest, "skewed: {biggest} vs {smallest}");
        assert!(
            biggest < 12_500_000,
            "the biggest folder fits one lane: {biggest}"
        );
        assert_eq!(generate(30_000_000, 15 * TIB, 42), folders, "deterministic");
        assert_ne!(generate(30_000_000, 15 * TIB, 7), folders, "seeded");
    }

    #[test]
    fn the_inventory_rows_sum_to_the_root() {
        let folders = generate(200_000, 100 << 30, 42);
        let rows = inventory(&folders);
        let root = &rows[0];
        assert_eq!((root.path.as_str(), root.depth, root.files), ("/", 0, 200_000));
        let loose_root = folders[0].files;
        let tops = rows.iter().filter(|r| r.depth == 1);
        let (files, dirs, bytes) = tops.fold((loose_root, 0, folders[0].bytes), |(f, d, b), r| {
            (f + r.files, d + r.directories + 1, b + r.bytes)
        });
        assert_eq!((files, dirs, bytes), (root.files, root.directories, root.bytes));
        let csv = inventory_csv(&folders);
        assert!(
            csv.starts_with("path,depth,files,directories,bytes\n/,0,200000,"),
            "{csv}"
        );
    }

    #[test]
    fn tiny_shares_still_add_up() {
        for files in [0, 1, 7, 4_999] {
            let folders = generate(files, 1 << 20, 1);
            assert_eq!(folders.iter().map(|f| f.files).sum::<u64>(), files);
            assert_eq!(folders.iter().map(|f| f.bytes).sum::<u64>(), 1 << 20);
        }
    }

    #[test]
    fn coverage_follows_datasync_filters() {
        let folders = generate(200_000, 100 << 30, 42);
        let all: Vec<u32> = (0..folders.len() as u32).collect();
        assert_eq!(covered(&folders, &[], &[]), all);
        let projects = covered(&folders, &["/Projects".into()], &[]);
        assert!(
            projects
                .iter()
                .all(|&i| folders[i as usize].path.starts_with("/Projects"))
        );
        assert!(projects.len() > 1, "the folder's loose files and subfolders");
        let rest = covered(&folders, &[], &["/Projects".into()]);
        assert_eq!(projects.len() + rest.len(), folders.len(), "a partition");
        assert!(rest.contains(&0), "root files go to the lane without includes");
        assert!(csv_field("a,\"b\"") == "\"a,\"\"b\"\"\"");
    }
}
