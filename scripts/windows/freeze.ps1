<#
.SYNOPSIS
Freezes an FSx for Windows File Server file system for the cutover: every share turns read-only for all but
the kept accounts, and the other accounts' SMB sessions and open files are closed.

.DESCRIPTION
Runs on a domain-joined Windows host (fsx-migrate sends it through SSM AWS-RunPowerShellScript) and talks to
the file system's Windows Remote PowerShell endpoint (the FSxRemoteAdmin session configuration).

1. Records every share's access entries (Get-FSxSmbShareAccess), before changing anything.
2. For every account with an Allow entry of Full or Change that is not a kept account:
   Revoke-FSxSmbShareAccess, then Grant-FSxSmbShareAccess -AccessRight Read. Deny entries are left alone.
3. Closes the open files and SMB sessions of every account that is not a kept account.
4. Counts the SMB sessions left that are not a kept account's.

Standard output: progress lines, then as the very last line either
    FSXMIGRATE-RESULT {"shares":[...],"changed":N,"sessions_left":N}
with "shares" the access entries as they were BEFORE the freeze (what unfreeze.ps1 takes back), or
    FSXMIGRATE-ERROR <message>
with exit code 1. After an error, the script has put back the entries it had already changed (the message
says whether that worked). See README.md beside this file.

.PARAMETER Endpoint
The file system's Windows Remote PowerShell endpoint (DescribeFileSystems:
WindowsConfiguration.RemoteAdministrationEndpoint), e.g. amznfsxa1b2c3d4.corp.example.com.

.PARAMETER KeepAccounts
Accounts that keep their access and their sessions, as the FSx cmdlets name them (DOMAIN\name, e.g.
CORP\svc-datasync: the DataSync user must be one, or the final sync loses its sessions). Compared without
regard to case.

.EXAMPLE
.\freeze.ps1 -Endpoint amznfsxa1b2c3d4.corp.example.com -KeepAccounts 'CORP\svc-datasync','CORP\AWS Delegated FSx Administrators'
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [string] $Endpoint,

    [Parameter(Mandatory = $true)]
    [string[]] $KeepAccounts
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

# Straight to stdout: no host formatting that could wrap a long line, and the order of the lines is the
# order of the calls (the RESULT or ERROR line must come last).
function Write-Line([string] $Text) {
    [Console]::Out.WriteLine($Text)
}

# A redirected powershell.exe writes stdout in the OEM code page, which mangles characters outside it (an
# account named Jose with an accent would come back with a '?'); as \u escapes the JSON survives any code page.
function ConvertTo-AsciiJson($Value) {
    $json = ConvertTo-Json -InputObject $Value -Compress -Depth 5
    return [regex]::Replace($json, '[^\x00-\x7F]', [System.Text.RegularExpressions.MatchEvaluator] {
            param($m)
            '\u{0:x4}' -f [int][char]$m.Value
        })
}

# Objects come back from the remote session deserialized; a property the FSx cmdlets do not send must not
# stop the script under StrictMode.
function Get-Prop($Object, [string] $Name) {
    $property = $Object.PSObject.Properties[$Name]
    if ($null -eq $property -or $null -eq $property.Value) { return }
    $property.Value
}

# AccessControlType and AccessRight are enums of MSFT_SmbShareAccessControlEntry. Through remoting they
# arrive as their names, or as the bare numbers if the enum type is lost on the way; both are accepted.
# Anything else stops the freeze: an entry recorded wrongly could not be restored.
$ControlNames = @{ '0' = 'Allow'; '1' = 'Deny'; 'Allow' = 'Allow'; 'Deny' = 'Deny' }
$RightNames = @{ '0' = 'Full'; '1' = 'Change'; '2' = 'Read'; '3' = 'Custom'
    'Full' = 'Full'; 'Change' = 'Change'; 'Read' = 'Read'; 'Custom' = 'Custom' }
