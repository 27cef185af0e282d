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

-Action Check (needs -Value): says whether \\<Value>\... is the folder's only online target on EVERY namespace
server, because each root target server keeps its own copy of the namespace and picks up a change on its own
schedule (clients also cache referrals for the folder's TTL, which is why fsx-migrate lowers it first). The
namespace root is the first two components of -Name (\\<domain>\<namespace>). Get-DfsnRoot gives its type;
for a domain-based namespace Get-DfsnRootTarget -Path \\<domain>\<namespace> lists its root targets
(\\<server>\<share>), and for each one the folder's targets are read through that server's path form:
Get-DfsnFolderTarget -Path \\<server>\<namespace>\<folder>[\...]. A server whose root target is Offline is
skipped (its entry says so, with no values); a server that cannot be read gets its error in its entry and
does not answer the value; a server on which the folder does not exist answers no value ("found":false).
all_answer_value is true only if at least one server was read, none failed, and every server read has exactly
one online target, on \\<Value>. If the folder exists on none of the servers read, that is an error, as before.
    FSXMIGRATE-RESULT {"servers":[{"server":"dfs1.corp.example.com","state":"Online","values":["amznfsxb2c3d4e5.corp.example.com"]},{"server":"dfs2.corp.example.com","state":"Online","error":"..."},{"server":"dfs3.corp.example.com","state":"Offline","skipped":"..."}],"all_answer_value":false}
Server names are the root targets' server part, lower-cased, as the namespace names them (NetBIOS or DNS).
When the namespace is not domain-based (a stand-alone namespace, -Name in server form), or its type or its root
targets cannot be read, or it lists none, Check falls back to ONE read of the folder's targets through -Name
as given, reported as the one server "namespace":
    FSXMIGRATE-RESULT {"servers":[{"server":"namespace","values":["amznfsxb2c3d4e5.corp.example.com"]}],"all_answer_value":true}
Not confirmed on a live namespace (no Windows host to try them on): that Get-DfsnFolderTarget accepts a
domain-based folder in the server form \\<server>\<namespace>\<folder> and then answers from THAT server's copy
of the namespace rather than from Active Directory (the DFSN CIM provider documents the server form for a
namespace root, "\\ServerName\DFSName", for domain-based namespaces too); that a root target's share name is the
namespace's name (the server path is built with the namespace's name, not the root target's share); the
text of Get-DfsnRoot's Type (matched as *Domain*, e.g. "Domain V2"; anything else is taken as stand-alone);
and the texts of the cmdlets' errors (a missing folder is recognised by "not found", "cannot find", "does not
exist", 0x80070490 or 0x80070002 in the message).

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
# when the folder does not exist. -Path: the folder as -Name gives it, or (Check) as one namespace server
# serves it; -OneServer: a server that cannot be reached ("The network path was not found") is an error, not
# a missing folder.
function Get-Targets([string] $Path = $folder, [switch] $OneServer) {
    try {
        $found = @(Get-DfsnFolderTarget -Path $Path)
    }
    catch {
        $text = [string]$_
        $unreachable = $OneServer -and $text -match 'network path|network name|0x80070035|0x80070043'
        if (-not $unreachable -and $text -match 'not found|cannot find|does not exist|0x80070490|0x80070002') { return $null }
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

# The servers of the ONLINE targets, lowercase, in the order DFS gives them.
function Get-OnlineServers($Targets) {
    $values = [System.Collections.Generic.List[string]]::new()
    foreach ($t in $Targets) {
        if ($t['state'] -eq 'Online') { $values.Add((Get-TargetServer $t['path'])) }
    }
    return , $values
}

# Whether one server's online targets are \\<Value>\... alone.
function Test-AnswersValue($Values) {
    return ($Values.Count -eq 1 -and $Values[0] -eq $target)
}

# A cmdlet's error on one line.
function Format-Error($ErrorRecord) {
    return (([string]$ErrorRecord).Trim() -replace '\s*[\r\n]+\s*', ' ')
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

    if ($act -ne 'Check') {
        $stage = "reading the targets of $folder"
        $before = Get-Targets
        Write-Line "fsx-migrate dfs $act on ${folder}: $(Format-Targets $before)"
    }

    if ($act -eq 'Read') {
        $lastLine = 'FSXMIGRATE-RESULT ' + (ConvertTo-AsciiJson ([ordered]@{ record = (ConvertTo-RecordResult $before) }))
    }
    elseif ($act -eq 'Check') {
        # Each namespace server (root target) answers from its own copy of the namespace: ask each one.
        $namespaceRoot = '\\{0}\{1}' -f $parts[0], $parts[1]
        $rest = ($parts[2..($parts.Count - 1)] -join '\')
        $stage = "listing the namespace servers of $namespaceRoot"
        $roots = $null
        $why = ''
        try {
            $type = [string](Get-Prop (Get-DfsnRoot -Path $namespaceRoot) 'Type')
            if ($type -notlike '*Domain*') {
                $why = "$namespaceRoot is not a domain-based namespace (type '$type')"
            }
            else {
                $roots = @(Get-DfsnRootTarget -Path $namespaceRoot | ForEach-Object {
                        [ordered]@{ path = [string](Get-Prop $_ 'TargetPath'); state = [string](Get-Prop $_ 'State') }
                    })
                if ($roots.Count -eq 0) {
                    $why = "Get-DfsnRootTarget lists no root target of $namespaceRoot"
                    $roots = $null
                }
            }
        }
        catch {
            $why = "the namespace servers of $namespaceRoot cannot be listed ($(Format-Error $_))"
            $roots = $null
        }

        $answers = [System.Collections.Generic.List[object]]::new()
        if ($null -eq $roots) {
            # Stand-alone (or unlisted) namespace: one read, as -Name serves it.
            Write-Line "fsx-migrate dfs Check on ${folder}: $why; reading its targets once, through $folder"
            $stage = "reading the targets of $folder"
            $targets = Get-Targets
            if ($null -eq $targets) { throw "the DFS folder $folder does not exist" }
            $values = Get-OnlineServers $targets
            $allMatch = Test-AnswersValue $values
            $answers.Add([ordered]@{ server = 'namespace'; values = $values })
            Write-Line "namespace: $(Format-Targets $targets)"
            Write-Line ("Online: {0}; only {1}: {2}" -f ($values -join ', '), $target, $allMatch)
        }
        else {
            Write-Line ("fsx-migrate dfs Check that {0} is the only online target of {1} on {2} namespace servers: {3}" -f `
                    $target, $folder, $roots.Count, (($roots | ForEach-Object { '{0} ({1})' -f $_['path'], $_['state'] }) -join ', '))
            $allMatch = $true
            $read = 0
            $matching = 0
            $missing = 0
            foreach ($root in $roots) {
                $server = Get-TargetServer $root['path']
                if ($root['state'] -eq 'Offline') {
                    $answers.Add([ordered]@{ server = $server; state = $root['state']; skipped = "its root target $($root['path']) is offline" })
                    Write-Line "${server}: skipped: its root target $($root['path']) is offline"
                    continue
                }
                $serverPath = '\\{0}\{1}\{2}' -f $server, $parts[1], $rest
                $stage = "reading the targets of $serverPath"
                try {
                    $targets = Get-Targets $serverPath -OneServer
                }
                catch {
                    $message = Format-Error $_
                    $answers.Add([ordered]@{ server = $server; state = $root['state']; error = $message })
                    $allMatch = $false
                    Write-Line "${server}: not read: $message"
                    continue
                }
                $read++
                $entry = [ordered]@{ server = $server; state = $root['state']; values = $null }
                if ($null -eq $targets) {
                    $missing++
                    $entry['found'] = $false
                    $targets = [System.Collections.Generic.List[object]]::new()
                }
                $values = Get-OnlineServers $targets
                $entry['values'] = $values
                $answers.Add($entry)
                $answered = Test-AnswersValue $values
                if ($answered) { $matching++ } else { $allMatch = $false }
                if ($entry.Contains('found')) { Write-Line "${server}: no folder $serverPath" }
                else {
                    Write-Line ("{0}: {1}{2}" -f $server, (Format-Targets $targets), `
                            $(if ($answered) { '' } else { " - not $target alone yet" }))
                }
            }
            $stage = "checking the targets of $folder"
            if ($read -gt 0 -and $missing -eq $read) { throw "the DFS folder $folder does not exist (on any namespace server read)" }
            if ($read -eq 0) { $allMatch = $false }
            Write-Line ("{0} of {1} namespace servers answer {2} ({3} read, {4} skipped offline, {5} not read)" -f `
                    $matching, $roots.Count, $target, $read, `
                    @($answers | Where-Object { $_.Contains('skipped') }).Count, @($answers | Where-Object { $_.Contains('error') }).Count)
        }
        $lastLine = 'FSXMIGRATE-RESULT ' + (ConvertTo-AsciiJson ([ordered]@{ servers = $answers; all_answer_value = $allMatch }))
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
