<#
.SYNOPSIS
Counts the files, directories and bytes under every folder of a file share, down to a depth, for
`fsx-migrate plan --inventory`.

.DESCRIPTION
FSx for Windows File Server reports no file counts, but DataSync counts at most 25 million source plus
destination files and directories per task execution, and the listing of the largest task floors the
final sync (the downtime). fsx-migrate splits the share into lanes (one DataSync task each, over whole
folders) from this inventory.

The script walks the whole share once with .NET directory enumeration and writes a UTF-8 CSV:

    path,depth,files,directories,bytes,errors
    /,0,30000000,1500000,16492674416640,0
    /Projects,1,1200000,34000,5368709120,0
    /Projects/A,2,400000,9000,1073741824,0

`path` is relative to the share root, with / between folder names; the / row holds the totals of the whole
share; every other row the totals of its subtree: files, directories under it (not counting itself), bytes
of files, and folders that could not be read (`errors`, the folder itself included). There is a row for
every folder down to -Depth.

Folders that cannot be read are counted in `errors`, reported at the end, and skipped: their contents are
missing from the totals. Run the script as the DataSync user or another member of the file system's
administrators group so that nothing is skipped. Junctions and symbolic links to folders are counted as
directories, not followed, and listed at the end (DataSync does not copy links between SMB and FSx for
Windows: the task ends with an error).

The walk reads only metadata. It takes roughly as long as `dir /s` on the share: hours for tens of
millions of files. Run it from a domain-joined Windows host close to the file system (an EC2 instance in the
same VPC), with Windows PowerShell 5.1 or PowerShell 7.

.PARAMETER Path
The UNC path of the share's root, e.g. \\amznfsx0123abcd.corp.example.com\share (the folder the DataSync
location's subdirectory names).

.PARAMETER Depth
Rows are written for folders down to this depth (1 = the top-level folders). The default, 2, lets
fsx-migrate split any top-level folder into its subfolders; when `fsx-migrate plan` says a folder is too
large for the inventory's depth, run again with a larger -Depth.

.PARAMETER OutFile
The CSV file to write (overwritten).

.EXAMPLE
.\inventory.ps1 -Path \\amznfsx0123abcd.corp.example.com\share -Depth 2 -OutFile share-inventory.csv

Then, on the ops box: fsx-migrate plan ... --inventory share-inventory.csv
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [string] $Path,

    [ValidateRange(1, 32)]
    [int] $Depth = 2,

    [Parameter(Mandatory = $true)]
    [string] $OutFile
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

# The first line of the CSV. fsx-migrate requires the first five columns exactly; `errors` is informational.
$Header = 'path,depth,files,directories,bytes,errors'

