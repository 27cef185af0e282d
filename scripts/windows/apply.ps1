<#
.SYNOPSIS
Makes an FSx for Windows File Server file system (the new target) match an export of another one
(export.ps1): its SMB shares with exactly the exported access, and its in-server settings.

.DESCRIPTION
Runs on a domain-joined Windows host (fsx-migrate sends it through SSM AWS-RunPowerShellScript) and talks to
the file system's Windows Remote PowerShell endpoint (the FSxRemoteAdmin session configuration).

For every exported share:
- missing: created with New-FSxSmbShare (its properties, and its access entries as -FullAccess,
  -ChangeAccess, -ReadAccess and -NoAccess); if its folder does not exist on this file system it is skipped;
- present with the same path: the properties that differ are set with Set-FSxSmbShare (the default share
  "share" of a new file system is updated like any other);
- present with another path: skipped, not changed;
then its access is made exactly the exported one: for each account whose entries differ, Revoke then
Grant of the exported right (Allow), Block (Deny); accounts not exported are revoked and unblocked.
Then the settings that are not null: shadow copies (Set-FSxShadowStorage, Set-FSxShadowCopySchedule), data
deduplication (Enable-FSxDedup, Set-FSxDedupConfiguration), user quotas (Enable-FSxUserQuotas,
Set-FSxUserQuotas) and the SMB server (Set-FSxSmbServerConfiguration). Each is read first and set only
where it differs, so a second run changes nothing. A setting whose command fails is reported, not fatal; a
null setting is left alone (nothing is turned off).

Standard output: progress lines, then as the very last line either
    FSXMIGRATE-RESULT {"created":[...],"updated":[...],"unchanged":[...],"skipped":[{"name":"...","reason":"..."}],"applied":[...],"not_applied":[{"setting":"...","reason":"..."}]}
or
    FSXMIGRATE-ERROR <message>
with exit code 1, when -ServiceJson is no valid export (nothing is touched then), the session cannot be
opened, the shares cannot be listed, or a share's access cannot be set. Nothing is rolled back: running the
script again finishes the job. See README.md beside this file.

.PARAMETER Endpoint
The target file system's Windows Remote PowerShell endpoint (DescribeFileSystems:
WindowsConfiguration.RemoteAdministrationEndpoint), e.g. amznfsxb2c3d4e5.corp.example.com.

.PARAMETER ServiceJson
The FSXMIGRATE-RESULT JSON export.ps1 printed (the whole object; "shares" may be a subset).

.EXAMPLE
.\apply.ps1 -Endpoint amznfsxb2c3d4e5.corp.example.com -ServiceJson (Get-Content .\source-export.json -Raw)
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [string] $Endpoint,

    [Parameter(Mandatory = $true)]
    [string] $ServiceJson
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

# Straight to stdout: no host formatting that could wrap a long line, and the order of the lines is the
# order of the calls (the RESULT or ERROR line must come last).
function Write-Line([string] $Text) {
    [Console]::Out.WriteLine($Text)
}

# A redirected powershell.exe writes stdout in the OEM code page, which mangles characters outside it; as
# \u escapes the JSON survives any code page.
function ConvertTo-AsciiJson($Value) {
    $json = ConvertTo-Json -InputObject $Value -Compress -Depth 8
    return [regex]::Replace($json, '[^\x00-\x7F]', [System.Text.RegularExpressions.MatchEvaluator] {
            param($m)
            '\u{0:x4}' -f [int][char]$m.Value
        })
}

# Objects from ConvertFrom-Json and from the remote session: a missing property must not stop the script
# under StrictMode. A JSON array comes out as its elements (wrap the call in @()).
function Get-Prop($Object, [string] $Name) {
    if ($null -eq $Object) { return }
    $property = $Object.PSObject.Properties[$Name]
    if ($null -eq $property -or $null -eq $property.Value) { return }
    $property.Value
}

# One line, for progress lines, reasons and the ERROR line.
function Get-OneLine($Text) {
    return (([string]$Text) -replace '\s*[\r\n]+\s*', ' ').Trim()
}

# The names export.ps1 writes; the numbers of MSFT_SmbShareAccessControlEntry and MSFT_SmbShare are accepted
# too, as the target's current values may arrive as numbers if the enum type is lost in remoting.
$ControlNames = @{ '0' = 'Allow'; '1' = 'Deny'; 'Allow' = 'Allow'; 'Deny' = 'Deny' }
$RightNames = @{ '0' = 'Full'; '1' = 'Change'; '2' = 'Read'; '3' = 'Custom'
    'Full' = 'Full'; 'Change' = 'Change'; 'Read' = 'Read'; 'Custom' = 'Custom' }
$FolderEnumerationNames = @{ '0' = 'AccessBased'; '1' = 'Unrestricted'
    'AccessBased' = 'AccessBased'; 'Unrestricted' = 'Unrestricted' }
$CachingNames = @{ '0' = 'None'; '1' = 'Manual'; '2' = 'Documents'; '3' = 'Programs'; '4' = 'BranchCache'
    '5' = 'Unknown'; 'None' = 'None'; 'Manual' = 'Manual'; 'Documents' = 'Documents'; 'Programs' = 'Programs'
    'BranchCache' = 'BranchCache'; 'Unknown' = 'Unknown' }
function Get-Name([hashtable] $Names, $Value, [string] $What) {
    $key = ([string]$Value).Trim()
    if ($Names.ContainsKey($key)) { return $Names[$key] }
    throw "unexpected $What '$key'"
}

