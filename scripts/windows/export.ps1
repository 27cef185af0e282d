<#
.SYNOPSIS
Reads what DataSync does not copy from an FSx for Windows File Server file system: its SMB shares with their
access entries, and the in-server settings (shadow copies, data deduplication, user quotas, SMB server).

.DESCRIPTION
Runs on a domain-joined Windows host (fsx-migrate sends it through SSM AWS-RunPowerShellScript) and talks to
the file system's Windows Remote PowerShell endpoint (the FSxRemoteAdmin session configuration). It changes
nothing: fsx-migrate runs it on the source (before the copy of the shares, and at plan time) and on the
target (to check what apply.ps1 did).

1. Shares (Get-FSxSmbShare), but the administrative ones, each with its access entries
   (Get-FSxSmbShareAccess). A failure here stops the export.
2. Shadow copies: the storage limit (Get-FSxShadowStorage) and the schedule (Get-FSxShadowCopySchedule).
3. Data deduplication: the settings Set-FSxDedupConfiguration takes back (Get-FSxDedupConfiguration), and
   whether custom job schedules exist (Get-FSxDedupSchedule).
4. User quotas: the mode and default limits (Get-FSxUserQuotaSettings) and the entries whose limits differ
   from the defaults (Get-FSxUserQuotaEntries).
5. SMB server: EncryptData and RejectUnencryptedAccess (Get-FSxSmbServerConfiguration).
A setting whose command fails is exported as null and listed in "not_exported" with the error; the export
goes on. What no FSx command reads (FSRM) is listed in "not_exported" too.

Standard output: progress lines, then as the very last line either
    FSXMIGRATE-RESULT {"shares":[...],"shadow_copies":...,"dedup":...,"user_quotas":...,"smb_server":...,"not_exported":[...]}
or
    FSXMIGRATE-ERROR <message>
with exit code 1. apply.ps1 takes the RESULT JSON back. See README.md beside this file.

.PARAMETER Endpoint
The file system's Windows Remote PowerShell endpoint (DescribeFileSystems:
WindowsConfiguration.RemoteAdministrationEndpoint), e.g. amznfsxa1b2c3d4.corp.example.com.

.EXAMPLE
.\export.ps1 -Endpoint amznfsxa1b2c3d4.corp.example.com
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [string] $Endpoint
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

# Objects come back from the remote session deserialized; a property the FSx commands do not send must not
# stop the script under StrictMode.
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

# Enum-valued properties arrive through remoting as their names, or as the bare numbers if the enum type is
# lost on the way; both are accepted (hashtable keys are compared without regard to case). The numbers are
# those of MSFT_SmbShareAccessControlEntry and MSFT_SmbShare. Anything else stops the export: a share
# recorded wrongly would be created wrongly.
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

# Sizes and counts as JSON numbers (UInt64 for the "no limit" value 18446744073709551615).
function ConvertTo-Number($Value, [string] $What) {
    $number = [decimal]0
    if (-not [decimal]::TryParse(([string]$Value).Trim(), [System.Globalization.NumberStyles]::Integer,
            [System.Globalization.CultureInfo]::InvariantCulture, [ref]$number)) {
        throw "unexpected $What '$Value' (not a whole number)"
    }
    if ($number -lt 0) { return [int64]$number }
    return [uint64]$number
}

# Administrative shares (ADMIN$, IPC$, the drive shares such as D$) are skipped: they are not the users'
# shares and the file system manages them. A share the users created with a name ending in '$' (hidden from
# browsing, e.g. home$) is an ordinary share and is exported like the rest.
function Test-AdministrativeShare($Share, [string] $Name) {
    if (-not $Name.EndsWith('$')) { return $false }
    if ((Get-Prop $Share 'Special') -eq $true) { return $true }
    return $Name -match '^(ADMIN|IPC|PRINT|[A-Za-z])\$$'
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

# The parameters a command of the endpoint takes, from its syntax (a string, which survives remoting
# whole), or $null when the endpoint does not tell (then the caller keeps to what the FSx guide documents).
function Get-CommandParameters([string] $Command) {
    try {
        $syntax = @(Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                Get-Command -Name $Using:Command -Syntax
            }) -join ' '
    }
    catch {
        return $null
    }
    $names = [System.Collections.Generic.HashSet[string]]::new([StringComparer]::OrdinalIgnoreCase)
    foreach ($match in [regex]::Matches($syntax, '(?<![\w-])-([A-Za-z]\w*)')) {
        [void]$names.Add($match.Groups[1].Value)
    }
    if ($names.Count -eq 0) { return $null }
    , $names
}