# \\server\share -> \\?\UNC\server\share: paths longer than 260 characters then work in .NET Framework too.
function ConvertTo-LongPath([string] $UncPath) {
    $trimmed = $UncPath.TrimEnd('\')
    if ($trimmed.StartsWith('\\?\')) { return $trimmed }
    if ($trimmed.StartsWith('\\')) { return '\\?\UNC\' + $trimmed.Substring(2) }
    return '\\?\' + $trimmed
}

# A CSV field as RFC 4180 quotes it: within quotes, with quotes doubled, if it holds a comma, quote or line break.
function ConvertTo-CsvField([string] $Text) {
    if ($Text.IndexOfAny([char[]]@(',', '"', "`r", "`n")) -ge 0) {
        return '"' + $Text.Replace('"', '""') + '"'
    }
    return $Text
}

$root = New-Object System.IO.DirectoryInfo (ConvertTo-LongPath $Path)
if (-not $root.Exists) {
    throw "Cannot find the folder $Path (as $($root.FullName)). Check the UNC path and your access."
}
$outPath = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($OutFile)

# One row per folder down to -Depth: its path, depth and counters (files, directories, bytes, errors).
$rows = New-Object System.Collections.Generic.List[object]
function New-Row([string] $RelativePath, [int] $Level) {
    $row = [pscustomobject]@{ Path = $RelativePath; Depth = $Level; Counters = (New-Object 'long[]' 4) }
    $rows.Add($row)
    return $row
}

$rootRow = New-Row '/' 0
# Work items: the folder, its relative path, its depth, and the counters of the rows it counts into (every
# row above it, down to -Depth). An explicit stack: no recursion limit on deep trees.
$stack = New-Object System.Collections.Generic.Stack[object]
$stack.Push(@($root, '/', 0, (, $rootRow.Counters)))
$unreadable = New-Object System.Collections.Generic.List[string]
$links = New-Object System.Collections.Generic.List[string]
$totalFiles = [long]0
$totalFolders = [long]0
$totalBytes = [long]0
$clock = [System.Diagnostics.Stopwatch]::StartNew()
$lastReport = 0

while ($stack.Count -gt 0) {
    $item = $stack.Pop()
    $folder = $item[0]
    $relative = $item[1]
    $level = $item[2]
    $counters = $item[3]
    $files = [long]0
    $folders = [long]0
    $bytes = [long]0
    try {
        foreach ($entry in $folder.EnumerateFileSystemInfos()) {
            if ($entry -is [System.IO.DirectoryInfo]) {
                $folders++
                if ($relative -eq '/') { $childPath = '/' + $entry.Name } else { $childPath = $relative + '/' + $entry.Name }
                $childCounters = $counters
                if ($level + 1 -le $Depth) {
                    $childRow = New-Row $childPath ($level + 1)
                    $childCounters = $counters + (, $childRow.Counters)
                }
                if (($entry.Attributes -band [System.IO.FileAttributes]::ReparsePoint) -eq 0) {
                    $stack.Push(@($entry, $childPath, ($level + 1), $childCounters))
                }
                else {
                    $links.Add($childPath)
                }
            }
            else {
                $files++
                $bytes += $entry.Length
            }
        }
    }
    catch {
        # Access denied, or the folder vanished: count it, say so at the end, and go on.
        $unreadable.Add($relative)
        foreach ($c in $counters) { $c[3]++ }
    }
    foreach ($c in $counters) {
        $c[0] += $files
        $c[1] += $folders
        $c[2] += $bytes
    }
    $totalFiles += $files
    $totalFolders += $folders
    $totalBytes += $bytes
    if ($clock.Elapsed.TotalSeconds - $lastReport -ge 5) {
        $lastReport = $clock.Elapsed.TotalSeconds
        Write-Host ('{0:N0} files, {1:N0} folders, {2:N1} GiB, {3} unreadable, {4:N0} s; in {5}' -f `
                $totalFiles, $totalFolders, ($totalBytes / 1GB), $unreadable.Count, $lastReport, $relative)
    }
}

$encoding = New-Object System.Text.UTF8Encoding($false)
$writer = New-Object System.IO.StreamWriter($outPath, $false, $encoding)
try {
    $writer.NewLine = "`n"
    $writer.WriteLine($Header)
    foreach ($row in $rows) {
        $c = $row.Counters
        $fields = @((ConvertTo-CsvField $row.Path), $row.Depth, $c[0], $c[1], $c[2], $c[3])
        $writer.WriteLine(($fields -join ','))
    }
}
finally {
    $writer.Dispose()
}

Write-Host ('Wrote {0}: {1:N0} rows; {2:N0} files, {3:N0} folders, {4:N1} GiB in {5:N0} s.' -f `
        $outPath, $rows.Count, $totalFiles, $totalFolders, ($totalBytes / 1GB), $clock.Elapsed.TotalSeconds)
if ($links.Count -gt 0) {
    Write-Warning ("{0:N0} junctions or symbolic links to folders were counted but not followed; DataSync ends a task with an error on links between SMB and FSx for Windows. The first: {1}" -f `
            $links.Count, (($links | Select-Object -First 10) -join ', '))
}
if ($unreadable.Count -gt 0) {
    Write-Warning ("{0:N0} folders could not be read; their contents are not counted (column errors). The first: {1}" -f `
            $unreadable.Count, (($unreadable | Select-Object -First 10) -join ', '))
}