# [bool]'False' is $true in PowerShell: a value that arrives as text is read, not cast.
function ConvertTo-Bool($Value, [string] $What) {
    if ($Value -is [bool]) { return [bool]$Value }
    $text = ([string]$Value).Trim()
    if ($text -eq 'True' -or $text -eq '1') { return $true }
    if ($text -eq 'False' -or $text -eq '0') { return $false }
    throw "unexpected $What '$text' (not a boolean)"
}

# Sizes and counts as whole numbers (UInt64 for the "no limit" value 18446744073709551615); ConvertFrom-Json
# gives Int32, Int64 or Decimal, the remote objects UInt32 or UInt64.
function ConvertTo-Number($Value, [string] $What) {
    $number = [decimal]0
    if (-not [decimal]::TryParse(([string]$Value).Trim(), [System.Globalization.NumberStyles]::Integer,
            [System.Globalization.CultureInfo]::InvariantCulture, [ref]$number)) {
        throw "unexpected $What '$Value' (not a whole number)"
    }
    if ($number -lt 0) { return [int64]$number }
    return [uint64]$number
}

# Grant-FSxSmbShareAccess gives one right per account; of several exported Allow entries the one that grants
# the most is what the account could do. Custom cannot be granted (it is no fixed set of rights).
$RightRank = @{ 'Read' = 1; 'Change' = 2; 'Full' = 3 }
function Get-StrongestRight($Rights) {
    $best = $null
    foreach ($r in $Rights) {
        if ($RightRank.ContainsKey($r) -and ($null -eq $best -or $RightRank[$r] -gt $RightRank[$best])) { $best = $r }
    }
    $best
}

function Test-SameRights($A, $B) {
    return ((@($A) | Sort-Object) -join ',') -eq ((@($B) | Sort-Object) -join ',')
}

# The Allow rights of each account, in the order the accounts first appear; account names without regard to case.
function Group-AllowRights($Entries) {
    $byAccount = [System.Collections.Specialized.OrderedDictionary]::new([StringComparer]::OrdinalIgnoreCase)
    foreach ($entry in $Entries) {
        if ($entry.control -ne 'Allow') { continue }
        if (-not $byAccount.Contains($entry.account)) {
            $byAccount[$entry.account] = [System.Collections.Generic.List[string]]::new()
        }
        $byAccount[$entry.account].Add($entry.right)
    }
    , $byAccount
}

# The accounts with a Deny entry, each once; account names without regard to case.
function Get-DeniedAccounts($Entries) {
    $denied = [System.Collections.Generic.List[string]]::new()
    $seen = [System.Collections.Generic.HashSet[string]]::new([StringComparer]::OrdinalIgnoreCase)
    foreach ($entry in $Entries) {
        if ($entry.control -eq 'Deny' -and $seen.Add($entry.account)) { $denied.Add($entry.account) }
    }
    , $denied
}

# Administrative shares (ADMIN$, IPC$, the drive shares such as D$) are the file system's own: never changed.
function Test-AdministrativeName([string] $Name) {
    return $Name -match '^(ADMIN|IPC|PRINT|[A-Za-z])\$$'
}