function Get-Name([hashtable] $Names, $Value, [string] $What) {
    $key = ([string]$Value).Trim()
    if ($Names.ContainsKey($key)) { return $Names[$key] }
    throw "unexpected $What '$key'"
}

# Of several Allow entries an account has on a share, the one that grants the most (Custom is unknown).
$RightRank = @{ 'Read' = 1; 'Change' = 2; 'Full' = 3 }
function Get-StrongestRight($Rights) {
    $best = $null
    foreach ($r in $Rights) {
        if ($RightRank.ContainsKey($r) -and ($null -eq $best -or $RightRank[$r] -gt $RightRank[$best])) { $best = $r }
    }
    $best
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

# Administrative shares (ADMIN$, IPC$, the drive shares such as D$) are skipped: they are not the users'
# shares, the file system manages their access, and their names end in '$'. A share the users created with
# a name ending in '$' (hidden from browsing, e.g. profiles$) is an ordinary share and is frozen like the rest.
function Test-AdministrativeShare($Share, [string] $Name) {
    if (-not $Name.EndsWith('$')) { return $false }
    if ((Get-Prop $Share 'Special') -eq $true) { return $true }
    return $Name -match '^(ADMIN|IPC|PRINT|[A-Za-z])\$$'
}

# Accounts are compared as "domain\name" with the domain cut to its first label and without regard to case:
# fsx-migrate may name the DataSync user with the DNS domain (corp.example.com\svc-datasync), while the share
# entries and sessions name it with the NetBIOS domain (CORP\svc-datasync). A NetBIOS name that is not the
# DNS name's first label must be given as such in KeepAccounts.
function Get-AccountKey([string] $Account) {
    $account = $Account.Trim()
    $slash = $account.IndexOf('\')
    if ($slash -lt 0) { return $account.ToLowerInvariant() }
    $domain = $account.Substring(0, $slash).Split('.')[0]
    return ('{0}\{1}' -f $domain, $account.Substring($slash + 1)).ToLowerInvariant()
}

$keep = [System.Collections.Generic.HashSet[string]]::new([StringComparer]::OrdinalIgnoreCase)
foreach ($account in $KeepAccounts) {
    if ($account.Trim()) { [void]$keep.Add((Get-AccountKey $account)) }
}
# The file server's own SYSTEM account: no client signs in as it (a remote machine's SYSTEM arrives as the
# machine account), so making it read-only would stop no user and could get in the way of the file system.
[void]$keep.Add((Get-AccountKey 'NT AUTHORITY\SYSTEM'))
function Test-Kept([string] $Account) {
    return $keep.Contains((Get-AccountKey $Account))
}

$session = $null
$stage = 'starting'
# Accounts already made read-only, for the rollback after an error: share, account, recorded Allow rights.
$changes = [System.Collections.Generic.List[object]]::new()
$lastLine = $null
$exitCode = 0

try {
    Write-Line ("fsx-migrate freeze on {0}; kept accounts: {1}" -f $Endpoint, ($KeepAccounts -join ', '))

    # One session for every call: one Kerberos logon instead of one per Invoke-Command. The en-US UI
    # culture avoids the localization error the FSx endpoint gives some clients (FSx troubleshooting guide).
    $stage = "opening an FSxRemoteAdmin session on $Endpoint"
    $session = New-PSSession -ComputerName $Endpoint -ConfigurationName FSxRemoteAdmin `
        -SessionOption (New-PSSessionOption -UICulture 'en-US')

    # The endpoint is a restricted session (the FSx commands and little of the language): each script
    # block is a single FSx command, values go in with $Using: (as in the FSx guide), all logic runs here.
    $stage = 'listing the shares'
    $allShares = @(Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock { Get-FSxSmbShare })

    # 1. Record everything before changing anything.
    $snapshot = [System.Collections.Generic.List[object]]::new()
    $skipped = [System.Collections.Generic.List[string]]::new()
    foreach ($share in $allShares) {
        $name = [string](Get-Prop $share 'Name')
        if (Test-AdministrativeShare $share $name) { $skipped.Add($name); continue }
        $stage = "reading the access entries of share '$name'"
        $entries = @(Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                Get-FSxSmbShareAccess -Name $Using:name
            })
        $access = [System.Collections.Generic.List[object]]::new()
        foreach ($entry in $entries) {
            $access.Add([ordered]@{
                    account = [string](Get-Prop $entry 'AccountName')
                    control = Get-Name $ControlNames (Get-Prop $entry 'AccessControlType') "access control type on share '$name'"
                    right   = Get-Name $RightNames (Get-Prop $entry 'AccessRight') "access right on share '$name'"
                })
        }
        $snapshot.Add([ordered]@{ name = $name; path = [string](Get-Prop $share 'Path'); access = $access })
    }
    if ($skipped.Count -gt 0) {
        Write-Line ("Skipped administrative shares: {0}" -f ($skipped -join ', '))
    }

    # 2. Read-only for every account that can write and is not kept. Revoke first, so that the account ends
    # with Read alone whatever Grant does with the entries already there (its help says it adds an entry).
    foreach ($share in $snapshot) {
        $rightsByAccount = Group-AllowRights $share.access
        $madeReadOnly = [System.Collections.Generic.List[string]]::new()
        foreach ($account in $rightsByAccount.Keys) {
            $rights = $rightsByAccount[$account]
            if (Test-Kept $account) { continue }
            if (-not ($rights.Contains('Full') -or $rights.Contains('Change'))) { continue }
            $shareName = $share.name
            $changes.Add([ordered]@{ share = $shareName; account = $account; rights = $rights })
            $stage = "making share '$shareName' read-only for $account"
            $null = Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                Revoke-FSxSmbShareAccess -Name $Using:shareName -AccountName $Using:account -Force
            }
            $null = Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                Grant-FSxSmbShareAccess -Name $Using:shareName -AccountName $Using:account -AccessRight Read -Force
            }
            $note = "$account (was $(Get-StrongestRight $rights))"
            # Revoke removes every Allow entry of the account, a Custom one too, and Grant cannot recreate it.
            if ($rights.Contains('Custom')) { $note += ' [its Custom entry is lost]' }
            $madeReadOnly.Add($note)
        }
        $line = "Share '{0}' ({1}): {2} access {3}" -f $share.name, $share.path, $share.access.Count, `
            $(if ($share.access.Count -eq 1) { 'entry' } else { 'entries' })
        if ($madeReadOnly.Count -gt 0) { $line += '; read-only now: ' + ($madeReadOnly -join ', ') }
        Write-Line $line
    }

    # 3. Share permissions are checked when a client connects to a share, so a client already connected keeps
    # writing until its session is closed. The files are closed as well as the sessions: a handle on a
    # continuously available share is meant to outlive the loss of its session. A file or session that ends
    # between the listing and the closing is no error; the count in step 4 is what tells.
    $stage = 'listing the open files'
    $files = @(Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock { Get-FSxSmbOpenFile })
    $fileIds = @($files | Where-Object { -not (Test-Kept ([string](Get-Prop $_ 'ClientUserName'))) } |
            ForEach-Object { [uint64](Get-Prop $_ 'FileId') })
    $fileErrors = @()
    if ($fileIds.Count -gt 0) {
        $stage = 'closing the open files'
        $null = Invoke-Command -Session $session -ErrorAction SilentlyContinue -ErrorVariable fileErrors -ScriptBlock {
            Close-FSxSmbOpenFile -FileId $Using:fileIds -Confirm:$false
        }
    }

    $stage = 'listing the SMB sessions'
    $sessions = @(Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock { Get-FSxSmbSession })
    $sessionIds = @($sessions | Where-Object { -not (Test-Kept ([string](Get-Prop $_ 'ClientUserName'))) } |
            ForEach-Object { [uint64](Get-Prop $_ 'SessionId') })
    $sessionErrors = @()
    if ($sessionIds.Count -gt 0) {
        $stage = 'closing the SMB sessions'
        $null = Invoke-Command -Session $session -ErrorAction SilentlyContinue -ErrorVariable sessionErrors -ScriptBlock {
            Close-FSxSmbSession -SessionId $Using:sessionIds -Confirm:$false
        }
    }
    $line = "Closed {0} open files and {1} SMB sessions of accounts not kept (sessions of kept accounts left open: {2})" -f `
        $fileIds.Count, $sessionIds.Count, ($sessions.Count - $sessionIds.Count)
    if ($fileErrors.Count + $sessionErrors.Count -gt 0) {
        $first = @($fileErrors) + @($sessionErrors) | Select-Object -First 1
        $line += "; {0} could not be closed (already gone?), the first: {1}" -f `
            ($fileErrors.Count + $sessionErrors.Count), ($first -replace '\s*[\r\n]+\s*', ' ')
    }
    Write-Line $line

    # 4. Clients reconnect on their own (read-only now), so a few sessions may be back already.
    $stage = 'counting the SMB sessions left'
    $left = @(Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock { Get-FSxSmbSession } |
            Where-Object { -not (Test-Kept ([string](Get-Prop $_ 'ClientUserName'))) })
    $line = "SMB sessions left that are not a kept account's: {0}" -f $left.Count
    if ($left.Count -gt 0) {
        $who = @($left | Select-Object -First 10 | ForEach-Object {
                '{0} from {1}' -f (Get-Prop $_ 'ClientUserName'), (Get-Prop $_ 'ClientComputerName')
            })
        $line += ' (' + ($who -join ', ') + $(if ($left.Count -gt 10) { ', ...' } else { '' }) + ')'
    }
    Write-Line $line

    $result = [ordered]@{ shares = $snapshot; changed = $changes.Count; sessions_left = $left.Count }
    $lastLine = 'FSXMIGRATE-RESULT ' + (ConvertTo-AsciiJson $result)
}
catch {
    # The error as PowerShell shows it (with the remote computer's name for remoting errors).
    $message = "{0}: {1}" -f $stage, $_.ToString()
    # Leave the shares as they were found: the RESULT line that would have recorded them is not written.
    if ($changes.Count -eq 0) {
        $message += ' No share access was changed.'
    }
    elseif ($null -eq $session -or $session.State -ne 'Opened') {
        $message += " ROLLBACK IMPOSSIBLE (the session is lost): {0} share entries are still read-only: {1}" -f `
            $changes.Count, (($changes | ForEach-Object { "$($_.account) on '$($_.share)' (was $(Get-StrongestRight $_.rights))" }) -join ', ')
    }
    else {
        $failed = [System.Collections.Generic.List[string]]::new()
        foreach ($change in $changes) {
            $shareName = $change.share
            $account = $change.account
            $right = Get-StrongestRight $change.rights
            try {
                $null = Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                    Revoke-FSxSmbShareAccess -Name $Using:shareName -AccountName $Using:account -Force
                }
                $null = Invoke-Command -Session $session -ErrorAction Stop -ScriptBlock {
                    Grant-FSxSmbShareAccess -Name $Using:shareName -AccountName $Using:account -AccessRight $Using:right -Force
                }
            }
            catch {
                $failed.Add("$account on '$shareName' (was $right)")
            }
        }
        if ($failed.Count -eq 0) {
            $message += " Rolled back: the {0} share entries made read-only are as they were." -f $changes.Count
        }
        else {
            $message += " ROLLBACK INCOMPLETE: {0} of {1} share entries are still read-only: {2}" -f `
                $failed.Count, $changes.Count, ($failed -join ', ')
        }
    }
    $lastLine = 'FSXMIGRATE-ERROR ' + ($message -replace '\s*[\r\n]+\s*', ' ')
    $exitCode = 1
}
finally {
    if ($null -ne $session) { Remove-PSSession -Session $session -ErrorAction SilentlyContinue }
}

Write-Line $lastLine
[Console]::Out.Flush()
exit $exitCode