# --- Shadow copies ---------------------------------------------------------------------------------------

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

# A trigger's start time as HH:mm in UTC (FSx shows "2019-07-16T07:00:00+00:00"; a time without an offset
# is taken as UTC, the file server's time zone).
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

# The schedule's triggers as {days_of_week, time}, in a stable order (so that two exports compare), with
# notes on what the form cannot carry. The objects are scheduled task triggers, or the FSx command's own
# objects ("Start Time", "Days of week", "WeeksInterval"); both are read.
function ConvertTo-Schedule($Objects, $Notes) {
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
            # A daily trigger: every day if its interval is one day.
            $interval = Get-Prop $trigger 'DaysInterval'
            if ($null -ne $interval -and [int]$interval -eq 1) { $daysValue = 127 }
            else {
                $Notes.Add("a shadow copy trigger starting $start that is neither weekly nor daily")
                continue
            }
        }
        $weeks = Get-Prop $trigger 'WeeksInterval'
        if ($null -ne $weeks -and [int]$weeks -ne 1) {
            $Notes.Add("the shadow copy trigger starting $start runs every $weeks weeks; it is carried as every week")
        }
        $days = Get-DayNames $daysValue
        if ($days.Count -eq 0) { continue }
        $triggers.Add([ordered]@{ days_of_week = $days.ToArray(); time = Get-TriggerTime $start })
    }
    $sorted = [System.Collections.Generic.List[object]]::new()
    foreach ($trigger in @($triggers | Sort-Object -Property @{ Expression = { $_.time } }, @{ Expression = { $_.days_of_week -join ',' } })) {
        $sorted.Add($trigger)
    }
    , $sorted
}

# Get-FSxShadowStorage's MaxSpace (bytes) as Set-FSxShadowStorage -Maxsize takes it back: "UNBOUNDED" for
# no limit, else the byte count as a string.
function Get-MaxSize($MaxSpace) {
    $text = ([string]$MaxSpace).Trim()
    if ($text -eq '-1' -or $text -eq [string][uint64]::MaxValue -or $text -match '^(?i)unbounded$') { return 'UNBOUNDED' }
    return [string](ConvertTo-Number $MaxSpace 'shadow copy storage size')
}

# --- Data deduplication ----------------------------------------------------------------------------------

# Set-FSxDedupConfiguration's settings, named as the parameters of Set-DedupVolume it mirrors. Those the FSx
# guide names (minimum file size and age, compression, excluded file types and folders) are exported when the
# endpoint does not list the command's parameters; the others only when it lists them.
$DedupDocumented = @('MinimumFileAgeDays', 'MinimumFileSize', 'NoCompress', 'NoCompressionFileType',
    'ExcludeFileType', 'ExcludeFolder')
$DedupOthers = @('ChunkRedundancyThreshold', 'OptimizeInUseFiles', 'OptimizePartialFiles', 'Verify', 'InputOutputScale')
$DedupArrays = @('NoCompressionFileType', 'ExcludeFileType', 'ExcludeFolder')
$DedupBooleans = @('NoCompress', 'OptimizeInUseFiles', 'OptimizePartialFiles', 'Verify')
# The job schedules Windows creates when deduplication is turned on.
$DedupDefaultSchedules = @('BackgroundOptimization', 'PriorityOptimization', 'ThroughputOptimization',
    'WeeklyGarbageCollection', 'WeeklyScrubbing')

# One setting as JSON takes it: lists sorted (their order means nothing), booleans, numbers. A list is
# returned as a List, never as an array: Windows PowerShell's ConvertTo-Json writes an array that went
# through a function's output as {"value":[...],"Count":n}.
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