# Paths compared without regard to case or a trailing backslash (D:\share\finance = d:\share\finance\).
function Test-SamePath([string] $A, [string] $B) {
    return [string]::Equals($A.Trim().TrimEnd('\'), $B.Trim().TrimEnd('\'), [StringComparison]::OrdinalIgnoreCase)
}

# The remote objects a command returned that carry one of the given properties (the FSx commands also print
# headings such as "FSx Shadow Storage Configuration", which are no settings).
function Select-WithProperty($Objects, [string[]] $Names) {
    foreach ($object in @($Objects)) {
        if ($null -eq $object -or $object -is [string]) { continue }
        foreach ($name in $Names) {
            if ($null -ne $object.PSObject.Properties[$name]) { $object; break }
        }
    }
}

# Two values compare as their JSON.
function Test-SameJson($A, $B) {
    return (ConvertTo-Json -InputObject $A -Compress -Depth 8) -ceq (ConvertTo-Json -InputObject $B -Compress -Depth 8)
}

# --- Shadow copies (read as export.ps1 reads them) --------------------------------------------------------

$DayOrder = @('Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday')

# A trigger's days of the week, Sunday first: from the Task Scheduler bit mask (Sunday 1, Monday 2, ...,
# Saturday 64) or from names ("Monday,Tuesday", an array of names, or their first three letters).
function Get-DayNames($Value) {
    $days = [System.Collections.Generic.List[string]]::new()
    $text = (@($Value) | ForEach-Object { [string]$_ }) -join ','
    if ($text.Trim() -match '^\d+$') {
        $mask = [int]$text.Trim()
        for ($i = 0; $i -lt 7; $i++) {
            if ($mask -band (1 -shl $i)) { $days.Add($DayOrder[$i]) }
        }
        return , $days
    }
    $wanted = [System.Collections.Generic.HashSet[string]]::new([StringComparer]::OrdinalIgnoreCase)
    foreach ($token in ($text -split '[,;\s]+')) {
        if (-not $token) { continue }
        $day = $DayOrder | Where-Object { $_ -eq $token -or ($token.Length -ge 3 -and $_.StartsWith($token, 'OrdinalIgnoreCase')) } |
            Select-Object -First 1
        if ($null -eq $day) { throw "unexpected day of the week '$token'" }
        [void]$wanted.Add($day)
    }
    foreach ($day in $DayOrder) {
        if ($wanted.Contains($day)) { $days.Add($day) }
    }
    , $days
}

# A trigger's start time as HH:mm in UTC (a time without an offset is taken as UTC, the file server's zone).
function Get-TriggerTime($Value) {
    if ($Value -is [datetime]) {
        $time = $Value
        if ($time.Kind -eq [System.DateTimeKind]::Local) { $time = $time.ToUniversalTime() }
        return $time.ToString('HH:mm', [System.Globalization.CultureInfo]::InvariantCulture)
    }
    $parsed = [DateTimeOffset]::Parse(([string]$Value).Trim(), [System.Globalization.CultureInfo]::InvariantCulture,
        [System.Globalization.DateTimeStyles]::AssumeUniversal)
    return $parsed.UtcDateTime.ToString('HH:mm', [System.Globalization.CultureInfo]::InvariantCulture)
}

# Triggers as {days_of_week, time}, sorted by time then days (the order export.ps1 writes).
function Get-SortedTriggers($Triggers) {
    $sorted = [System.Collections.Generic.List[object]]::new()
    foreach ($trigger in @($Triggers | Sort-Object -Property @{ Expression = { $_.time } }, @{ Expression = { $_.days_of_week -join ',' } })) {
        $sorted.Add($trigger)
    }
    , $sorted
}

# The target's current schedule, in the form export.ps1 writes.
function ConvertTo-Schedule($Objects) {
    $triggers = [System.Collections.Generic.List[object]]::new()
    foreach ($trigger in @(Select-WithProperty $Objects @('StartBoundary', 'Start Time', 'StartTime'))) {
        $start = $null
        foreach ($name in @('StartBoundary', 'Start Time', 'StartTime')) {
            if ($null -eq $start) { $start = Get-Prop $trigger $name }
        }
        $daysValue = $null
        foreach ($name in @('DaysOfWeek', 'Days of week', 'Days')) {
            if ($null -eq $daysValue) { $daysValue = Get-Prop $trigger $name }
        }
        if ($null -eq $daysValue) {
            $interval = Get-Prop $trigger 'DaysInterval'
            if ($null -ne $interval -and [int]$interval -eq 1) { $daysValue = 127 } else { continue }
        }
        $days = Get-DayNames $daysValue
        if ($days.Count -eq 0) { continue }
        $triggers.Add([ordered]@{ days_of_week = $days.ToArray(); time = Get-TriggerTime $start })
    }
    Get-SortedTriggers $triggers
}

# Get-FSxShadowStorage's MaxSpace (bytes) as Set-FSxShadowStorage -Maxsize takes it: "UNBOUNDED" or bytes.
function Get-MaxSize($MaxSpace) {
    $text = ([string]$MaxSpace).Trim()
    if ($text -eq '-1' -or $text -eq [string][uint64]::MaxValue -or $text -match '^(?i)unbounded$') { return 'UNBOUNDED' }
    return [string](ConvertTo-Number $MaxSpace 'shadow copy storage size')
}

# --- Data deduplication and user quotas (read as export.ps1 reads them) ----------------------------------

$DedupArrays = @('NoCompressionFileType', 'ExcludeFileType', 'ExcludeFolder')
$DedupBooleans = @('NoCompress', 'OptimizeInUseFiles', 'OptimizePartialFiles', 'Verify')

function ConvertTo-DedupValue([string] $Name, $Value) {
    if ($DedupArrays -contains $Name) {
        $items = [System.Collections.Generic.List[string]]::new()
        foreach ($item in @($Value | Where-Object { $null -ne $_ -and ([string]$_).Trim() } | ForEach-Object { ([string]$_).Trim() } | Sort-Object -Unique)) {
            $items.Add($item)
        }
        return , $items
    }
    if ($DedupBooleans -contains $Name) { return ConvertTo-Bool $Value "deduplication setting $Name" }
    return ConvertTo-Number $Value "deduplication setting $Name"
}

$QuotaStates = @{ '0' = 'Disabled'; '1' = 'Track'; '2' = 'Enforce'; 'Disabled' = 'Disabled'; 'Disable' = 'Disabled'
    'None' = 'Disabled'; 'Track' = 'Track'; 'Tracked' = 'Track'; 'Tracking' = 'Track'; 'Enforce' = 'Enforce'
    'Enforced' = 'Enforce' }

# A quota entry's account as DOMAIN\name (its User is a Win32_Account reference, as an object or as text).
function Get-QuotaAccount($Entry) {
    $user = Get-Prop $Entry 'User'
    if ($null -eq $user) { $user = Get-Prop $Entry 'Account' }
    if ($null -eq $user) { return }
    $name = Get-Prop $user 'Name'
    $domain = Get-Prop $user 'Domain'
    if ($user -is [string] -or $null -eq $name) {
        $text = [string]$user
        if ($text -match '^[^\\"]+\\[^\\"]+$') { return $text }
        $nameMatch = [regex]::Match($text, 'Name\s*=\s*"([^"]*)"')
        $domainMatch = [regex]::Match($text, 'Domain\s*=\s*"([^"]*)"')
        if (-not $nameMatch.Success -or -not $domainMatch.Success) { return }
        $name = $nameMatch.Groups[1].Value
        $domain = $domainMatch.Groups[1].Value
    }
    if (-not $domain) { return [string]$name }
    return '{0}\{1}' -f $domain, $name
}

# --- The apply -------------------------------------------------------------------------------------------

$session = $null
$stage = 'reading -ServiceJson'
$lastLine = $null
$exitCode = 0
$created = [System.Collections.Generic.List[string]]::new()
$updated = [System.Collections.Generic.List[string]]::new()
$unchanged = [System.Collections.Generic.List[string]]::new()
$skipped = [System.Collections.Generic.List[object]]::new()
$applied = [System.Collections.Generic.List[string]]::new()
$notApplied = [System.Collections.Generic.List[object]]::new()

# A setting whose command fails is reported, unless the session itself is gone (then nothing more can be
# done and the script stops with an ERROR).
function Stop-IfSessionLost($ErrorRecord) {
    if ($null -eq $session -or $session.State -ne 'Opened') { throw $ErrorRecord }
}

function Add-Skipped([string] $Name, [string] $Reason) {
    $skipped.Add([ordered]@{ name = $Name; reason = (Get-OneLine $Reason) })
}

# The share's access entries on the target, as export.ps1 records them.
function Read-ShareAccess([string] $ShareName) {
    $entries = [System.Collections.Generic.List[object]]::new()
    foreach ($entry in @(Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                Get-FSxSmbShareAccess -Name $Using:ShareName
            })) {
        $entries.Add(@{
                account = [string](Get-Prop $entry 'AccountName')
                control = Get-Name $ControlNames (Get-Prop $entry 'AccessControlType') "access control type on share '$ShareName'"
                right   = Get-Name $RightNames (Get-Prop $entry 'AccessRight') "access right on share '$ShareName'"
            })
    }
    , $entries
}

# Makes the share's access exactly the exported one. Deny entries first (Block), then the Allow entries of
# accounts not exported go (Revoke), then each exported account whose Allow entries differ gets Revoke and
# Grant of its right, and last the Deny entries not exported go (Unblock): no step opens the share wider
# than it was before or than the export says. Returns what changed and what could not be made equal; an
# error names the step that failed.
function Sync-ShareAccess([string] $ShareName, $Wanted) {
    $what = 'reading its access entries'
    $changes = [System.Collections.Generic.List[string]]::new()
    $notes = [System.Collections.Generic.List[string]]::new()
    try {
        $current = Read-ShareAccess $ShareName
        $wantedAllow = Group-AllowRights $Wanted
        $currentAllow = Group-AllowRights $current
        $wantedDeny = Get-DeniedAccounts $Wanted
        $currentDeny = Get-DeniedAccounts $current

        foreach ($account in $wantedDeny) {
            if ($currentDeny -contains $account) { continue }
            $what = "blocking $account"
            $null = Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                Block-FSxSmbShareAccess -Name $Using:ShareName -AccountName $Using:account -Force
            }
            $changes.Add("blocked $account")
        }
        foreach ($account in @($currentAllow.Keys)) {
            if ($wantedAllow.Contains($account)) { continue }
            $what = "revoking the access of $account"
            $null = Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                Revoke-FSxSmbShareAccess -Name $Using:ShareName -AccountName $Using:account -Force
            }
            $changes.Add("revoked $account (was $(@($currentAllow[$account]) -join '+'))")
        }
        foreach ($account in @($wantedAllow.Keys)) {
            $rights = $wantedAllow[$account]
            $now = @()
            if ($currentAllow.Contains($account)) { $now = @($currentAllow[$account]) }
            $right = Get-StrongestRight $rights
            if ($null -eq $right) {
                # Only a Custom entry was exported: no command creates one.
                if (-not (Test-SameRights $rights $now)) { $notes.Add("$account's Custom entry cannot be created") }
                continue
            }
            if ($now.Count -gt 0 -and @($now | Where-Object { $_ -ne $right }).Count -eq 0) { continue }
            if ($now.Count -gt 0) {
                $what = "revoking the access of $account before granting $right"
                $null = Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                    Revoke-FSxSmbShareAccess -Name $Using:ShareName -AccountName $Using:account -Force
                }
            }
            $what = "granting $right to $account"
            $null = Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                Grant-FSxSmbShareAccess -Name $Using:ShareName -AccountName $Using:account -AccessRight $Using:right -Force
            }
            $change = "granted $account $right"
            if ($now.Count -gt 0) { $change += " (was $($now -join '+'))" }
            if ($rights.Contains('Custom')) { $notes.Add("$account's Custom entry cannot be created") }
            $changes.Add($change)
        }
        foreach ($account in $currentDeny) {
            if ($wantedDeny -contains $account) { continue }
            $what = "unblocking $account"
            $null = Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                Unblock-FSxSmbShareAccess -Name $Using:ShareName -AccountName $Using:account -Force
            }
            $changes.Add("unblocked $account")
        }
    }
    catch {
        $message = "{0}: {1}" -f $what, $_.ToString()
        if ($changes.Count -gt 0) { $message += " (done before it: $($changes -join ', '))" }
        throw $message
    }
    [pscustomobject]@{ Changes = $changes; Notes = $notes }
}

