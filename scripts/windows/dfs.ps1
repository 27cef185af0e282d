<#
.SYNOPSIS
Reads, switches or checks the targets of a DFS namespace folder through which users reach an FSx for
Windows File Server file system (e.g. \\corp.example.com\files\data -> \\amznfsxa1b2c3d4.corp.example.com\share\data).

.DESCRIPTION
Runs on a domain-joined Windows host; fsx-migrate sends it through SSM AWS-RunPowerShellScript. It needs the
DFS Namespaces PowerShell module (DFSN, from RSAT-DFS-Mgmt-Con: Install-WindowsFeature RSAT-DFS-Mgmt-Con).
The folder's "value" is the host name of the server in its one ONLINE target.

-Action Read: the folder's targets (Get-DfsnFolderTarget) and its referral TTL (Get-DfsnFolder).
    FSXMIGRATE-RESULT {"record":{"name":"\\\\corp.example.com\\files\\data","type":"DFS","values":["amznfsxa1b2c3d4.corp.example.com"],"ttl":300,"targets":[{"path":"...","state":"Online"}]}}
or  FSXMIGRATE-RESULT {"record":null} when the folder does not exist.

-Action Set (needs -Value and -Ttl): makes \\<Value>\<SharePath> the folder's only ONLINE target: added
(New-DfsnFolderTarget -State Online) or set online (Set-DfsnFolderTarget -State Online) FIRST, then every
other target set OFFLINE (never removed: a rollback turns it back on), then the referral TTL set
(Set-DfsnFolder -TimeToLiveSec). Idempotent. A folder that does not exist is an error (nothing is created).
    FSXMIGRATE-RESULT {"record":{...as Read...},"changed":true}