# --- User quotas -----------------------------------------------------------------------------------------

# Get-FSxUserQuotaSettings' State, as a name ("Enforce" in FSx's output) or as Win32_QuotaSetting's number.
$QuotaStates = @{ '0' = 'Disabled'; '1' = 'Track'; '2' = 'Enforce'; 'Disabled' = 'Disabled'; 'Disable' = 'Disabled'
    'None' = 'Disabled'; 'Track' = 'Track'; 'Tracked' = 'Track'; 'Tracking' = 'Track'; 'Enforce' = 'Enforce'
    'Enforced' = 'Enforce' }

# A quota entry's account as DOMAIN\name: its User is a Win32_Account reference (Name, Domain), which may
# arrive as an object or as its text 'Win32_Account (Name = "alice", Domain = "CORP")'.
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

# Quota entries of the file server's own accounts (BUILTIN\Administrators has no limit by default) are
# Windows' defaults on both file systems and no user's setting.
function Test-LocalAccount([string] $Account) {
    return $Account -match '^(BUILTIN|NT AUTHORITY|NT SERVICE)\\'
}

# --- SMB server ------------------------------------------------------------------------------------------

# The settings Set-FSxSmbServerConfiguration takes on FSx (FSx guide, "Encryption of data in transit").
$SmbServerSettings = @('EncryptData', 'RejectUnencryptedAccess')

# --- The export ------------------------------------------------------------------------------------------

$session = $null
$stage = 'starting'
$lastLine = $null
$exitCode = 0
$notExported = [System.Collections.Generic.List[object]]::new()
function Add-NotExported([string] $Setting, [string] $Reason) {
    $notExported.Add([ordered]@{ setting = $Setting; reason = (Get-OneLine $Reason) })
}

# A setting whose command fails is exported as null and listed as not exported, unless the session itself
# is gone (then the export cannot go on and stops with an ERROR).
function Stop-IfSessionLost($ErrorRecord) {
    if ($null -eq $session -or $session.State -ne 'Opened') { throw $ErrorRecord }
}