try {
    # Check the whole export before touching anything: a half-read export would apply half the shares.
    $parsed = ConvertFrom-Json -InputObject $ServiceJson
    if ($null -eq $parsed) { throw 'the export is empty (null)' }
    if ($null -eq $parsed.PSObject.Properties['shares']) { throw 'the export has no "shares" (pass the whole RESULT object of export.ps1)' }
    $plan = [System.Collections.Generic.List[object]]::new()
    $names = [System.Collections.Generic.HashSet[string]]::new([StringComparer]::OrdinalIgnoreCase)
    foreach ($share in @(Get-Prop $parsed 'shares')) {
        $name = [string](Get-Prop $share 'name')
        if (-not $name) { throw 'an exported share has no "name"' }
        if (-not $names.Add($name)) { throw "share '$name' is exported twice" }
        $path = [string](Get-Prop $share 'path')
        if (-not $path) { throw "share '$name' has no ""path""" }
        $entries = [System.Collections.Generic.List[object]]::new()
        foreach ($entry in @(Get-Prop $share 'access')) {
            $account = [string](Get-Prop $entry 'account')
            if (-not $account) { throw "an access entry of share '$name' has no ""account""" }
            $entries.Add(@{
                    account = $account
                    control = Get-Name $ControlNames (Get-Prop $entry 'control') "control of $account on share '$name'"
                    right   = Get-Name $RightNames (Get-Prop $entry 'right') "right of $account on share '$name'"
                })
        }
        $plan.Add(@{
                name                  = $name
                path                  = $path
                Description           = [string](Get-Prop $share 'description')
                FolderEnumerationMode = Get-Name $FolderEnumerationNames (Get-Prop $share 'folder_enumeration_mode') "folder_enumeration_mode of share '$name'"
                CachingMode           = Get-Name $CachingNames (Get-Prop $share 'caching_mode') "caching_mode of share '$name'"
                EncryptData           = ConvertTo-Bool (Get-Prop $share 'encrypt_data') "encrypt_data of share '$name'"
                ContinuouslyAvailable = ConvertTo-Bool (Get-Prop $share 'continuously_available') "continuously_available of share '$name'"
                ConcurrentUserLimit   = [uint32](ConvertTo-Number (Get-Prop $share 'concurrent_user_limit') "concurrent_user_limit of share '$name'")
                entries               = $entries
            })
    }
    $sections = [ordered]@{}
    foreach ($section in @('shadow_copies', 'dedup', 'user_quotas', 'smb_server')) {
        $value = Get-Prop $parsed $section
        if ($null -ne $value) { $sections[$section] = $value }
    }
    Write-Line ("fsx-migrate apply on {0}: {1} shares; settings: {2}" -f $Endpoint, $plan.Count, `
            $(if ($sections.Count -gt 0) { @($sections.Keys) -join ', ' } else { 'none' }))

    # One session for every call: one Kerberos logon instead of one per Invoke-Command. The en-US UI
    # culture avoids the localization error the FSx endpoint gives some clients (FSx troubleshooting guide).
    $stage = "opening an FSxRemoteAdmin session on $Endpoint"
    $session = New-PSSession -ComputerName $Endpoint -ConfigurationName FSxRemoteAdmin `
        -SessionOption (New-PSSessionOption -UICulture 'en-US')

    # The endpoint is a restricted session (the FSx commands and little of the language): each script
    # block is a single FSx command, values go in with $Using: (as in the FSx guide), all logic runs here.
    $stage = 'listing the shares'
    $existing = @{}
    foreach ($share in @(Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock { Get-FSxSmbShare })) {
        $name = [string](Get-Prop $share 'Name')
        if ($name) { $existing[$name] = $share }
    }

    # 1. Shares.
    foreach ($want in $plan) {
        $shareName = $want.name
        $line = "Share '{0}' ({1}): " -f $shareName, $want.path
        if (Test-AdministrativeName $shareName) {
            Add-Skipped $shareName 'an administrative share: the file system manages it'
            Write-Line ($line + 'skipped: an administrative share')
            continue
        }
        $isNew = $false
        $propertyChanges = [System.Collections.Generic.List[string]]::new()
        if ($existing.ContainsKey($shareName)) {
            $have = $existing[$shareName]
            $havePath = [string](Get-Prop $have 'Path')
            if (-not (Test-SamePath $havePath $want.path)) {
                Add-Skipped $shareName "a share of that name has the path $havePath on the target"
                Write-Line ($line + "skipped: a share of that name has the path $havePath here")
                continue
            }
            # The properties that differ, and only those, with Set-FSxSmbShare.
            $params = @{}
            if ([string](Get-Prop $have 'Description') -cne $want.Description) { $params.Description = $want.Description }
            foreach ($property in @('FolderEnumerationMode', 'CachingMode')) {
                $table = if ($property -eq 'CachingMode') { $CachingNames } else { $FolderEnumerationNames }
                if ($want[$property] -eq 'Unknown') { continue }
                $now = Get-Name $table (Get-Prop $have $property) "$property of share '$shareName' on the target"
                if ($now -ne $want[$property]) { $params[$property] = $want[$property] }
            }
            foreach ($property in @('EncryptData', 'ContinuouslyAvailable')) {
                $now = ConvertTo-Bool (Get-Prop $have $property) "$property of share '$shareName' on the target"
                if ($now -ne $want[$property]) { $params[$property] = $want[$property] }
            }
            $now = ConvertTo-Number (Get-Prop $have 'ConcurrentUserLimit') "ConcurrentUserLimit of share '$shareName' on the target"
            if ([string]$now -ne [string]$want.ConcurrentUserLimit) { $params.ConcurrentUserLimit = $want.ConcurrentUserLimit }
            if ($params.Count -gt 0) {
                $changed = @($params.Keys | Sort-Object)
                $params.Name = $shareName
                $stage = "setting the properties of share '$shareName'"
                try {
                    $null = Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                        Set-FSxSmbShare @Using:params -Force
                    }
                }
                catch {
                    Stop-IfSessionLost $_
                    Add-Skipped $shareName ("its properties could not be set ({0}): {1}" -f ($changed -join ', '), $_.ToString())
                    Write-Line ($line + "skipped: Set-FSxSmbShare failed: " + (Get-OneLine $_.ToString()))
                    continue
                }
                foreach ($property in $changed) { $propertyChanges.Add($property) }
            }
        }
        else {
            # Created with its access entries, so that it is not open to Everyone for a moment (New-SmbShare
            # grants Everyone Read when no access is given); the step below then finds nothing left to do.
            $params = @{
                Name                  = $shareName
                Path                  = $want.path
                FolderEnumerationMode = $want.FolderEnumerationMode
                EncryptData           = $want.EncryptData
                ContinuouslyAvailable = $want.ContinuouslyAvailable
                ConcurrentUserLimit   = $want.ConcurrentUserLimit
            }
            if ($want.Description) { $params.Description = $want.Description }
            if ($want.CachingMode -ne 'Unknown') { $params.CachingMode = $want.CachingMode }
            $allow = Group-AllowRights $want.entries
            foreach ($pair in @(@('Full', 'FullAccess'), @('Change', 'ChangeAccess'), @('Read', 'ReadAccess'))) {
                $accounts = @($allow.Keys | Where-Object { (Get-StrongestRight $allow[$_]) -eq $pair[0] })
                if ($accounts.Count -gt 0) { $params[$pair[1]] = [string[]]$accounts }
            }
            $denied = Get-DeniedAccounts $want.entries
            if ($denied.Count -gt 0) { $params.NoAccess = $denied.ToArray() }
            $stage = "creating share '$shareName'"
            try {
                $null = Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                    New-FSxSmbShare @Using:params
                }
            }
            catch {
                Stop-IfSessionLost $_
                $message = $_.ToString()
                if ($message -match '(?i)cannot find (the )?(path|file)|system cannot find|path .{0,260}does not exist') {
                    Add-Skipped $shareName ("the folder {0} does not exist on the target: {1}" -f $want.path, $message)
                    Write-Line ($line + "skipped: the folder does not exist here")
                }
                else {
                    Add-Skipped $shareName ("New-FSxSmbShare failed: {0}" -f $message)
                    Write-Line ($line + "skipped: New-FSxSmbShare failed: " + (Get-OneLine $message))
                }
                continue
            }
            # Recorded at once: should its access fail below, the ERROR names it among the shares that stay.
            $isNew = $true
            $created.Add($shareName)
        }

        # Exactly the exported access: a failure here stops the script (a share open to the wrong accounts
        # must not look done).
        $stage = "setting the access of share '$shareName'" + $(if ($isNew) { ' (created by this run)' } else { '' })
        $access = Sync-ShareAccess $shareName $want.entries
        if ($isNew) {
            $line += 'created'
        }
        elseif ($propertyChanges.Count -gt 0 -or $access.Changes.Count -gt 0) {
            $updated.Add($shareName)
            $line += 'updated'
            if ($propertyChanges.Count -gt 0) { $line += ' (' + ($propertyChanges -join ', ') + ')' }
        }
        else {
            $unchanged.Add($shareName)
            $line += 'unchanged'
        }
        $line += '; access: '
        if ($access.Changes.Count -gt 0) { $line += $access.Changes -join ', ' }
        else { $line += "{0} {1} as exported" -f $want.entries.Count, $(if ($want.entries.Count -eq 1) { 'entry' } else { 'entries' }) }
        if ($access.Notes.Count -gt 0) { $line += '; NOT done: ' + ($access.Notes -join ', ') }
        Write-Line $line
    }

    # 2. Settings: each read first and set only where it differs; a failure is reported, not fatal.
    foreach ($section in @($sections.Keys)) {
        $want = $sections[$section]
        $done = [System.Collections.Generic.List[string]]::new()
        $stage = "reading the exported $section"
        try {
            switch ($section) {
                'shadow_copies' {
                    $maxSize = ([string](Get-Prop $want 'max_size')).Trim()
                    if (-not $maxSize) { throw 'shadow_copies has no "max_size"' }
                    $wantedTriggers = [System.Collections.Generic.List[object]]::new()
                    foreach ($trigger in @(Get-Prop $want 'schedule')) {
                        $time = ([string](Get-Prop $trigger 'time')).Trim()
                        if ($time -notmatch '^(\d{1,2}):(\d{2})$' -or [int]$Matches[1] -gt 23 -or [int]$Matches[2] -gt 59) {
                            throw "unexpected shadow copy time '$time' (HH:mm expected)"
                        }
                        $time = '{0:D2}:{1:D2}' -f [int]$Matches[1], [int]$Matches[2]
                        $days = Get-DayNames @(Get-Prop $trigger 'days_of_week')
                        if ($days.Count -eq 0) { throw "a shadow copy trigger at $time has no days" }
                        $wantedTriggers.Add([ordered]@{ days_of_week = $days.ToArray(); time = $time })
                    }
                    $wantedTriggers = Get-SortedTriggers $wantedTriggers

                    $stage = 'reading the shadow copy storage'
                    $current = $null
                    try {
                        $storage = @(Select-WithProperty (Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                                    Get-FSxShadowStorage
                                }) @('MaxSpace'))
                        if ($storage.Count -gt 0) { $current = Get-MaxSize (Get-Prop $storage[0] 'MaxSpace') }
                    }
                    catch {
                        Stop-IfSessionLost $_
                        if ($_.ToString() -notmatch '(?i)no fsx shadow storage') { throw }
                    }
                    # A percentage cannot be compared with the bytes FSx reports: it is set again (same result).
                    if ($null -eq $current -or $current -ne $maxSize) {
                        $stage = 'setting the shadow copy storage'
                        $null = Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                            Set-FSxShadowStorage -Maxsize $Using:maxSize
                        }
                        $done.Add("storage set to $maxSize")
                    }

                    if ($wantedTriggers.Count -eq 0) {
                        $done.Add('no schedule exported: the schedule here is left as it is')
                    }
                    else {
                        $stage = 'reading the shadow copy schedule'
                        $currentTriggers = ConvertTo-Schedule (Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                                Get-FSxShadowCopySchedule
                            })
                        if (-not (Test-SameJson $currentTriggers $wantedTriggers)) {
                            # Triggers are made here (ScheduledTasks module) and passed in, as the FSx guide
                            # shows. The exported times are UTC: each is given as the same instant in this
                            # host's time zone.
                            $stage = 'setting the shadow copy schedule'
                            $triggers = @(foreach ($trigger in $wantedTriggers) {
                                    $at = [DateTime]::ParseExact($trigger.time, 'HH:mm', [System.Globalization.CultureInfo]::InvariantCulture,
                                        ([System.Globalization.DateTimeStyles]::AssumeUniversal -bor [System.Globalization.DateTimeStyles]::AdjustToUniversal))
                                    New-ScheduledTaskTrigger -Weekly -DaysOfWeek $trigger.days_of_week `
                                        -At ([DateTime]::SpecifyKind($at, [System.DateTimeKind]::Utc).ToLocalTime())
                                })
                            $null = Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                                Set-FSxShadowCopySchedule -ScheduledTaskTriggers $Using:triggers -Confirm:$false
                            }
                            $done.Add("schedule set: " + ((@($wantedTriggers | ForEach-Object { '{0} {1}' -f ($_.days_of_week -join ','), $_.time })) -join '; ') + ' (UTC)')
                        }
                    }
                }
                'dedup' {
                    if (-not (ConvertTo-Bool (Get-Prop $want 'enabled') 'dedup enabled')) {
                        # export.ps1 writes null for deduplication not enabled; nothing is turned off here.
                        $done.Add('"enabled" is false: left as it is')
                        break
                    }
                    $configuration = Get-Prop $want 'configuration'
                    $wanted = [ordered]@{}
                    if ($null -ne $configuration) {
                        foreach ($property in $configuration.PSObject.Properties) {
                            $wanted[$property.Name] = ConvertTo-DedupValue $property.Name $property.Value
                        }
                    }
                    $readDedup = {
                        @(Select-WithProperty (Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                                    Get-FSxDedupConfiguration
                                }) (@('Enabled') + @($wanted.Keys)))
                    }
                    $volumes = @()
                    $stage = 'reading the data deduplication configuration'
                    # Get-FSxDedupConfiguration may fail when deduplication was never enabled: it is enabled then.
                    try { $volumes = @(& $readDedup) }
                    catch { Stop-IfSessionLost $_ }
                    $enabled = $volumes.Count -gt 0
                    if ($enabled -and $null -ne (Get-Prop $volumes[0] 'Enabled')) {
                        $enabled = ConvertTo-Bool (Get-Prop $volumes[0] 'Enabled') 'deduplication Enabled'
                    }
                    if (-not $enabled) {
                        $stage = 'enabling data deduplication'
                        $null = Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock { Enable-FSxDedup }
                        $done.Add('enabled')
                        $stage = 'reading the data deduplication configuration'
                        $volumes = @(& $readDedup)
                        if ($volumes.Count -eq 0) { throw 'Get-FSxDedupConfiguration returned no configuration after Enable-FSxDedup' }
                    }
                    $params = @{}
                    foreach ($name in @($wanted.Keys)) {
                        $now = $null
                        if ($null -ne $volumes[0].PSObject.Properties[$name]) { $now = ConvertTo-DedupValue $name (Get-Prop $volumes[0] $name) }
                        if ($null -eq $now -or -not (Test-SameJson $now $wanted[$name])) { $params[$name] = $wanted[$name] }
                    }
                    if ($params.Count -gt 0) {
                        $stage = 'setting the data deduplication configuration'
                        $null = Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                            Set-FSxDedupConfiguration @Using:params
                        }
                        $done.Add('set ' + ((@($params.Keys | Sort-Object)) -join ', '))
                    }
                }
                'user_quotas' {
                    $enforce = ConvertTo-Bool (Get-Prop $want 'enforce') 'user_quotas enforce'
                    $mode = if ($enforce) { 'Enforce' } else { 'Track' }
                    $defaultLimit = ConvertTo-Number (Get-Prop $want 'default_limit') 'default_limit'
                    $defaultWarning = ConvertTo-Number (Get-Prop $want 'default_warning_limit') 'default_warning_limit'
                    $wantedEntries = [System.Collections.Generic.List[object]]::new()
                    foreach ($entry in @(Get-Prop $want 'entries')) {
                        $account = [string](Get-Prop $entry 'account')
                        if ($account -notmatch '^([^\\]+)\\(.+)$') { throw "quota entry account '$account' is not DOMAIN\name" }
                        $domain = $Matches[1]
                        $user = $Matches[2]
                        $wantedEntries.Add(@{
                                account = $account; domain = $domain; name = $user
                                limit   = ConvertTo-Number (Get-Prop $entry 'limit') "quota limit of $account"
                                warning = ConvertTo-Number (Get-Prop $entry 'warning_limit') "quota warning limit of $account"
                            })
                    }

                    $stage = 'reading the user quota settings'
                    $settings = @(Select-WithProperty (Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                                Get-FSxUserQuotaSettings
                            }) @('State', 'DefaultLimit'))
                    $same = $false
                    if ($settings.Count -gt 0) {
                        $state = Get-Name $QuotaStates (Get-Prop $settings[0] 'State') 'user quota state'
                        $same = $state -eq $mode -and
                        [string](ConvertTo-Number (Get-Prop $settings[0] 'DefaultLimit') 'default quota limit') -eq [string]$defaultLimit -and
                        [string](ConvertTo-Number (Get-Prop $settings[0] 'DefaultWarningLimit') 'default quota warning limit') -eq [string]$defaultWarning
                    }
                    if (-not $same) {
                        $stage = 'enabling user quotas'
                        $params = @{ DefaultLimit = $defaultLimit; DefaultWarningLimit = $defaultWarning }
                        $params[$mode] = $true
                        $null = Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                            Enable-FSxUserQuotas @Using:params
                        }
                        $done.Add("{0} with default limit {1}, warning {2}" -f $(if ($enforce) { 'enforced' } else { 'tracked' }), $defaultLimit, $defaultWarning)
                    }

                    if ($wantedEntries.Count -gt 0) {
                        $stage = 'reading the user quota entries'
                        $currentEntries = @{}
                        foreach ($entry in @(Select-WithProperty (Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                                        Get-FSxUserQuotaEntries
                                    }) @('Limit', 'WarningLimit'))) {
                            $account = Get-QuotaAccount $entry
                            if (-not $account) { continue }
                            $currentEntries[$account] = '{0}/{1}' -f (ConvertTo-Number (Get-Prop $entry 'Limit') "quota limit of $account"), `
                            (ConvertTo-Number (Get-Prop $entry 'WarningLimit') "quota warning limit of $account")
                        }
                        $set = 0
                        foreach ($entry in $wantedEntries) {
                            if ($currentEntries.ContainsKey($entry.account) -and $currentEntries[$entry.account] -eq ('{0}/{1}' -f $entry.limit, $entry.warning)) { continue }
                            $stage = "setting the user quota of $($entry.account)"
                            $domain = $entry.domain
                            $user = $entry.name
                            $limit = $entry.limit
                            $warning = $entry.warning
                            $null = Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                                Set-FSxUserQuotas -Domain $Using:domain -Name $Using:user -Limit $Using:limit -WarningLimit $Using:warning
                            }
                            $set++
                        }
                        if ($set -gt 0) { $done.Add("$set of $($wantedEntries.Count) quota entries set") }
                    }
                }
                'smb_server' {
                    $stage = 'reading the SMB server configuration'
                    $configs = @(Select-WithProperty (Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                                Get-FSxSmbServerConfiguration
                            }) @($want.PSObject.Properties | ForEach-Object { $_.Name }))
                    $params = @{}
                    foreach ($property in $want.PSObject.Properties) {
                        $now = $null
                        if ($configs.Count -gt 0) { $now = Get-Prop $configs[0] $property.Name }
                        if ($property.Value -is [bool]) {
                            if ($null -ne $now -and (ConvertTo-Bool $now "SMB server setting $($property.Name)") -eq $property.Value) { continue }
                        }
                        elseif ($null -ne $now -and [string]$now -eq [string]$property.Value) { continue }
                        $params[$property.Name] = $property.Value
                    }
                    if ($params.Count -gt 0) {
                        $stage = 'setting the SMB server configuration'
                        $null = Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                            Set-FSxSmbServerConfiguration @Using:params -Confirm:$false
                        }
                        $done.Add('set ' + ((@($params.Keys | Sort-Object | ForEach-Object { '{0}={1}' -f $_, $params[$_] })) -join ', '))
                    }
                }
            }
            $applied.Add($section)
            Write-Line ("Setting {0}: {1}" -f $section, $(if ($done.Count -gt 0) { $done -join '; ' } else { 'already as exported' }))
        }
        catch {
            Stop-IfSessionLost $_
            $notApplied.Add([ordered]@{ setting = $section; reason = (Get-OneLine ("{0}: {1}" -f $stage, $_.ToString())) })
            $line = "Setting {0}: NOT applied ({1}: {2})" -f $section, $stage, (Get-OneLine $_.ToString())
            if ($done.Count -gt 0) { $line += '; done before the error: ' + ($done -join '; ') }
            Write-Line $line
        }
    }

    $result = [ordered]@{
        created     = $created
        updated     = $updated
        unchanged   = $unchanged
        skipped     = $skipped
        applied     = $applied
        not_applied = $notApplied
    }
    $lastLine = 'FSXMIGRATE-RESULT ' + (ConvertTo-AsciiJson $result)
}
catch {
    # The error as PowerShell shows it (with the remote computer's name for remoting errors).
    $message = "{0}: {1}" -f $stage, $_.ToString()
    if ($null -eq $session) {
        $message += ' Nothing was changed.'
    }
    else {
        if ($created.Count + $updated.Count -gt 0) {
            $message += " Shares created or changed before the error stay so (created: {0}; updated: {1})." -f `
                $(if ($created.Count -gt 0) { $created -join ', ' } else { 'none' }), `
                $(if ($updated.Count -gt 0) { $updated -join ', ' } else { 'none' })
        }
        else {
            $message += ' No share had been created or updated before it.'
        }
        $message += ' Nothing is rolled back: run apply again, it is idempotent and finishes the job.'
    }
    $lastLine = 'FSXMIGRATE-ERROR ' + (Get-OneLine $message)
    $exitCode = 1
}
finally {
    if ($null -ne $session) { Remove-PSSession -Session $session -ErrorAction SilentlyContinue }
}

Write-Line $lastLine
[Console]::Out.Flush()
exit $exitCode