-Action Check (needs -Value): reads the folder's targets again and says whether \\<Value>\... is the only
online one. (The targets are read once, from the namespace as the domain serves it; clients cache referrals
for the folder's TTL, which is why fsx-migrate lowers it first.)
    FSXMIGRATE-RESULT {"servers":[{"server":"namespace","values":["amznfsxb2c3d4e5.corp.example.com"]}],"all_answer_value":true}

Otherwise the last line is FSXMIGRATE-ERROR <message> with exit code 1. See README.md beside this file.

.PARAMETER Action
Read, Set or Check.

.PARAMETER Name
The DFS folder's path: \\<domain or server>\<namespace>\<folder>[\...].

.PARAMETER SharePath
The path below the file server that the folder's target names, e.g. share\data.

.PARAMETER Value
Set and Check: the DNS name of the file system the folder should lead to.

.PARAMETER Ttl
Set: the folder's referral TTL in seconds.

.EXAMPLE
.\dfs.ps1 -Action Set -Name '\\corp.example.com\files\data' -SharePath 'share\data' -Value amznfsxb2c3d4e5.corp.example.com -Ttl 60
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [string] $Action,

    [Parameter(Mandatory = $true)]
    [string] $Name,

    [Parameter(Mandatory = $true)]
    [string] $SharePath,

    [string] $Value = '',

    [int] $Ttl = -1
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

# Straight to stdout, in the order of the calls (the RESULT or ERROR line must come last).
function Write-Line([string] $Text) {
    [Console]::Out.WriteLine($Text)
}

# The JSON as ASCII (\u escapes) so it survives the OEM code page of a redirected powershell.exe.
function ConvertTo-AsciiJson($Value) {
    $json = ConvertTo-Json -InputObject $Value -Compress -Depth 6
    return [regex]::Replace($json, '[^\x00-\x7F]', [System.Text.RegularExpressions.MatchEvaluator] {
            param($m)
            '\u{0:x4}' -f [int][char]$m.Value
        })
}

# A property the cmdlets did not fill must not stop the script under StrictMode.
function Get-Prop($Object, [string] $Property) {
    if ($null -eq $Object) { return }
    $p = $Object.PSObject.Properties[$Property]
    if ($null -eq $p -or $null -eq $p.Value) { return }
    $p.Value
}

# The server part of a target path \\server\share\..., lowercase.
function Get-TargetServer([string] $TargetPath) {
    $parts = @($TargetPath.TrimStart('\').Split('\') | Where-Object { $_ -ne '' })
    if ($parts.Count -eq 0) { return '' }
    return $parts[0].ToLowerInvariant()
}

# Access denied, as the DFSN cmdlets report it.
function Test-AccessDenied($ErrorRecord) {
    $e = $ErrorRecord.Exception
    while ($null -ne $e) {
        if ($e -is [System.UnauthorizedAccessException]) { return $true }
        $e = $e.InnerException
    }
    if ([string]$ErrorRecord.CategoryInfo.Category -eq 'PermissionDenied') { return $true }
    return ([string]$ErrorRecord) -match 'Access is denied|Access denied'
}

# The folder's targets as a List of ordered dictionaries (path, state), in the order DFS gives them; $null
# when the folder does not exist.
function Get-Targets {
    try {
        $found = @(Get-DfsnFolderTarget -Path $folder)
    }
    catch {
        if (([string]$_) -match 'not found|cannot find|does not exist|0x80070490|0x80070002') { return $null }
        throw
    }
    $list = [System.Collections.Generic.List[object]]::new()
    foreach ($t in $found) {
        $list.Add([ordered]@{ path = [string](Get-Prop $t 'TargetPath'); state = [string](Get-Prop $t 'State') })
    }
    return , $list
}

# The folder as fsx-migrate reads a record: values = the servers of its ONLINE targets.
function ConvertTo-RecordResult($Targets) {
    if ($null -eq $Targets) { return $null }
    $values = [System.Collections.Generic.List[string]]::new()
    foreach ($t in $Targets) {
        if ($t['state'] -eq 'Online') { $values.Add((Get-TargetServer $t['path'])) }
    }
    $ttl = $null
    $info = Get-DfsnFolder -Path $folder
    $seconds = Get-Prop $info 'TimeToLiveSec'
    if ($null -ne $seconds) { $ttl = [int]$seconds }
    return [ordered]@{ name = $folder; type = 'DFS'; values = $values; ttl = $ttl; targets = $Targets }
}

function Format-Targets($Targets) {
    if ($null -eq $Targets -or $Targets.Count -eq 0) { return 'no target' }
    return (@($Targets | ForEach-Object { '{0} ({1})' -f $_['path'], $_['state'] }) -join ', ')
}

$stage = 'checking the arguments'
$change = $null
$changes = [System.Collections.Generic.List[string]]::new()
$act = ''
$exitCode = 0
$lastLine = ''
try {
    $act = (Get-Culture).TextInfo.ToTitleCase($Action.Trim().ToLowerInvariant())
    if ($act -notin @('Read', 'Set', 'Check')) { throw "-Action must be Read, Set or Check, not '$Action'" }
    $folder = $Name.Trim().TrimEnd('\')
    $parts = @($folder.TrimStart('\').Split('\') | Where-Object { $_ -ne '' })
    if (-not $folder.StartsWith('\\') -or $parts.Count -lt 3 -or $folder.Contains("'")) {
        throw "-Name '$Name' is not a DFS folder path (\\domain\namespace\folder)"
    }
    $below = $SharePath.Trim().Trim('\')
    if ($below -eq '' -or $below.Contains("'") -or $below.StartsWith('\\')) {
        throw "-SharePath '$SharePath' is not a path below a file server (such as share\data)"
    }
    $target = ''
    if ($act -ne 'Read') {
        $target = $Value.Trim().TrimEnd('.').ToLowerInvariant()
        $label = '[a-z0-9]([a-z0-9-]*[a-z0-9])?'
        if ($target -notmatch "^$label(\.$label)+$") { throw "-Value '$Value' is not a file system's DNS name" }
    }
    if ($act -eq 'Set' -and $Ttl -lt 0) { throw '-Action Set needs -Ttl (seconds)' }

    $stage = 'loading the DFSN module'
    if (-not (Get-Module -ListAvailable -Name DFSN)) {
        throw 'the DFS Namespaces PowerShell module (DFSN) is not installed here: run Install-WindowsFeature RSAT-DFS-Mgmt-Con'
    }
    Import-Module DFSN

    $stage = "reading the targets of $folder"
    $before = Get-Targets
    Write-Line "fsx-migrate dfs $act on ${folder}: $(Format-Targets $before)"

    if ($act -eq 'Read') {
        $lastLine = 'FSXMIGRATE-RESULT ' + (ConvertTo-AsciiJson ([ordered]@{ record = (ConvertTo-RecordResult $before) }))
    }
    elseif ($act -eq 'Check') {
        if ($null -eq $before) { throw "the DFS folder $folder does not exist" }
        $online = @($before | Where-Object { $_['state'] -eq 'Online' } | ForEach-Object { Get-TargetServer $_['path'] })
        $values = [System.Collections.Generic.List[string]]::new()
        foreach ($v in $online) { $values.Add($v) }
        $all = ($online.Count -eq 1 -and $online[0] -eq $target)
        $servers = [System.Collections.Generic.List[object]]::new()
        $servers.Add([ordered]@{ server = 'namespace'; values = $values })
        Write-Line ("Online: {0}; only {1}: {2}" -f ($online -join ', '), $target, $all)
        $lastLine = 'FSXMIGRATE-RESULT ' + (ConvertTo-AsciiJson ([ordered]@{ servers = $servers; all_answer_value = $all }))
    }
    else {
        if ($null -eq $before) {
            throw "the DFS folder $folder does not exist; this script creates no namespace or folder"
        }
        $newPath = "\\$target\$below"
        $stage = "bringing $newPath online for $folder"
        $existing = @($before | Where-Object { $_['path'] -eq $newPath })
        if ($existing.Count -eq 0) {
            New-DfsnFolderTarget -Path $folder -TargetPath $newPath -State Online | Out-Null
            $changes.Add("added the target $newPath (online)")
        }
        elseif ($existing[0]['state'] -ne 'Online') {
            Set-DfsnFolderTarget -Path $folder -TargetPath $newPath -State Online | Out-Null
            $changes.Add("set $newPath online")
        }
        # The new target is online before the old ones go offline: the folder always has one.
        foreach ($t in $before) {
            if ($t['path'] -ne $newPath -and $t['state'] -eq 'Online') {
                $stage = "setting $($t['path']) offline"
                Set-DfsnFolderTarget -Path $folder -TargetPath $t['path'] -State Offline | Out-Null
                $changes.Add("set $($t['path']) offline")
            }
        }
        $stage = "setting the referral TTL of $folder"
        $current = Get-Prop (Get-DfsnFolder -Path $folder) 'TimeToLiveSec'
        if ($null -eq $current -or [int]$current -ne $Ttl) {
            Set-DfsnFolder -Path $folder -TimeToLiveSec $Ttl | Out-Null
            $changes.Add("set the referral TTL to $Ttl s")
        }
        if ($changes.Count -gt 0) { $change = $changes -join '; ' }

        $stage = "reading the targets of $folder back"
        $after = Get-Targets
        $record = ConvertTo-RecordResult $after
        $ok = $null -ne $record -and $record['values'].Count -eq 1 -and $record['values'][0] -eq $target
        if (-not $ok) { throw "after the change $folder has $(Format-Targets $after), not $newPath alone online" }
        Write-Line ("Done: {0}" -f $(if ($null -eq $change) { 'nothing to change' } else { $change }))
        $lastLine = 'FSXMIGRATE-RESULT ' + (ConvertTo-AsciiJson ([ordered]@{ record = $record; changed = ($changes.Count -gt 0) }))
    }
}
catch {
    $message = "{0}: {1}" -f $stage, $_.ToString().Trim()
    if ($message -notmatch '[.!?)]$') { $message += '.' }
    if (Test-AccessDenied $_) {
        $who = [Security.Principal.WindowsIdentity]::GetCurrent()
        $identity = $who.Name
        if ($who.User.Value -eq 'S-1-5-18') { $identity += " (on the network the instance's computer account, $env:COMPUTERNAME`$)" }
        $message += " ACCESS DENIED: $identity must administer the namespace (Domain Admins, or the right delegated on the namespace)."
    }
    if ($changes.Count -gt 0) {
        $message += " Changed before the error: $($changes -join '; '). Running the script again finishes the switch."
    }
    elseif ($act -eq 'Set') {
        $message += ' Nothing was changed.'
    }
    $lastLine = 'FSXMIGRATE-ERROR ' + ($message -replace '\s*[\r\n]+\s*', ' ')
    $exitCode = 1
}

Write-Line $lastLine
[Console]::Out.Flush()
exit $exitCode