try {
    Write-Line ("fsx-migrate export on {0}" -f $Endpoint)

    # One session for every call: one Kerberos logon instead of one per Invoke-Command. The en-US UI
    # culture avoids the localization error the FSx endpoint gives some clients (FSx troubleshooting guide).
    $stage = "opening an FSxRemoteAdmin session on $Endpoint"
    $session = New-PSSession -ComputerName $Endpoint -ConfigurationName FSxRemoteAdmin `
        -SessionOption (New-PSSessionOption -UICulture 'en-US')

    # The endpoint is a restricted session (the FSx commands and little of the language): each script
    # block is a single FSx command, values go in with $Using: (as in the FSx guide), all logic runs here.

    # 1. Shares: a failure here stops the export (a partial list would be applied as the whole).
    $stage = 'listing the shares'
    $allShares = @(Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock { Get-FSxSmbShare })
    $shares = [System.Collections.Generic.List[object]]::new()
    $skipped = [System.Collections.Generic.List[string]]::new()
    foreach ($share in $allShares) {
        $name = [string](Get-Prop $share 'Name')
        if (-not $name) { continue }
        if (Test-AdministrativeShare $share $name) { $skipped.Add($name); continue }
        $stage = "reading share '$name'"
        $record = [ordered]@{
            name                    = $name
            path                    = [string](Get-Prop $share 'Path')
            description             = [string](Get-Prop $share 'Description')
            folder_enumeration_mode = Get-Name $FolderEnumerationNames (Get-Prop $share 'FolderEnumerationMode') "folder enumeration mode of share '$name'"
            caching_mode            = Get-Name $CachingNames (Get-Prop $share 'CachingMode') "caching mode of share '$name'"
            encrypt_data            = ConvertTo-Bool (Get-Prop $share 'EncryptData') "EncryptData of share '$name'"
            continuously_available  = ConvertTo-Bool (Get-Prop $share 'ContinuouslyAvailable') "ContinuouslyAvailable of share '$name'"
            concurrent_user_limit   = [uint64](ConvertTo-Number (Get-Prop $share 'ConcurrentUserLimit') "ConcurrentUserLimit of share '$name'")
            access                  = $null
        }
        $stage = "reading the access entries of share '$name'"
        $access = [System.Collections.Generic.List[object]]::new()
        foreach ($entry in @(Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                    Get-FSxSmbShareAccess -Name $Using:name
                })) {
            $access.Add([ordered]@{
                    account = [string](Get-Prop $entry 'AccountName')
                    control = Get-Name $ControlNames (Get-Prop $entry 'AccessControlType') "access control type on share '$name'"
                    right   = Get-Name $RightNames (Get-Prop $entry 'AccessRight') "access right on share '$name'"
                })
        }
        $record.access = $access
        $shares.Add($record)
        $line = "Share '{0}' ({1}): {2} access {3}" -f $name, $record.path, $access.Count, `
            $(if ($access.Count -eq 1) { 'entry' } else { 'entries' })
        $traits = @()
        if ($record.folder_enumeration_mode -eq 'AccessBased') { $traits += 'access-based enumeration' }
        if ($record.caching_mode -ne 'Manual') { $traits += "caching $($record.caching_mode)" }
        if ($record.encrypt_data) { $traits += 'encrypted' }
        if ($record.continuously_available) { $traits += 'continuously available' }
        if ($record.concurrent_user_limit -gt 0) { $traits += "at most $($record.concurrent_user_limit) users" }
        if ($traits.Count -gt 0) { $line += '; ' + ($traits -join ', ') }
        Write-Line $line
    }
    if ($skipped.Count -gt 0) {
        Write-Line ("Skipped administrative shares: {0}" -f ($skipped -join ', '))
    }

    # 2. Shadow copies: null when no shadow storage is configured.
    $shadowCopies = $null
    try {
        $stage = 'reading the shadow copy storage'
        $storage = @(Select-WithProperty (Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                    Get-FSxShadowStorage
                }) @('MaxSpace'))
        if ($storage.Count -eq 0) {
            Write-Line 'Shadow copies: not configured'
        }
        else {
            $maxSize = Get-MaxSize (Get-Prop $storage[0] 'MaxSpace')
            $stage = 'reading the shadow copy schedule'
            $notes = [System.Collections.Generic.List[string]]::new()
            $schedule = ConvertTo-Schedule (Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                    Get-FSxShadowCopySchedule
                }) $notes
            $shadowCopies = [ordered]@{ max_size = $maxSize; schedule = $schedule }
            foreach ($note in $notes) { Add-NotExported 'shadow copy schedule' $note }
            $times = @($schedule | ForEach-Object { '{0} {1}' -f ($_.days_of_week -join ','), $_.time })
            Write-Line ("Shadow copies: storage at most {0}{1}; schedule: {2}" -f $maxSize, `
                    $(if ($maxSize -match '^\d+$') { ' bytes' } else { '' }), `
                    $(if ($times.Count -gt 0) { ($times -join '; ') + ' (UTC)' } else { 'none' }))
        }
    }
    catch {
        Stop-IfSessionLost $_
        $shadowCopies = $null
        # Should the command report "No Fsx Shadow Storage Configured" as an error rather than as output.
        if ($stage -eq 'reading the shadow copy storage' -and $_.ToString() -match '(?i)no fsx shadow storage') {
            Write-Line 'Shadow copies: not configured'
        }
        else {
            Add-NotExported 'shadow_copies' ("{0}: {1}" -f $stage, $_.ToString())
            Write-Line ("Shadow copies: not exported ({0}: {1})" -f $stage, (Get-OneLine $_.ToString()))
        }
    }

    # 3. Data deduplication: null when it is not enabled.
    $dedup = $null
    try {
        $stage = 'reading the data deduplication configuration'
        $volumes = @(Select-WithProperty (Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                    Get-FSxDedupConfiguration
                }) (@('Enabled') + $DedupDocumented + $DedupOthers))
        $enabled = $volumes.Count -gt 0
        if ($enabled -and $null -ne (Get-Prop $volumes[0] 'Enabled')) {
            $enabled = ConvertTo-Bool (Get-Prop $volumes[0] 'Enabled') 'deduplication Enabled'
        }
        if (-not $enabled) {
            Write-Line 'Data deduplication: not enabled'
        }
        else {
            $settable = Get-CommandParameters 'Set-FSxDedupConfiguration'
            $configuration = [ordered]@{}
            foreach ($name in ($DedupDocumented + $DedupOthers)) {
                if ($null -eq $volumes[0].PSObject.Properties[$name]) { continue }
                if ($null -eq $settable) {
                    if ($DedupDocumented -notcontains $name) { continue }
                }
                elseif (-not $settable.Contains($name)) { continue }
                $configuration[$name] = ConvertTo-DedupValue $name (Get-Prop $volumes[0] $name)
            }
            $dedup = [ordered]@{ enabled = $true; configuration = $configuration }
            $shown = @($configuration.Keys | ForEach-Object {
                    $value = $configuration[$_]
                    if ($value -is [System.Collections.Generic.List[string]]) { '{0}=[{1}]' -f $_, ($value -join ',') } else { '{0}={1}' -f $_, $value }
                })
            Write-Line ("Data deduplication: enabled; {0}" -f ($shown -join ', '))

            # Custom job schedules are not carried: the target gets the ones Enable-FSxDedup creates.
            try {
                $stage = 'reading the data deduplication schedules'
                $custom = @(Select-WithProperty (Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                            Get-FSxDedupSchedule
                        }) @('Name') | ForEach-Object { [string](Get-Prop $_ 'Name') } |
                        Where-Object { $_ -and $DedupDefaultSchedules -notcontains $_ })
                if ($custom.Count -gt 0) {
                    Add-NotExported 'data deduplication schedules' ("custom schedules {0} are not carried: the target has the default schedules Enable-FSxDedup creates; recreate them with New-FSxDedupSchedule (Get-FSxDedupSchedule shows them)" -f ($custom -join ', '))
                }
            }
            catch {
                Stop-IfSessionLost $_
                Add-NotExported 'data deduplication schedules' ("{0}: {1}" -f $stage, $_.ToString())
            }
        }
    }
    catch {
        Stop-IfSessionLost $_
        $dedup = $null
        Add-NotExported 'dedup' ("{0}: {1}" -f $stage, $_.ToString())
        Write-Line ("Data deduplication: not exported ({0}: {1})" -f $stage, (Get-OneLine $_.ToString()))
    }

    # 4. User quotas: null when neither tracked nor enforced.
    $userQuotas = $null
    try {
        $stage = 'reading the user quota settings'
        $settings = @(Select-WithProperty (Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                    Get-FSxUserQuotaSettings
                }) @('State', 'DefaultLimit'))
        $state = 'Disabled'
        if ($settings.Count -gt 0) {
            $state = Get-Name $QuotaStates (Get-Prop $settings[0] 'State') 'user quota state'
        }
        if ($state -eq 'Disabled') {
            Write-Line 'User quotas: not enabled'
        }
        else {
            $defaultLimit = ConvertTo-Number (Get-Prop $settings[0] 'DefaultLimit') 'default quota limit'
            $defaultWarning = ConvertTo-Number (Get-Prop $settings[0] 'DefaultWarningLimit') 'default quota warning limit'
            $stage = 'reading the user quota entries'
            $entries = [System.Collections.Generic.List[object]]::new()
            $unreadable = 0
            $atDefaults = 0
            foreach ($entry in @(Select-WithProperty (Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                            Get-FSxUserQuotaEntries
                        }) @('Limit', 'WarningLimit'))) {
                $account = Get-QuotaAccount $entry
                if (-not $account) { $unreadable++; continue }
                if (Test-LocalAccount $account) { continue }
                $limit = ConvertTo-Number (Get-Prop $entry 'Limit') "quota limit of $account"
                $warning = ConvertTo-Number (Get-Prop $entry 'WarningLimit') "quota warning limit of $account"
                # Entries at the defaults are the ones Windows creates for every owner of files: the target
                # creates them the same way.
                if ([string]$limit -eq [string]$defaultLimit -and [string]$warning -eq [string]$defaultWarning) { $atDefaults++; continue }
                $entries.Add([ordered]@{ account = $account; limit = $limit; warning_limit = $warning })
            }
            $sorted = [System.Collections.Generic.List[object]]::new()
            foreach ($entry in @($entries | Sort-Object -Property @{ Expression = { $_.account.ToLowerInvariant() } })) {
                $sorted.Add($entry)
            }
            if ($unreadable -gt 0) {
                Add-NotExported 'user quota entries' "$unreadable quota entries name no account this script can read; set them by hand with Set-FSxUserQuotas"
            }
            $userQuotas = [ordered]@{
                enforce               = ($state -eq 'Enforce')
                default_limit         = $defaultLimit
                default_warning_limit = $defaultWarning
                entries               = $sorted
            }
            Write-Line ("User quotas: {0}; default limit {1}, warning {2}; {3} {4} with other limits ({5} at the defaults)" -f `
                    $(if ($state -eq 'Enforce') { 'enforced' } else { 'tracked' }), $defaultLimit, $defaultWarning, `
                    $sorted.Count, $(if ($sorted.Count -eq 1) { 'entry' } else { 'entries' }), $atDefaults)
        }
    }
    catch {
        Stop-IfSessionLost $_
        $userQuotas = $null
        Add-NotExported 'user_quotas' ("{0}: {1}" -f $stage, $_.ToString())
        Write-Line ("User quotas: not exported ({0}: {1})" -f $stage, (Get-OneLine $_.ToString()))
    }

    # 5. SMB server settings.
    $smbServer = $null
    try {
        $stage = 'reading the SMB server configuration'
        $configs = @(Select-WithProperty (Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                    Get-FSxSmbServerConfiguration
                }) $SmbServerSettings)
        if ($configs.Count -eq 0) { throw 'Get-FSxSmbServerConfiguration returned no configuration' }
        $settable = Get-CommandParameters 'Set-FSxSmbServerConfiguration'
        $smbServer = [ordered]@{}
        foreach ($name in $SmbServerSettings) {
            if ($null -eq $configs[0].PSObject.Properties[$name]) { continue }
            if ($null -ne $settable -and -not $settable.Contains($name)) {
                Add-NotExported "SMB server setting $name" 'Set-FSxSmbServerConfiguration does not take it on this file system'
                continue
            }
            $smbServer[$name] = ConvertTo-Bool (Get-Prop $configs[0] $name) "SMB server setting $name"
        }
        Write-Line ("SMB server: {0}" -f ((@($smbServer.Keys | ForEach-Object { '{0}={1}' -f $_, $smbServer[$_] })) -join ', '))
    }
    catch {
        Stop-IfSessionLost $_
        $smbServer = $null
        Add-NotExported 'smb_server' ("{0}: {1}" -f $stage, $_.ToString())
        Write-Line ("SMB server: not exported ({0}: {1})" -f $stage, (Get-OneLine $_.ToString()))
    }

    # What no FSx remote PowerShell command reads.
    Add-NotExported 'FSRM quotas, file screens and classification' `
        'Amazon FSx has no remote PowerShell commands for them (FSRM is turned on with the FSx API and managed with the FSRM snap-in, fsrm.msc): copy them with the snap-in'
    foreach ($item in $notExported) {
        Write-Line ("Not exported: {0}: {1}" -f $item.setting, $item.reason)
    }

    $result = [ordered]@{
        shares        = $shares
        shadow_copies = $shadowCopies
        dedup         = $dedup
        user_quotas   = $userQuotas
        smb_server    = $smbServer
        not_exported  = $notExported
    }
    $lastLine = 'FSXMIGRATE-RESULT ' + (ConvertTo-AsciiJson $result)
}
catch {
    # The error as PowerShell shows it (with the remote computer's name for remoting errors).
    $message = "{0}: {1} Nothing was changed (the export only reads)." -f $stage, $_.ToString()
    $lastLine = 'FSXMIGRATE-ERROR ' + (Get-OneLine $message)
    $exitCode = 1
}
finally {
    if ($null -ne $session) { Remove-PSSession -Session $session -ErrorAction SilentlyContinue }
}

Write-Line $lastLine
[Console]::Out.Flush()
exit $exitCode
